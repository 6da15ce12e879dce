"""Ask the broker once, at start, whether it accepts our TLS and SASL login, and say why not.

Kafka clients retry a refused login like an unreachable broker: kafka-python ends in "Unable to
bootstrap", aiokafka in a connection error, and the reason (a wrong password, a CA the broker's
certificate does not come from) stays in a debug log. A wrong password does not heal by waiting,
so the worker checks once with a single connection and stops with a message that names the
setting to fix. A broker that cannot be reached yet is not an error here: the caller waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass

from aiokafka import errors as kafka_errors
from aiokafka.conn import create_conn
from aiokafka.protocol.metadata import MetadataRequest

from kafka_client.security import PREFIX, KafkaSecurity, KafkaSecurityError

log = logging.getLogger(__name__)

_HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH


class KafkaLoginRefused(KafkaSecurityError):
    """The broker answered and refused our certificate check or login: retrying cannot help."""


@dataclass(frozen=True)
class LoginCheck:
    """What one connection attempt showed: accepted, or not (yet) and why."""

    accepted: bool
    explanation: str = ""


def check_broker_accepts(bootstrap: str, security: KafkaSecurity, timeout: float = 10.0) -> LoginCheck:
    """Connect to the first bootstrap server that answers, log in and fetch metadata.

    Raises KafkaLoginRefused when the broker rejects our credentials or we reject its
    certificate; returns LoginCheck(False, why) when no server could be reached or the result
    is not conclusive, so the caller can wait and say why.
    """
    loop = asyncio.new_event_loop()  # not installed as the current loop: Faust makes its own later
    try:
        return loop.run_until_complete(_check(bootstrap, security, timeout))
    finally:
        loop.close()


async def _check(bootstrap: str, security: KafkaSecurity, timeout: float) -> LoginCheck:
    explanations = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            await asyncio.wait_for(_log_in(host, int(port), security, timeout), timeout)
            return LoginCheck(True)
        except KafkaLoginRefused:
            raise
        except Exception as error:  # every other failure is explained, none is fatal
            refusal = _refusal(server, security, error)
            if refusal is not None:
                raise KafkaLoginRefused(refusal) from None
            explanations.append(_inconclusive(server, security, error))
    return LoginCheck(False, "; ".join(explanations))


async def _log_in(host: str, port: int, security: KafkaSecurity, timeout: float) -> None:
    options = security.client_options()
    connection = await create_conn(
        host, port, client_id="crsmon-login-check", request_timeout_ms=int(timeout * 1000), **options
    )
    try:
        await connection.send(MetadataRequest([]))  # the first request that needs a login
    finally:
        connection.close()


def _refusal(server: str, security: KafkaSecurity, error: Exception) -> str | None:
    """The message for a definite refusal, or None when the failure may be passing."""
    if isinstance(error, kafka_errors.SaslAuthenticationFailed):
        return (
            f"Kafka at {server} refused the {security.sasl_mechanism} login of user "
            f"{security.sasl_username!r} (the broker says: {error.args[0] if error.args else error}). "
            f"Check {PREFIX}SASL_USERNAME and {PREFIX}SASL_PASSWORD, and that the user exists on "
            f"the broker for {security.sasl_mechanism}."
        )
    if isinstance(error, kafka_errors.UnsupportedSaslMechanismError):
        return (
            f"Kafka at {server} does not enable SASL mechanism {security.sasl_mechanism} on this "
            f"listener ({error}). Set {PREFIX}SASL_MECHANISM to one the listener enables."
        )
    if isinstance(error, kafka_errors.IllegalSaslStateError):
        return (
            f"Kafka at {server} did not take part in a SASL handshake: that address is probably "
            f"not a SASL listener. Check CRSMON_BROKER and {PREFIX}SECURITY_PROTOCOL={security.protocol}."
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code == _HOSTNAME_MISMATCH:
            return (
                f"The certificate of Kafka at {server} is not issued for that address "
                f"({error.verify_message}). Connect by a name the certificate lists in CRSMON_BROKER."
            )
        trusted = f"{PREFIX}SSL_CAFILE={security.ssl_cafile}" if security.ssl_cafile else "the system's trust store"
        return (
            f"The certificate of Kafka at {server} is not trusted: {error.verify_message}. "
            f"It must be signed by a CA in {trusted}: point {PREFIX}SSL_CAFILE at the CA "
            "that issued the broker's certificate."
        )
    return None


def _inconclusive(server: str, security: KafkaSecurity, error: Exception) -> str:
    cause = str(error) if str(error).startswith(type(error).__name__) else f"{type(error).__name__}: {error}"
    if isinstance(error, (ConnectionRefusedError, asyncio.TimeoutError, TimeoutError, socket.gaierror)):
        return f"Kafka at {server} cannot be reached ({cause})"
    if security.uses_tls and not security.ssl_certfile:
        hint = (
            f"is it a TLS listener? If it requires client certificates (mutual TLS), set "
            f"{PREFIX}SSL_CERTFILE and {PREFIX}SSL_KEYFILE"
        )
    elif security.uses_tls:
        hint = (
            f"is it a TLS listener? If it checks client certificates, it must trust the CA that "
            f"issued {PREFIX}SSL_CERTFILE={security.ssl_certfile}"
        )
    else:
        hint = (
            f"if it is a TLS or SASL listener, set {PREFIX}SECURITY_PROTOCOL to SSL, SASL_PLAINTEXT "
            "or SASL_SSL to match"
        )
    return f"Kafka at {server} closed the connection during the {security.protocol} login ({cause}): {hint}"


def check_login_at_start(bootstrap: str, security: KafkaSecurity) -> None:
    """For a process starting up: stop on a refused login, warn on anything else, then carry on.

    PLAINTEXT has no login to check, so it costs nothing there.
    """
    if security.protocol == "PLAINTEXT":
        return
    check = check_broker_accepts(bootstrap, security)
    if check.accepted:
        log.info("Kafka at %s accepts the login: %s", bootstrap, security.describe())
    else:
        log.warning("Kafka login not confirmed yet (%s): %s; will keep trying", security.describe(), check.explanation)
