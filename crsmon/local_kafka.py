"""A real Apache Kafka broker on loopback, started by the project for tests, benchmarks and demos.

The jars come from Maven Central through `mvn` (Java 17 and Maven are on every machine we run
on; a Docker engine is not), once, into a cache outside the repository. Each broker is a single
KRaft node (broker and controller in one JVM) with test-friendly settings, on free ports, in
its own data directory, and it dies with the process that started it: no orphaned JVMs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_VERSION = os.environ.get("CRSMON_KAFKA_VERSION", "4.3.1")
LOG4J_VERSION = "2.25.4"
SLF4J_VERSION = "2.0.17"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>crsmon.local</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
"""


class BrokerError(RuntimeError):
    """The local broker could not be fetched or started; the message says what to do."""


SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_TLS_PROTOCOLS = {"SSL", "SASL_SSL"}
_SASL_PROTOCOLS = {"SASL_PLAINTEXT", "SASL_SSL"}


@dataclass(frozen=True)
class BrokerTls:
    """The broker's TLS material as PEM files, for its SSL and SASL_SSL listeners.

    Kafka reads PEM directly (`ssl.keystore.type=PEM`), so tests need no Java keystore tools;
    Kafka insists that the private key be PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted here.
    `trusted_certificates` is the CA bundle that mutual-TLS listeners check clients against.
    """

    certificate_chain: Path
    private_key: Path
    trusted_certificates: Path


def cache_dir() -> Path:
    """Where the jars live: $CRSMON_CACHE, else ~/.cache/crsmon (outside the repository)."""
    root = os.environ.get("CRSMON_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "crsmon"
    )
    return Path(root)


