"""Kafka TLS and SASL settings, read once from the environment for every client crsmon opens.

The worker (Faust), its topic set-up, the pager dispatcher, the ward dashboard and ingest all
connect to the same brokers, so they share one reading of the environment and one set of error
messages. A mistake in these settings stops the process at start with what is wrong and what to
do, rather than as a connection that fails or silently goes out unencrypted later. The worker
turns these settings into Faust's credentials itself (streams/settings.py).

Passwords are held as `Secret`, a string whose repr and str are masked: kafka-python logs its
whole configuration at DEBUG. Both client libraries also log every request at DEBUG, and a SASL
PLAIN request carries the password in its bytes, so each Secret's text is also masked in every
log record this process creates (see `_mask_in_log_records`).
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)

PREFIX = "CRSMON_KAFKA_"
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_TLS = {"SSL", "SASL_SSL"}
_SASL = {"SASL_PLAINTEXT", "SASL_SSL"}
_MASK = "***"


class KafkaSecurityError(ValueError):
    """The Kafka security settings cannot work; the message names each variable and the fix."""


class Secret(str):
    """A password that prints as *** wherever it is logged, formatted or repr'd.

    It is still a str, so the SASL code of kafka-python and aiokafka, which only encodes and
    joins it, sends the real value. `reveal()` is the one deliberate way to read it.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> "Secret":
        secret = super().__new__(cls, value)
        _mask_in_log_records(str.__str__(secret))
        return secret

    def __repr__(self) -> str:
        return repr(_MASK)

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return format(_MASK, spec)

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class KafkaSecurity:
    """How to reach the brokers: the protocol, the TLS material and the SASL login.

    Build it with `from_env()`, which checks everything; constructing it directly skips the
    checks (tests and embedding code that have validated their values already).
    """

    protocol: str = "PLAINTEXT"
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: Secret | None = None
    ssl_check_hostname: bool = True
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: Secret | None = None

    def __post_init__(self) -> None:
        for name in ("ssl_key_password", "sasl_password"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Secret):
                object.__setattr__(self, name, Secret(value))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "KafkaSecurity":
        """The settings in CRSMON_KAFKA_*; raises KafkaSecurityError listing every problem."""
        return _read(os.environ if environ is None else environ)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in _TLS

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in _SASL

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context: the broker must present a certificate from the CA (or the
        system's trust store when no CA file is set) for the host name it was dialled by."""
        if not self.uses_tls:
            return None
        return self._context(self._key_password)

    def _context(self, key_password: Callable[[], str]) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ssl_cafile)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, password=key_password)
        return context

    def _key_password(self) -> str:
        """Called by OpenSSL only for an encrypted key; without it OpenSSL would ask on a terminal."""
        if self.ssl_key_password is None:
            raise KafkaSecurityError(
                f"{PREFIX}SSL_KEYFILE is encrypted: set {PREFIX}SSL_KEY_PASSWORD "
                f"(or {PREFIX}SSL_KEY_PASSWORD_FILE) to its password"
            )
        return self.ssl_key_password.reveal()

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python and aiokafka clients (producers, consumers, admin).

        Only options both libraries accept: the TLS material travels inside `ssl_context`.
        """
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options

    def describe(self) -> str:
        """One line for the start-up log: what is used, never a secret."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username!r}")
        if self.uses_tls:
            parts.append(f"CA {self.ssl_cafile or 'system trust store'}")
            if self.ssl_certfile:
                parts.append(f"client certificate {self.ssl_certfile}")
            parts.append("hostname verification " + ("on" if self.ssl_check_hostname else "OFF"))
        return ", ".join(parts)


