"""Kafka TLS and SASL: settings from the environment, checked at start, secrets never shown.

The broker tests run a broker of their own with four secured listeners (TLS, mutual TLS,
SASL_PLAINTEXT and SASL_SSL with PLAIN and SCRAM users) and certificates this test makes, and
drive `crsmon worker` configured only through the environment, as an operator would.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient

from crsmon.local_kafka import LocalKafka
from kafka_client.broker_login import KafkaLoginRefused, check_broker_accepts
from kafka_client.security import KafkaSecurity, KafkaSecurityError, Secret, kafka_client_options_from_env
from streams.settings import WorkerSettings, faust_credentials
from tests.conftest import worker_environment
from tests.support.certificates import TestAuthority
from tests.support.kafka_io import produce, read_until
from tests.support.processes import CRSMON, Service

USER = "crsmon-worker"
PASSWORD = f"pw-{secrets.token_hex(12)}"  # unique, so finding it in a log cannot be a coincidence
KEY_PASSWORD = f"key-{secrets.token_hex(12)}"


# -- certificates and a secured broker, made by the test --------------------------------


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority(tmp_path_factory.mktemp("pki"), "hospital-ca")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    """A CA that signed nothing the broker uses."""
    return TestAuthority(tmp_path_factory.mktemp("pki-other"), "other-ca")


@pytest.fixture(scope="module")
def secured_kafka(authority: TestAuthority) -> Iterator[LocalKafka]:
    broker = LocalKafka(
        tls=authority.broker_tls(),
        extra_listeners={
            "SSL": (0, "SSL"),
            "MTLS": (0, "SSL"),
            "SASL_PLAINTEXT": (0, "SASL_PLAINTEXT"),
            "SASL_SSL": (0, "SASL_SSL"),
        },
        client_certificate_required=("MTLS",),
        sasl_users={USER: PASSWORD},
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.remove()


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# -- reading the environment (no broker) ---------------------------------------------------


def test_without_settings_the_clients_use_plaintext() -> None:
    security = KafkaSecurity.from_env({})
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(security) is None
    assert WorkerSettings(security=security).kafka_client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_over_tls_gives_faust_and_plain_clients_the_same_login(authority: TestAuthority) -> None:
    from faust.auth import SASLCredentials

    security = KafkaSecurity.from_env(
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "CRSMON_KAFKA_SSL_CAFILE": str(authority.certificate),
            "CRSMON_KAFKA_SASL_MECHANISM": "scram-sha-512",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
            "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD,
        }
    )
    options = security.client_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == USER and options["sasl_plain_password"].reveal() == PASSWORD
    assert options["ssl_context"].check_hostname is True
    credentials = faust_credentials(security)
    assert isinstance(credentials, SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.password.reveal() == PASSWORD


def test_hostname_verification_can_be_turned_off_only_explicitly(authority: TestAuthority) -> None:
    env = {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SSL_CAFILE": str(authority.certificate)}
    assert KafkaSecurity.from_env(env).ssl_context().check_hostname is True
    relaxed = KafkaSecurity.from_env({**env, "CRSMON_KAFKA_SSL_CHECK_HOSTNAME": "false"})
    assert relaxed.ssl_context().check_hostname is False
    assert "hostname verification OFF" in relaxed.describe()


def test_passwords_can_come_from_files(tmp_path: Path, authority: TestAuthority) -> None:
    client = authority.client("reader", key_password=KEY_PASSWORD)
    security = KafkaSecurity.from_env(
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRSMON_KAFKA_SSL_CAFILE": str(authority.certificate),
            "CRSMON_KAFKA_SSL_CERTFILE": str(client.certificate),
            "CRSMON_KAFKA_SSL_KEYFILE": str(client.key),
            "CRSMON_KAFKA_SSL_KEY_PASSWORD_FILE": write(tmp_path / "key-password", KEY_PASSWORD + "\n"),
            "CRSMON_KAFKA_SASL_MECHANISM": "PLAIN",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
            "CRSMON_KAFKA_SASL_PASSWORD_FILE": write(tmp_path / "sasl-password", PASSWORD + "\n"),
        }
    )
    assert security.sasl_password.reveal() == PASSWORD
    assert security.ssl_key_password.reveal() == KEY_PASSWORD
    assert security.ssl_context() is not None  # the encrypted key was decrypted with the file's password


MISCONFIGURATIONS = {
    "CA file missing": (
        {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SSL_CAFILE": "{tmp}/nowhere/ca.pem"},
        ["CRSMON_KAFKA_SSL_CAFILE={tmp}/nowhere/ca.pem does not exist", "point it at"],
    ),
    "CA file is not PEM": (
        {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SSL_CAFILE": "{tmp}/not-a-certificate"},
        ["CRSMON_KAFKA_SSL_CAFILE", "no usable PEM certificate"],
    ),
    "mechanism we do not support": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRSMON_KAFKA_SASL_MECHANISM": "GSSAPI",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
            "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD,
        },
        ["CRSMON_KAFKA_SASL_MECHANISM=GSSAPI is not supported", "SCRAM-SHA-512"],
    ),
    "SASL without a password": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "CRSMON_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
        },
        ["SASL needs a password", "set CRSMON_KAFKA_SASL_PASSWORD"],
    ),
    "SASL without a mechanism or user": (
        {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD},
        ["needs CRSMON_KAFKA_SASL_MECHANISM", "set CRSMON_KAFKA_SASL_USERNAME"],
    ),
    "unknown protocol": ({"CRSMON_KAFKA_SECURITY_PROTOCOL": "TLS"}, ["SECURITY_PROTOCOL=TLS", "SASL_SSL"]),
    "TLS file set while the protocol is PLAINTEXT": (
        {"CRSMON_KAFKA_SSL_CAFILE": "{ca}"},
        ["CRSMON_KAFKA_SSL_CAFILE set, but CRSMON_KAFKA_SECURITY_PROTOCOL is PLAINTEXT", "SSL or SASL_SSL"],
    ),
    "password set while the protocol is SSL": (
        {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD},
        ["CRSMON_KAFKA_SASL_PASSWORD set", "SASL_PLAINTEXT or SASL_SSL"],
    ),
    "key without its certificate": (
        {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SSL_KEYFILE": "{key}"},
        ["CRSMON_KAFKA_SSL_KEYFILE is set without CRSMON_KAFKA_SSL_CERTFILE"],
    ),
    "encrypted key without a password": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL",
            "CRSMON_KAFKA_SSL_CERTFILE": "{cert}",
            "CRSMON_KAFKA_SSL_KEYFILE": "{key}",
        },
        ["is encrypted", "set CRSMON_KAFKA_SSL_KEY_PASSWORD"],
    ),
    "wrong key password": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL",
            "CRSMON_KAFKA_SSL_CERTFILE": "{cert}",
            "CRSMON_KAFKA_SSL_KEYFILE": "{key}",
            "CRSMON_KAFKA_SSL_KEY_PASSWORD": "not-" + KEY_PASSWORD,
        },
        ["CRSMON_KAFKA_SSL_KEY_PASSWORD does not decrypt"],
    ),
    "key of another certificate": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL",
            "CRSMON_KAFKA_SSL_CERTFILE": "{cert}",
            "CRSMON_KAFKA_SSL_KEYFILE": "{other_key}",
        },
        ["do not belong together"],
    ),
    "two sources for one password": (
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRSMON_KAFKA_SASL_MECHANISM": "PLAIN",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
            "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD,
            "CRSMON_KAFKA_SASL_PASSWORD_FILE": "{tmp}/password",
        },
        ["both CRSMON_KAFKA_SASL_PASSWORD and CRSMON_KAFKA_SASL_PASSWORD_FILE are set"],
    ),
}


@pytest.mark.parametrize("case", MISCONFIGURATIONS)
def test_a_misconfiguration_is_refused_with_what_to_do(case: str, tmp_path: Path, authority: TestAuthority) -> None:
    client = authority.client("bad", key_password=KEY_PASSWORD)
    other = authority.client("other")
    write(tmp_path / "not-a-certificate", "hello\n")
    write(tmp_path / "password", PASSWORD)
    places = {
        "tmp": str(tmp_path),
        "ca": str(authority.certificate),
        "cert": str(client.certificate),
        "key": str(client.key),
        "other_key": str(other.key),
    }
    env, expected = MISCONFIGURATIONS[case]
    env = {name: value.format(**places) for name, value in env.items()}
    with pytest.raises(KafkaSecurityError) as raised:
        KafkaSecurity.from_env(env)
    message = str(raised.value)
    for fragment in expected:
        assert fragment.format(**places) in message
    assert PASSWORD not in message and KEY_PASSWORD not in message


def test_the_worker_refuses_to_start_on_a_misconfiguration(tmp_path: Path) -> None:
    env = worker_environment("127.0.0.1:9", "misconfigured", tmp_path)
    env.update(
        {
            "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRSMON_KAFKA_SASL_MECHANISM": "SCRAM-SHA-1",
            "CRSMON_KAFKA_SASL_USERNAME": USER,
            "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD,
            "CRSMON_KAFKA_SSL_CAFILE": str(tmp_path / "missing.pem"),
        }
    )
    result = subprocess.run([CRSMON, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "CRSMON_KAFKA_SASL_MECHANISM=SCRAM-SHA-1 is not supported" in result.stderr
    assert "missing.pem does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


# -- secrets stay out of repr, str and logs -----------------------------------------------


def test_secrets_are_masked_in_repr_str_and_formatting() -> None:
    secret = Secret(PASSWORD)
    assert PASSWORD not in repr(secret) + str(secret) + f"{secret}" + "%s %r" % (secret, secret)
    assert PASSWORD not in repr({"sasl_plain_password": secret})
    assert secret.reveal() == PASSWORD and secret.encode() == PASSWORD.encode()  # what SASL code uses
    security = KafkaSecurity(
        protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username=USER,
        sasl_password=PASSWORD,
        ssl_key_password=KEY_PASSWORD,
    )
    settings = WorkerSettings(security=security)
    for text in (
        repr(security),
        str(security),
        repr(settings),
        str(settings),
        security.describe(),
        repr(security.client_options()),
        repr(faust_credentials(security)),
    ):
        assert PASSWORD not in text and KEY_PASSWORD not in text
    assert "sasl_password='***'" in repr(settings)


@pytest.mark.kafka
def test_secrets_stay_out_of_debug_logs_of_both_clients(
    secured_kafka: LocalKafka, authority: TestAuthority, caplog: pytest.LogCaptureFixture, unique: str
) -> None:
    """kafka-python logs its whole configuration at DEBUG, and both log every request: a PLAIN
    login request carries the password itself."""
    env = {
        "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "CRSMON_KAFKA_SSL_CAFILE": str(authority.certificate),
        "CRSMON_KAFKA_SASL_MECHANISM": "PLAIN",
        "CRSMON_KAFKA_SASL_USERNAME": USER,
        "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD,
    }
    caplog.set_level(logging.DEBUG)
    admin = KafkaAdminClient(
        bootstrap_servers=secured_kafka.listener("SASL_SSL"),
        request_timeout_ms=20000,
        **kafka_client_options_from_env(env),
    )
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()

    async def send_one() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=secured_kafka.listener("SASL_SSL"), **kafka_client_options_from_env(env)
        )
        await producer.start()
        try:
            await producer.send_and_wait(f"security-{unique}", b"{}")
        finally:
            await producer.stop()

    import asyncio

    asyncio.run(send_one())
    logged = caplog.text
    assert "sasl_plain_password': '***'" in logged  # the configuration was logged, masked
    assert "SaslAuthenticateRequest" in logged  # so was the login request that carries the password
    assert PASSWORD not in logged


# -- the secured broker --------------------------------------------------------------------


@pytest.mark.kafka
def test_the_mutual_tls_listener_turns_away_a_client_without_a_certificate(
    secured_kafka: LocalKafka, authority: TestAuthority
) -> None:
    one_way = KafkaSecurity("SSL", ssl_cafile=str(authority.certificate))
    assert check_broker_accepts(secured_kafka.listener("SSL"), one_way).accepted
    refused = check_broker_accepts(secured_kafka.listener("MTLS"), one_way, timeout=5)
    assert not refused.accepted
    assert "set CRSMON_KAFKA_SSL_CERTFILE and CRSMON_KAFKA_SSL_KEYFILE" in refused.explanation
    client = authority.client("checker")
    mutual = KafkaSecurity(
        "SSL", ssl_cafile=str(authority.certificate), ssl_certfile=str(client.certificate), ssl_keyfile=str(client.key)
    )
    assert check_broker_accepts(secured_kafka.listener("MTLS"), mutual).accepted


@pytest.mark.kafka
def test_the_broker_refuses_a_wrong_password_and_we_refuse_a_stranger_certificate(
    secured_kafka: LocalKafka, authority: TestAuthority, stranger: TestAuthority
) -> None:
    for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        wrong = KafkaSecurity(
            "SASL_PLAINTEXT", sasl_mechanism=mechanism, sasl_username=USER, sasl_password="not-" + PASSWORD
        )
        with pytest.raises(KafkaLoginRefused, match=f"refused the {mechanism} login of user '{USER}'"):
            check_broker_accepts(secured_kafka.listener("SASL_PLAINTEXT"), wrong)
        right = KafkaSecurity("SASL_PLAINTEXT", sasl_mechanism=mechanism, sasl_username=USER, sasl_password=PASSWORD)
        assert check_broker_accepts(secured_kafka.listener("SASL_PLAINTEXT"), right).accepted
    untrusting = KafkaSecurity("SSL", ssl_cafile=str(stranger.certificate))
    with pytest.raises(KafkaLoginRefused, match="is not trusted"):
        check_broker_accepts(secured_kafka.listener("SSL"), untrusting)


# -- `crsmon worker` over secured listeners --------------------------------------------------

THERAPY = ("MRN-7", {"patient_id": "MRN-7", "ts": "2026-11-23T08:00:00Z", "type": "therapy", "therapy": "car-t"})
FEVER = (
    "MRN-7",
    {
        "patient_id": "MRN-7",
        "ts": "2026-11-23T10:00:00Z",
        "ward": "5-West",
        "bed": "7",
        "heart_rate": 104,
        "temperature": 38.7,
    },
)


def secured_env(case: str, broker: LocalKafka, authority: TestAuthority, tmp_path: Path, unique: str) -> dict[str, str]:
    """The worker's environment for one way of connecting; only CRSMON_* variables change."""
    ca = str(authority.certificate)
    sasl = {"CRSMON_KAFKA_SASL_USERNAME": USER, "CRSMON_KAFKA_SASL_PASSWORD": PASSWORD}
    if case == "tls":
        listener, settings = "SSL", {"CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL", "CRSMON_KAFKA_SSL_CAFILE": ca}
    elif case == "mutual tls, encrypted key":
        client = authority.client("worker", key_password=KEY_PASSWORD)
        listener, settings = (
            "MTLS",
            {
                "CRSMON_KAFKA_SECURITY_PROTOCOL": "SSL",
                "CRSMON_KAFKA_SSL_CAFILE": ca,
                "CRSMON_KAFKA_SSL_CERTFILE": str(client.certificate),
                "CRSMON_KAFKA_SSL_KEYFILE": str(client.key),
                "CRSMON_KAFKA_SSL_KEY_PASSWORD": KEY_PASSWORD,
            },
        )
    elif case == "scram-sha-256 over sasl_plaintext":
        listener, settings = (
            "SASL_PLAINTEXT",
            {
                "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "CRSMON_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
                **sasl,
            },
        )
    elif case == "scram-sha-512 over sasl_ssl":
        listener, settings = (
            "SASL_SSL",
            {
                "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CRSMON_KAFKA_SSL_CAFILE": ca,
                "CRSMON_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                **sasl,
            },
        )
    elif case == "plain over sasl_ssl, password file":
        listener, settings = (
            "SASL_SSL",
            {
                "CRSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CRSMON_KAFKA_SSL_CAFILE": ca,
                "CRSMON_KAFKA_SASL_MECHANISM": "PLAIN",
                "CRSMON_KAFKA_SASL_USERNAME": USER,
                "CRSMON_KAFKA_SASL_PASSWORD_FILE": write(tmp_path / "kafka-password", PASSWORD + "\n"),
            },
        )
    else:
        raise AssertionError(case)
    env = worker_environment(broker.listener(listener), unique, tmp_path)
    env.update(settings)
    env["CRSMON_LOG_LEVEL"] = "debug"  # the most a worker logs, for the secrets check
    return env


