"""Certificates made by the test itself: a CA, a broker certificate for 127.0.0.1, client certificates.

trustme issues them; cryptography rewrites keys the way each side wants them: Kafka's PEM
keystore reads only PKCS#8 keys, and a client key can be encrypted to exercise the key password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization

from crsmon.local_kafka import BrokerTls


@dataclass(frozen=True)
class ClientCertificate:
    certificate: Path
    key: Path
    key_password: str | None = None


class TestAuthority:
    """A certificate authority whose files live in one directory."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "ca") -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._ca = trustme.CA(organization_name=f"crsmon test {name}")
        self.certificate = directory / f"{name}.pem"
        self._ca.cert_pem.write_to_path(str(self.certificate))

    def broker_tls(self, *identities: str) -> BrokerTls:
        """The broker's certificate for the given names (127.0.0.1 by default), trusting this CA."""
        leaf = self._ca.issue_cert(*(identities or ("127.0.0.1", "localhost")))
        chain = self.directory / f"{self.name}-broker.crt"
        chain.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
        key = self.directory / f"{self.name}-broker.key"
        key.write_bytes(_pkcs8(leaf.private_key_pem.bytes(), None))
        return BrokerTls(certificate_chain=chain, private_key=key, trusted_certificates=self.certificate)

    def client(self, name: str, key_password: str | None = None) -> ClientCertificate:
        """A client certificate; with `key_password` its key file is encrypted with it."""
        leaf = self._ca.issue_cert(name)
        certificate = self.directory / f"{self.name}-{name}.crt"
        certificate.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
        key = self.directory / f"{self.name}-{name}.key"
        key.write_bytes(_pkcs8(leaf.private_key_pem.bytes(), key_password))
        return ClientCertificate(certificate, key, key_password)


def _pkcs8(key_pem: bytes, password: str | None) -> bytes:
    key = serialization.load_pem_private_key(key_pem, password=None)
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
