"""The dispatcher's configuration: the shipped example loads, and every kind of mistake is
rejected at start with the line and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alerting.dispatch.config_file import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parent.parent
CRSMON = str(Path(sys.executable).parent / "crsmon")

VALID = """\
receivers:
  ward:
    type: webhook
    url: http://127.0.0.1:9000/pages
routes:
  - name: crs
    match: {rule: [crs]}
    receivers: [ward]
    escalate:
      - {after: 5m, receivers: [ward]}
default_route:
  receivers: [ward]
"""


def problems_of(text: str) -> str:
    with pytest.raises(ConfigError) as rejected:
        parse_config(text, "dispatch.yaml")
    return str(rejected.value)


def test_the_shipped_example_and_the_documented_one_load():
    example = load_config(REPO / "config" / "dispatch.example.yaml")
    assert [name for name, _ in example.named_routes()] == ["crs", "ward", "default"]
    assert example.routes[0].escalate[0].after == 600.0
    assert example.http.host == "127.0.0.1"
    documented = (REPO / "docs" / "dispatch.md").read_text().split("```yaml\n")[1].split("```")[0]
    assert parse_config(documented, "docs/dispatch.md").receivers


def test_durations_are_read_in_their_units():
    config = parse_config(VALID.replace("after: 5m", "after: 1h") + "delivery: {timeout: 250ms}\n")
    assert config.routes[0].escalate[0].after == 3600.0
    assert config.delivery.timeout == 0.25


@pytest.mark.parametrize(
    "change, line, words",
    [
        (
            ("receivers: [ward]\n    escalate", "receivers: [wrad]\n    escalate"),
            8,
            "receiver 'wrad' is not defined under receivers (defined: ward)",
        ),
        (("{after: 5m,", "{after: 5 minutes,"), 10, "'5 minutes' is not a duration"),
        (
            ("    match: {rule: [crs]}", "    match: {rule: [crs]}\n    repeat_intervall: 5m"),
            8,
            "routes.0.repeat_intervall: unknown setting",
        ),
        (("    url: http://127.0.0.1:9000/pages", "    url: 127.0.0.1:9000"), 4, "receivers.ward.url"),
        (("type: webhook", "type: pagerduty"), 2, "needs routing_key or routing_key_env"),
        (
            ("type: webhook", "type: webhook\n    secrets: [not-base64!]"),
            4,
            "secrets.0: a signing secret must be base64",
        ),
        (("  - name: crs\n", "  - name: crs\n    name: crs2\n"), 7, "'name' is given twice"),
        (("match: {rule: [crs]}", "match: {rule: [crs]"), 8, "not valid YAML"),
        (("match: {rule: [crs]}", "match: {severity: [urgent]}"), 7, "'critical', 'high', 'medium' or 'low'"),
    ],
)
def test_each_mistake_is_reported_with_its_line(change, line, words):
    before, after = change
    assert before in VALID
    message = problems_of(VALID.replace(before, after, 1))
    assert f"dispatch.yaml:{line}:" in message, message
    assert words in message, message


def test_a_configuration_that_routes_nothing_is_rejected():
    assert "nothing would ever be paged" in problems_of("receivers: {}\n")


def test_crsmon_dispatch_refuses_to_start_on_an_invalid_file(tmp_path):
    bad = tmp_path / "dispatch.yaml"
    bad.write_text(VALID.replace("after: 5m", "after: soon"))
    result = subprocess.run([CRSMON, "dispatch", "--config", str(bad)], capture_output=True, text=True, timeout=60)
    # Exit status 2, nothing started, and the message names the file, the line and the value.
    assert result.returncode == 2
    assert f"{bad}:10: routes.0.escalate.0.after: 'soon' is not a duration" in result.stderr
    assert "nothing was started" in result.stderr