@pytest.mark.kafka
@pytest.mark.parametrize(
    "case",
    [
        "tls",
        "mutual tls, encrypted key",
        "scram-sha-256 over sasl_plaintext",
        "scram-sha-512 over sasl_ssl",
        "plain over sasl_ssl, password file",
    ],
)
def test_the_worker_alerts_over_a_secured_listener(
    case: str, secured_kafka: LocalKafka, authority: TestAuthority, tmp_path: Path, unique: str
) -> None:
    env = secured_env(case, secured_kafka, authority, tmp_path, unique)
    bootstrap, client = env["CRSMON_BROKER"], kafka_client_options_from_env(env)
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=90)
        produce(bootstrap, env["CRSMON_TOPIC_CLINICAL_EVENTS"], [THERAPY], **client)
        produce(bootstrap, env["CRSMON_TOPIC_VITALS"], [FEVER], **client)
        alerts = read_until(bootstrap, env["CRSMON_TOPIC_ALERTS"], lambda records: len(records) >= 1, **client)
        assert [(a["patient_id"], a["rule"], a["status"]) for a in alerts] == [("MRN-7", "crs", "firing")]
        assert worker.alive()
    finally:
        worker.stop()
    log = worker.output()
    assert "[DEBUG]" in log  # the worker did log at DEBUG, so the next line checks the most it says
    assert PASSWORD not in log and KEY_PASSWORD not in log


