"""The production deployment (docker-compose.yml, Dockerfile, deploy/) checked against the code.

No Docker engine runs here, so the compose file cannot be started; instead every claim it makes
about the application is checked against the application itself: each command parses with the
real `crsmon` parser, each CRSMON_* variable is one the component reads (recorded while the
component builds its settings), Prometheus scrapes the port each component serves /metrics on,
and every metric a Grafana panel queries is in one of the project's registries.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from crsmon.cli import COMMANDS, parser

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
GRAFANA_DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
METRICS_COMMANDS = {"worker", "dispatch", "dashboard", "ingest"}


# -- reading the compose file as compose does ---------------------------------------------

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<rest>[^}]*))?\}")


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, with `env` as the .env."""
    env = env or {}
    if isinstance(value, str):

        def replace(found: re.Match) -> str:
            name, op = found["name"], found["op"]
            if env.get(name):
                return env[name]
            if op == ":-":
                return found["rest"]
            if op == ":?":
                return f"<{name}>"  # required: compose refuses to start without it
            return ""

        return _VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def crsmon_services() -> dict[str, dict[str, Any]]:
    """The services that run the application image."""
    return {
        name: service
        for name, service in SERVICES.items()
        if "build" in service or str(service.get("image", "")).split(":")[0].startswith("${CRSMON_IMAGE")
    }


def arguments(service: dict[str, Any]):
    return parser().parse_args(interpolate(service["command"]))


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in interpolate(service.get("environment") or {}).items()}


def host_file(service: dict[str, Any], container_path: str) -> Path:
    """The repository file a service mounts at `container_path`."""
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if target == container_path:
            return REPO / source
    raise AssertionError(f"nothing is mounted at {container_path}")


class ReadingEnvironment(dict):
    """os.environ that remembers which names were asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


class Component:
    """What one crsmon service is, built from its command and environment by the code itself."""

    def __init__(self, name: str, service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        self.name, self.service = name, service
        self.args = arguments(service)
        self.declared = environment(service)
        self.env = ReadingEnvironment(self.declared)
        monkeypatch.setattr(os, "environ", self.env)
        self.listen_host, self.metrics_port, self.settings = self._settings()
        self.reads = set(self.env.read) | self._configured_names()

    def _settings(self) -> tuple[str | None, int | None, Any]:
        command, args = self.args.command, self.args
        from kafka_client.security import kafka_client_options_from_env

        if command == "worker":
            from streams.settings import WorkerSettings

            settings = WorkerSettings()
            return settings.web_host, settings.web_port, settings
        if command == "dashboard":
            from alerting.dashboard.settings import DashboardSettings

            settings = DashboardSettings()
            kafka_client_options_from_env()
            return args.host or settings.host, args.port or settings.port, settings
        if command == "ingest":
            from gateway.settings import IngestSettings

            settings = IngestSettings()
            kafka_client_options_from_env()
            return args.host or settings.host, args.http_port or settings.http_port, settings
        if command == "dispatch":
            from alerting.dispatch.config_file import load_config

            config = load_config(host_file(self.service, args.config))
            kafka_client_options_from_env()
            return config.http.host, args.port or config.http.port, config
        return None, None, None

    def _configured_names(self) -> set[str]:
        """Variables the dispatcher's configuration file names (token, secrets, routing keys)."""
        if self.args.command != "dispatch":
            return set()
        config = self.settings
        names = {config.http.token_env}
        for receiver in config.receivers.values():
            names |= {receiver.secrets_env, getattr(receiver, "routing_key_env", None)}
        return {name for name in names if name}


@pytest.fixture
def components(monkeypatch: pytest.MonkeyPatch) -> dict[str, Component]:
    return {name: Component(name, service, monkeypatch) for name, service in crsmon_services().items()}


# -- the compose file's structure ------------------------------------------------------------