def kafka_client_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Security keyword arguments for a kafka-python or aiokafka client, from CRSMON_KAFKA_*.

    For the dispatcher, the dashboard and ingest: `AIOKafkaConsumer(..., **kafka_client_options_from_env())`.
    """
    return KafkaSecurity.from_env(environ).client_options()


# -- masking secrets in log records ------------------------------------------------------

_masked: tuple[str, ...] = ()  # replaced, never mutated: log records are made on many threads


def _mask_in_log_records(text: str) -> None:
    """Make every log record of this process show *** where `text` (or its bytes repr) would be.

    A record factory rather than a handler filter: it sees records of every logger whatever
    handlers Faust or a test installs later, and it runs before any handler formats the message.
    """
    global _masked
    if not text:
        return
    forms = {text, repr(text.encode())[2:-1]} - set(_masked)
    if not forms:
        return
    if not _masked:
        logging.setLogRecordFactory(_masking_factory(logging.getLogRecordFactory()))
    _masked = tuple(sorted({*_masked, *forms}, key=len, reverse=True))


def _masking_factory(make_record: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for logging to report
            return record
        if any(text in message for text in _masked):
            for text in _masked:
                message = message.replace(text, _MASK)
            record.msg, record.args = message, None
        return record

    return make_masked_record


# -- reading and checking the environment -------------------------------------------------


def _read(environ: Mapping[str, str]) -> KafkaSecurity:
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = environ.get(PREFIX + name, "").strip()
        return value or None

    protocol = (get("SECURITY_PROTOCOL") or "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        problems.append(
            f"{PREFIX}SECURITY_PROTOCOL={protocol} is not one crsmon supports: "
            f"use {', '.join(PROTOCOLS[:-1])} or {PROTOCOLS[-1]}"
        )
    tls_names = [
        "SSL_CAFILE",
        "SSL_CERTFILE",
        "SSL_KEYFILE",
        "SSL_KEY_PASSWORD",
        "SSL_KEY_PASSWORD_FILE",
        "SSL_CHECK_HOSTNAME",
    ]
    sasl_names = ["SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD", "SASL_PASSWORD_FILE"]
    for names, needed, use in ((tls_names, _TLS, "SSL or SASL_SSL"), (sasl_names, _SASL, "SASL_PLAINTEXT or SASL_SSL")):
        stray = [PREFIX + name for name in names if get(name)]
        if stray and protocol in PROTOCOLS and protocol not in needed:
            problems.append(
                f"{', '.join(stray)} set, but {PREFIX}SECURITY_PROTOCOL is {protocol}, which "
                f"does not use them: set {PREFIX}SECURITY_PROTOCOL to {use}, or unset them"
            )

    cafile, certfile, keyfile = (
        _readable_file(name, get(name), problems) for name in ("SSL_CAFILE", "SSL_CERTFILE", "SSL_KEYFILE")
    )
    if keyfile and not get("SSL_CERTFILE"):
        problems.append(
            f"{PREFIX}SSL_KEYFILE is set without {PREFIX}SSL_CERTFILE: "
            "set the client certificate that belongs to the key"
        )
    key_password = _secret("SSL_KEY_PASSWORD", get, problems)
    if key_password is not None and not get("SSL_CERTFILE"):
        problems.append(
            f"{PREFIX}SSL_KEY_PASSWORD is set without a client key: set {PREFIX}SSL_CERTFILE "
            f"and {PREFIX}SSL_KEYFILE, or unset the password"
        )
    check_hostname = _boolean("SSL_CHECK_HOSTNAME", get("SSL_CHECK_HOSTNAME") or "true", problems)

    mechanism = username = password = None
    if protocol in _SASL:
        mechanism = (get("SASL_MECHANISM") or "").upper() or None
        if mechanism is None:
            problems.append(
                f"{PREFIX}SECURITY_PROTOCOL={protocol} needs {PREFIX}SASL_MECHANISM: "
                f"set it to {', '.join(SASL_MECHANISMS)} (whichever the broker enables)"
            )
        elif mechanism not in SASL_MECHANISMS:
            problems.append(
                f"{PREFIX}SASL_MECHANISM={mechanism} is not supported by crsmon: use {', '.join(SASL_MECHANISMS)}"
            )
        username = get("SASL_USERNAME")
        if username is None:
            problems.append(f"SASL needs a user name: set {PREFIX}SASL_USERNAME")
        password = _secret("SASL_PASSWORD", get, problems)
        if password is None and not any(p.startswith(f"{PREFIX}SASL_PASSWORD") for p in problems):
            problems.append(
                f"SASL needs a password: set {PREFIX}SASL_PASSWORD, or {PREFIX}SASL_PASSWORD_FILE "
                "to a file that holds it"
            )
        if mechanism == "PLAIN" and protocol == "SASL_PLAINTEXT":
            log.warning(
                "Kafka SASL PLAIN over SASL_PLAINTEXT sends the password unencrypted: "
                "use SASL_SSL, or a SCRAM mechanism"
            )

    if problems:
        raise KafkaSecurityError(_report(problems))
    security = KafkaSecurity(
        protocol, cafile, certfile, keyfile, key_password, check_hostname, mechanism, username, password
    )
    _check_tls_material(security, problems)
    if problems:
        raise KafkaSecurityError(_report(problems))
    if security.uses_tls and not check_hostname:
        log.warning(
            "Kafka TLS hostname verification is off (%sSSL_CHECK_HOSTNAME=false): any "
            "certificate the CA signed is accepted for any broker address",
            PREFIX,
        )
    return security


def _report(problems: list[str]) -> str:
    return "Kafka security settings cannot work:\n" + "\n".join(f"  - {problem}" for problem in problems)


def _readable_file(name: str, path: str | None, problems: list[str]) -> str | None:
    if path is None:
        return None
    what = {
        "SSL_CAFILE": "the PEM file of the CA that signed the broker's certificate",
        "SSL_CERTFILE": "the client certificate (PEM)",
        "SSL_KEYFILE": "the client certificate's private key (PEM)",
    }[name]
    if not os.path.isfile(path):
        reason = "is a directory" if os.path.isdir(path) else "does not exist"
        problems.append(f"{PREFIX}{name}={path} {reason}: point it at {what}")
    elif not os.access(path, os.R_OK):
        problems.append(f"{PREFIX}{name}={path} cannot be read by this user: fix its permissions")
    return path


def _secret(name: str, get: Any, problems: list[str]) -> Secret | None:
    """A password from NAME, or from the file NAME_FILE (the container-secrets convention)."""
    value, path = get(name), get(name + "_FILE")
    if value is not None and path is not None:
        problems.append(f"both {PREFIX}{name} and {PREFIX}{name}_FILE are set: keep one")
        return None
    if path is None:
        return None if value is None else Secret(value)
    try:
        with open(path, encoding="utf-8") as secret_file:
            value = secret_file.read().rstrip("\r\n")
    except OSError as error:
        problems.append(
            f"{PREFIX}{name}_FILE={path} cannot be read ({error.strerror}): point it at a file that holds the password"
        )
        return None
    if not value:
        problems.append(f"{PREFIX}{name}_FILE={path} is empty: put the password in it")
        return None
    return Secret(value)


def _boolean(name: str, value: str, problems: list[str]) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    problems.append(f"{PREFIX}{name}={value} is not true or false")
    return True


def _check_tls_material(security: KafkaSecurity, problems: list[str]) -> None:
    """Load the CA, certificate and key now, so a wrong file or password stops the start."""
    if not security.uses_tls:
        return
    try:
        ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=security.ssl_cafile)
    except ssl.SSLError as error:
        problems.append(
            f"{PREFIX}SSL_CAFILE={security.ssl_cafile} holds no usable PEM certificate "
            f"({error.reason or error}): point it at the CA's certificate in PEM form"
        )
        return
    if not security.ssl_certfile:
        return
    asked_for_password = []

    def key_password() -> str:
        asked_for_password.append(True)
        return security._key_password()  # noqa: SLF001

    try:
        security._context(key_password)  # noqa: SLF001
    except KafkaSecurityError as error:
        problems.append(str(error))
    except ssl.SSLError as error:
        problems.append(_explain_key_error(security, error, bool(asked_for_password)))


def _explain_key_error(security: KafkaSecurity, error: ssl.SSLError, key_is_encrypted: bool) -> str:
    files = f"{PREFIX}SSL_CERTFILE={security.ssl_certfile}"
    if security.ssl_keyfile:
        files += f" and {PREFIX}SSL_KEYFILE={security.ssl_keyfile}"
    if "MISMATCH" in (error.reason or ""):
        return f"{files} do not belong together: the key is not the certificate's key"
    if key_is_encrypted:
        return f"{PREFIX}SSL_KEY_PASSWORD does not decrypt the client key in {files}: set the key's password"
    return (
        f"{files} cannot be loaded as a PEM certificate and private key ({error.reason or error}); "
        f"if the key is in a file of its own, set {PREFIX}SSL_KEYFILE"
    )