@pytest.mark.kafka
def test_the_plaintext_listener_of_the_same_broker_still_serves_the_default_settings(
    secured_kafka: LocalKafka, unique: str
) -> None:
    topic = f"plain-{unique}"
    produce(secured_kafka.bootstrap, topic, [("k", {"n": 1})], **kafka_client_options_from_env({}))
    assert read_until(secured_kafka.bootstrap, topic, lambda records: len(records) == 1)[0]["n"] == 1


@pytest.mark.kafka
@pytest.mark.parametrize("case", ["wrong password", "untrusted CA"])
def test_the_worker_stops_with_a_clear_message_when_the_broker_refuses_it(
    case: str, secured_kafka: LocalKafka, authority: TestAuthority, stranger: TestAuthority, tmp_path: Path, unique: str
) -> None:
    if case == "wrong password":
        env = secured_env("scram-sha-512 over sasl_ssl", secured_kafka, authority, tmp_path, unique)
        env["CRSMON_KAFKA_SASL_PASSWORD"] = wrong = "not-" + PASSWORD
        expected = [
            f"refused the SCRAM-SHA-512 login of user '{USER}'",
            "Check CRSMON_KAFKA_SASL_USERNAME and CRSMON_KAFKA_SASL_PASSWORD",
        ]
    else:
        env = secured_env("tls", secured_kafka, authority, tmp_path, unique)
        env["CRSMON_KAFKA_SSL_CAFILE"] = str(stranger.certificate)
        wrong = None
        expected = [
            "is not trusted",
            f"CRSMON_KAFKA_SSL_CAFILE={stranger.certificate}",
            "the CA that issued the broker's certificate",
        ]
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        assert worker.process.wait(timeout=60) == 2
    finally:
        worker.stop()
    log = worker.output()
    for fragment in expected:
        assert fragment in log
    assert "Traceback" not in log
    assert PASSWORD not in log and (wrong is None or wrong not in log)