def test_every_service_has_an_image_or_a_build_and_depends_only_on_services_that_exist():
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
        depends = service.get("depends_on") or {}
        for target in depends if isinstance(depends, (list, dict)) else []:
            assert target in SERVICES, f"{name} depends on {target}, which is not a service"
        for target, condition in depends.items() if isinstance(depends, dict) else []:
            if condition.get("condition") == "service_completed_successfully":
                assert SERVICES[target].get("restart") == "no", f"{target} must run once for {name} to start"
            if condition.get("condition") == "service_healthy":
                assert "healthcheck" in SERVICES[target], (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )


def test_published_ports_bind_loopback_unless_configured_and_match_what_the_service_exposes():
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            host, published, target = interpolate(mapping).rsplit(":", 2)
            assert host == "127.0.0.1", f"{name} publishes {mapping} beyond loopback by default"
            assert published.isdigit() and target.isdigit(), mapping
            assert re.fullmatch(r"\$\{CRSMON_PUBLISH_HOST:-127\.0\.0\.1\}", mapping.rsplit(":", 2)[0]), (
                f"{name}: publish through CRSMON_PUBLISH_HOST so one setting opens the deployment"
            )
            if "expose" in service:
                assert target in {str(port) for port in service["expose"]}, (
                    f"{name} publishes {target} but does not expose it"
                )


def test_every_application_service_runs_a_real_crsmon_subcommand():
    services = crsmon_services()
    assert {arguments(service).command for service in services.values()} >= METRICS_COMMANDS
    for name, service in services.items():
        args = arguments(service)  # argparse exits (fails the test) on an unknown command or option
        assert args.command in COMMANDS, name
    workers = [name for name, service in services.items() if arguments(service).command == "worker"]
    assert len(workers) >= 2, "two workers share the load and take over from each other"


def test_application_services_set_only_environment_their_component_reads(components):
    for name, component in components.items():
        unread = set(component.declared) - component.reads
        assert not unread, f"{name} ({component.args.command}) sets {sorted(unread)}, which it never reads"


def test_every_component_talks_to_the_brokers_internal_listener(components):
    kafka = interpolate(SERVICES["kafka"]["environment"])
    internal = next(
        address.split("//")[1]
        for address in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
        if address.startswith("INTERNAL://")
    )
    for name, component in components.items():
        settings = component.settings
        if settings is None:
            continue
        broker = settings.kafka.bootstrap if component.args.command == "dispatch" else settings.broker
        assert broker == internal, f"{name} uses {broker}, not Kafka's internal listener {internal}"


def test_workers_agree_with_each_other_and_with_the_topics_they_read(components):
    workers = [component.settings for component in components.values() if component.args.command == "worker"]
    assert len({(w.app_id, w.partitions, w.topics) for w in workers}) == 1, (
        "workers must form one group over the same topics"
    )
    assert not any(worker.create_topics for worker in workers), "topics come from the topics service, with retention"
    topics_env = interpolate(SERVICES["topics"]["environment"])
    assert int(topics_env["PARTITIONS"]) == workers[0].partitions
    assert int(topics_env["REPLICATION_FACTOR"]) == workers[0].replication_factor
    volumes = [tuple(SERVICES[name]["volumes"]) for name, c in components.items() if c.args.command == "worker"]
    assert len(set(volumes)) == len(volumes), "each worker keeps its state in a volume of its own"


# -- topics ------------------------------------------------------------------------------------