def fetch_jars(version: str = KAFKA_VERSION, *, quiet: bool = True) -> Path:
    """The directory of Kafka's runtime classpath, resolved with Maven on the first call.

    Safe to call from several processes at once: the first takes a lock and resolves, the
    others wait for it and reuse the result.
    """
    target = cache_dir() / f"kafka-{version}"
    lib = target / "lib"
    if (target / "complete").exists():
        return lib
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "complete").exists():
            return lib
        if shutil.which("mvn") is None or shutil.which("java") is None:
            raise BrokerError("Java 17+ and Maven are needed to run Kafka: install openjdk-17-jdk and maven")
        with tempfile.TemporaryDirectory(prefix="crsmon-mvn-") as work:
            pom = Path(work) / "pom.xml"
            pom.write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION))
            staging = Path(work) / "lib"
            command = [
                "mvn",
                "-B",
                "--no-transfer-progress",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ]
            if quiet:
                command.insert(1, "-q")
            result = subprocess.run(command, capture_output=quiet, text=True)
            if result.returncode != 0:
                detail = (result.stdout or "")[-2000:] if quiet else ""
                raise BrokerError(
                    f"Maven could not fetch Kafka {version} from Maven Central (exit "
                    f"{result.returncode}). Check that the machine reaches Maven Central.\n{detail}"
                )
            if lib.exists():
                shutil.rmtree(lib)
            shutil.move(str(staging), lib)
        (target / "complete").write_text(version)
    return lib


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM the JVM when its parent dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class LocalKafka:
    """One KRaft broker+controller on loopback. Use as a context manager or start()/stop()."""

    data_dir: Path | None = None
    port: int = 0
    controller_port: int = 0
    heap: str = "512m"
    extra_properties: dict[str, str] = field(default_factory=dict)
    extra_listeners: dict[str, tuple[int, str]] = field(default_factory=dict)
    log_level: str = "INFO"
    tls: BrokerTls | None = None
    client_certificate_required: tuple[str, ...] = ()
    sasl_users: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    _owns_dir: bool = False
    _listener_ports: dict[str, int] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def listener(self, name: str) -> str:
        """The bootstrap address of an extra listener (its port is chosen at start when 0)."""
        if name not in self._listener_ports:
            raise BrokerError(f"no started listener {name!r}; extra listeners: {sorted(self.extra_listeners)}")
        return f"127.0.0.1:{self._listener_ports[name]}"

    @property
    def log_file(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "broker.log"

    def _properties(self) -> str:
        assert self.data_dir is not None
        listeners = [f"PLAINTEXT://127.0.0.1:{self.port}", f"CONTROLLER://127.0.0.1:{self.controller_port}"]
        advertised = [f"PLAINTEXT://127.0.0.1:{self.port}"]
        protocols = ["CONTROLLER:PLAINTEXT", "PLAINTEXT:PLAINTEXT"]
        for name, (_, protocol) in self.extra_listeners.items():
            port = self._listener_ports[name]
            listeners.append(f"{name}://127.0.0.1:{port}")
            advertised.append(f"{name}://127.0.0.1:{port}")
            protocols.append(f"{name}:{protocol}")
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": ",".join(listeners),
            "advertised.listeners": ",".join(advertised),
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": ",".join(protocols),
            "log.dirs": str(self.data_dir / "kraft"),
            "num.partitions": "4",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.flush.interval.messages": "9223372036854775807",
        }
        settings.update(self._security_properties())
        settings.update(self.extra_properties)
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _check_listeners(self) -> None:
        """Refuse a listener set the broker would reject, with what to change, before Java starts."""
        for name, (_, protocol) in self.extra_listeners.items():
            if name.upper() in ("PLAINTEXT", "CONTROLLER"):
                raise BrokerError(
                    f"extra listener {name!r}: PLAINTEXT and CONTROLLER are taken; name it e.g. SSL or SASL_SSL"
                )
            if protocol in _TLS_PROTOCOLS and self.tls is None:
                raise BrokerError(
                    f"listener {name} uses {protocol}: pass tls=BrokerTls(...) with the broker's PEM files"
                )
            if protocol in _SASL_PROTOCOLS and not self.sasl_users:
                raise BrokerError(f"listener {name} uses {protocol}: pass sasl_users={{user: password}}")
        for name in self.client_certificate_required:
            if self.extra_listeners.get(name, (0, ""))[1] not in _TLS_PROTOCOLS:
                raise BrokerError(
                    f"client_certificate_required names {name!r}, which is not an SSL or SASL_SSL listener"
                )
        for user, password in self.sasl_users.items():
            if any(char in user + password for char in '"\\,=[] '):
                raise BrokerError(f"SASL user {user!r}: keep test user names and passwords to letters, digits, - and _")

    def _security_properties(self) -> dict[str, str]:
        """TLS from PEM files, and PLAIN plus SCRAM on every SASL listener.

        SCRAM credentials live in the cluster metadata; they are written when storage is
        formatted (`--add-scram`), so they exist before the first client connects.
        """
        settings: dict[str, str] = {}
        if self.tls is not None:
            assert self.data_dir is not None
            keystore = self.data_dir / "broker-keystore.pem"
            keystore.write_text(Path(self.tls.private_key).read_text() + Path(self.tls.certificate_chain).read_text())
            keystore.chmod(0o600)
            settings.update(
                {
                    "ssl.keystore.type": "PEM",
                    "ssl.keystore.location": str(keystore),
                    "ssl.truststore.type": "PEM",
                    "ssl.truststore.location": str(self.tls.trusted_certificates),
                }
            )
        users = "".join(f' user_{user}="{password}"' for user, password in self.sasl_users.items())
        for name, (_, protocol) in self.extra_listeners.items():
            prefix = f"listener.name.{name.lower()}."
            if name in self.client_certificate_required:
                settings[prefix + "ssl.client.auth"] = "required"
            if protocol in _SASL_PROTOCOLS:
                settings[prefix + "sasl.enabled.mechanisms"] = ",".join(SASL_MECHANISMS)
                settings[prefix + "plain.sasl.jaas.config"] = (
                    f"org.apache.kafka.common.security.plain.PlainLoginModule required{users};"
                )
                for mechanism in SASL_MECHANISMS[1:]:
                    settings[prefix + f"{mechanism.lower()}.sasl.jaas.config"] = (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                    )
        return settings

    def _scram_format_arguments(self) -> list[str]:
        if not any(protocol in _SASL_PROTOCOLS for _, protocol in self.extra_listeners.values()):
            return []
        return [
            argument
            for user, password in self.sasl_users.items()
            for mechanism in SASL_MECHANISMS[1:]
            for argument in ("--add-scram", f'{mechanism}=[name="{user}",password="{password}"]')
        ]

    def _choose_listener_ports(self) -> None:
        taken = {self.port, self.controller_port}
        for name, (port, _) in self.extra_listeners.items():
            chosen = port or self._listener_ports.get(name, 0)
            while not chosen or chosen in taken:
                chosen = free_port()
            self._listener_ports[name] = chosen
            taken.add(chosen)

    def start(self, timeout: float = 90.0, attempts: int = 3) -> "LocalKafka":
        """Format storage (first start only), launch the JVM and wait until it serves clients.

        Ports are picked free just before the JVM binds them, so another process can take one
        in between; then the broker is started again on new ports.
        """
        fixed_ports = bool(self.port)
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
                return self
            except BrokerError as error:
                if fixed_ports or attempt == attempts or "Address already in use" not in str(error):
                    raise
                self.port = self.controller_port = 0
                self._listener_ports.clear()
        return self

    def _start_once(self, timeout: float) -> None:
        self._check_listeners()
        lib = fetch_jars()
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="crsmon-kafka-"))
            self._owns_dir = True
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        while not self.controller_port or self.controller_port == self.port:
            self.controller_port = free_port()
        self._choose_listener_ports()
        properties = self.data_dir / "server.properties"
        properties.write_text(self._properties())
        log_config = self.data_dir / "log4j2.properties"
        log_config.write_text(_LOG4J2.format(log=self.log_file, level=self.log_level))
        java = [
            "java",
            f"-Xmx{self.heap}",
            f"-Xms{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log_config}",
            "-cp",
            f"{lib}/*",
        ]
        if not (self.data_dir / "kraft" / "meta.properties").exists():
            # An id that starts with "-" would be read as an option (about 1 in 64 of them).
            cluster_id = "-"
            while cluster_id.startswith("-"):
                cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            formatted = subprocess.run(
                java
                + [
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    cluster_id,
                    "-c",
                    str(properties),
                    *self._scram_format_arguments(),
                ],
                capture_output=True,
                text=True,
            )
            if formatted.returncode != 0:
                raise BrokerError(f"formatting Kafka storage failed:\n{formatted.stdout}{formatted.stderr}")
        if self.log_file.exists():
            self.log_file.rename(self.log_file.with_suffix(f".{int(time.time() * 1000)}.log"))
        stdout = open(self.data_dir / "broker.stdout", "ab")
        self.process = subprocess.Popen(
            java + ["kafka.Kafka", str(properties)],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        stdout.close()
        self._wait_until_serving(timeout)

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(
                    f"the Kafka JVM exited with {self.process.returncode}; the end of "
                    f"{self.log_file}:\n{self._log_tail()}"
                )
            if self._log_says_started():
                return
            time.sleep(0.1)
        self.stop()
        raise BrokerError(f"Kafka did not start within {timeout:.0f} s; see {self.log_file}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _log_says_started(self) -> bool:
        try:
            with open(self.log_file, "rb") as log:
                return b"Kafka Server started" in log.read()
        except FileNotFoundError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the JVM cleanly (SIGTERM), forcibly after `timeout`; keep or remove its data."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def remove(self) -> None:
        self.stop()
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "LocalKafka":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crsmon-kafka", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="resolve the Kafka jars into the cache and print where")
    serve = sub.add_parser("serve", help="run a broker in the foreground until Ctrl-C")
    serve.add_argument("--port", type=int, default=9092)
    serve.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        started = time.monotonic()
        print(fetch_jars(quiet=False), f"({time.monotonic() - started:.1f} s)")
        return 0
    broker = LocalKafka(data_dir=args.data_dir, port=args.port)
    broker.start()
    print(f"Kafka {KAFKA_VERSION} serving on {broker.bootstrap}; Ctrl-C stops it", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        broker.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