def topic_configs() -> dict[str, dict[str, str]]:
    topics = {}
    for line in (REPO / "deploy" / "kafka" / "topics.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, *configs = line.split()
            topics[name] = dict(config.split("=", 1) for config in configs)
    return topics


def test_the_topics_service_creates_every_topic_a_component_reads_or_writes(components):
    created = topic_configs()
    used: set[str] = set()
    for component in components.values():
        settings = component.settings
        if component.args.command == "dispatch":
            used |= set(settings.kafka.topics.model_dump().values())
        elif settings is not None:
            used |= set(vars(settings.topics).values())
    assert used <= set(created), f"not created: {sorted(used - set(created))}"
    assert set(created) <= used, f"created but used by nobody: {sorted(set(created) - used)}"


def test_inputs_are_kept_by_time_and_patient_status_is_compacted_outside_the_dashboards_window(components):
    created = topic_configs()
    worker = next(c.settings for c in components.values() if c.args.command == "worker")
    dashboard = next(c.settings for c in components.values() if c.args.command == "dashboard")
    for topic in (worker.topics.vitals, worker.topics.clinical_events, worker.topics.alert_acks):
        assert created[topic]["cleanup.policy"] == "delete" and int(created[topic]["retention.ms"]) > 0
    # Clinical events must outlive the 14-day CRS risk period they start.
    from monitor.config import EngineConfig

    risk_days = EngineConfig().risk_period_days
    assert int(created[worker.topics.clinical_events]["retention.ms"]) > risk_days * 86_400_000
    status = created[worker.topics.patient_status]
    assert "compact" in status["cleanup.policy"].split(",")
    assert int(status["min.compaction.lag.ms"]) >= dashboard.history_hours * 3_600_000
    assert "compact" not in created[worker.topics.alerts]["cleanup.policy"], (
        "alerts are keyed by patient; compaction would drop all but one of a patient's open episodes"
    )


def test_the_broker_is_the_kafka_the_project_tests_against_in_kraft_mode():
    from crsmon.local_kafka import KAFKA_VERSION

    for name in ("kafka", "topics"):
        assert SERVICES[name]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    kafka = interpolate(SERVICES["kafka"]["environment"])
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    import base64

    cluster_id = kafka["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 and cluster_id[0] != "-"


# -- Prometheus and Grafana --------------------------------------------------------------------


def scrape_targets() -> dict[str, list[str]]:
    targets = {}
    for job in PROMETHEUS["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        targets[job["job_name"]] = [target for group in job["static_configs"] for target in group["targets"]]
    return targets


def test_prometheus_scrapes_every_component_on_the_port_it_serves_metrics_on(components):
    scraped = {}
    for job, targets in scrape_targets().items():
        for target in targets:
            host, port = target.rsplit(":", 1)
            assert host in components, f"{job} scrapes {target}, which is not an application service"
            component = components[host]
            assert int(port) == component.metrics_port, (
                f"{job} scrapes {host} on {port}, it serves /metrics on {component.metrics_port}"
            )
            assert component.listen_host == "0.0.0.0", (
                f"{host} listens on {component.listen_host}: Prometheus cannot reach it"
            )
            assert str(port) in {str(p) for p in component.service.get("expose", [])}, f"{host} does not expose {port}"
            scraped[host] = job
    with_metrics = {name for name, c in components.items() if c.args.command in METRICS_COMMANDS}
    assert with_metrics <= set(scraped), f"not scraped: {sorted(with_metrics - set(scraped))}"


def exported_metric_names() -> dict[str, set[str]]:
    """Every series name each component can export, from its own registry."""
    import alerting.dashboard.metrics
    import gateway.metrics
    import streams.metrics
    from alerting.dispatch.metrics import DispatchMetrics

    registries = {
        "worker": streams.metrics.REGISTRY,
        "dispatch": DispatchMetrics().registry,
        "dashboard": alerting.dashboard.metrics.REGISTRY,
        "ingest": gateway.metrics.REGISTRY,
    }
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("", "_sum", "_count"),
        "info": ("_info",),
    }
    names = {}
    for component, registry in registries.items():
        names[component] = {family.name + suffix for family in registry.collect() for suffix in suffixes[family.type]}
        assert names[component], f"the {component} registry is empty"
    return names


PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}


def metric_names_in(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    aggregation keywords, label names or values."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)  # grouping labels
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    names = set()
    for found in re.finditer(r"[A-Za-z_:][\w:]*", text):
        following = text[found.end() :].lstrip()[:1]
        if following != "(" and found.group().lower() not in PROMQL_WORDS:
            names.add(found.group())
    return names


def panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_metric_names_are_read_from_promql_as_prometheus_would():
    assert metric_names_in('histogram_quantile(0.95, sum by (le, receiver) (rate(x_bucket{job="a"}[5m])))') == {
        "x_bucket"
    }
    assert metric_names_in("sum without (instance) (a_total) / on (job) group_left b") == {"a_total", "b"}
    assert metric_names_in('up{job=~"crsmon-.*"}') == {"up"}


def test_every_metric_in_the_grafana_dashboards_is_exported_and_every_component_has_panels():
    assert GRAFANA_DASHBOARDS, "no Grafana dashboard under deploy/grafana/dashboards"
    exported = exported_metric_names()
    everything = set().union(*exported.values()) | {"up"}  # `up` is Prometheus' own, per target
    datasources = yaml.safe_load(
        (REPO / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    uids = {source["uid"] for source in datasources["datasources"]}
    shown = set()
    for path in GRAFANA_DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in uids, f"{path.name}: {panel['title']} uses an unprovisioned datasource"
            assert panel["targets"], f"{path.name}: {panel['title']} queries nothing"
            for target in panel["targets"]:
                names = metric_names_in(target["expr"])
                assert names, f"{panel['title']}: no metric in {target['expr']}"
                unknown = names - everything
                assert not unknown, (
                    f"{path.name}: panel {panel['title']!r} queries {sorted(unknown)}, which nothing exports"
                )
                shown |= names
    for component, names in exported.items():
        assert names & shown, f"no panel shows a metric of the {component}"


def test_grafana_loads_the_dashboards_from_where_they_are_mounted():
    provider = yaml.safe_load((REPO / "deploy" / "grafana" / "provisioning" / "dashboards" / "crsmon.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert host_file(SERVICES["grafana"], path) == REPO / "deploy" / "grafana" / "dashboards"
    assert host_file(SERVICES["grafana"], "/etc/grafana/provisioning") == REPO / "deploy" / "grafana" / "provisioning"
    assert (
        host_file(SERVICES["prometheus"], "/etc/prometheus/prometheus.yml")
        == REPO / "deploy" / "prometheus" / "prometheus.yml"
    )


# -- the image ---------------------------------------------------------------------------------


def test_the_image_installs_the_package_and_runs_crsmon_as_a_user_that_is_not_root():
    dockerfile = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages and all(stage == "python:3.11-slim" for stage in stages)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["crsmon"\]', dockerfile, re.MULTILINE)
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, re.MULTILINE))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert copied == packages, "the image must copy exactly the packages pyproject.toml installs"
    ignored = (REPO / ".dockerignore").read_text()
    for package in packages:
        assert f"!{package}/" in ignored, f"{package}/ is kept out of the build context"


# -- the topic script, run for real ----------------------------------------------------------


@pytest.mark.kafka
def test_the_topic_script_creates_every_topic_with_its_configuration_and_is_idempotent(kafka, unique, tmp_path):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    from crsmon.local_kafka import fetch_jars

    # kafka-topics.sh of the image is TopicCommand on Kafka's classpath; the same, from our jars.
    wrapper = tmp_path / "kafka-topics.sh"
    wrapper.write_text(
        "#!/bin/sh\nexec java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "
        f"-cp '{fetch_jars()}/*' org.apache.kafka.tools.TopicCommand \"$@\"\n"
    )
    wrapper.chmod(0o755)
    conf = tmp_path / "topics.conf"
    configs = topic_configs()
    conf.write_text(
        "# renamed for this test\n"
        + "".join(
            f"{name}-{unique} {' '.join(f'{k}={v}' for k, v in values.items())}\n" for name, values in configs.items()
        )
    )
    env = dict(os.environ, BOOTSTRAP=kafka.bootstrap, PARTITIONS="3", REPLICATION_FACTOR="1", KAFKA_TOPICS=str(wrapper))
    script = REPO / "deploy" / "kafka" / "create-topics.sh"
    for run in range(2):  # the second run finds them all and changes nothing
        result = subprocess.run(["sh", str(script), str(conf)], env=env, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        names = [f"{name}-{unique}" for name in configs]
        described = {topic["name"]: topic for topic in admin.describe_topics(names)}
        actual = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])["topic"]
    finally:
        admin.close()
    for name, values in configs.items():
        assert len(described[f"{name}-{unique}"]["partitions"]) == 3
        topic = actual[f"{name}-{unique}"]
        for key, value in values.items():
            assert topic[key]["value"] == value, (name, key)
        assert topic["min.insync.replicas"]["value"] == "1"
