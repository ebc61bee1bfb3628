"""Throwaway credentials for the NATS topology on a developer's machine or in tests: passwords,
the leaf links' nkeys and a CA with the leaf link's TLS certificates (``make run-regions``,
``nzr topology dev-secrets``). Deployments bring their own from Secrets; nothing here is ever
committed.

The files follow the Kubernetes TLS Secret convention (``ca.crt``, ``tls.crt``, ``tls.key``), one
folder per node; the variables are the ones the rendered configs reference (``$NZR_…``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from nzr_common.topology import STATE, account_name, leaf_nkey_variable

# nkeys (github.com/nats-io/nkeys): a type prefix byte, the ed25519 key, CRC16-XMODEM, base32.
_PREFIX_SEED = 18 << 3
_PREFIX_USER = 20 << 3


def _nkey_encode(payload: bytes) -> str:
    checksum = binascii.crc_hqx(payload, 0).to_bytes(2, "little")
    return base64.b32encode(payload + checksum).decode().rstrip("=")


@dataclass(frozen=True)
class UserNkey:
    """An nkey user: the seed (``SU…``) stays with the leaf node, the public key (``U…``) goes
    into the hub's configuration."""

    seed: str
    public: str

    @classmethod
    def generate(cls) -> UserNkey:
        key = ed25519.Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        head = bytes([_PREFIX_SEED | (_PREFIX_USER >> 5), (_PREFIX_USER & 31) << 3])
        return cls(_nkey_encode(head + raw), _nkey_encode(bytes([_PREFIX_USER]) + public))


def password() -> str:
    # Starts with letters so that nats-server reads it from the environment as a string.
    return "nzr" + secrets.token_hex(16)


@dataclass(frozen=True)
class CertificateFiles:
    """One node's TLS folder: the CA, its certificate and key (PEM)."""

    ca: bytes
    certificate: bytes
    key: bytes

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.crt").write_bytes(self.ca)
        (folder / "tls.crt").write_bytes(self.certificate)
        key = folder / "tls.key"
        key.write_bytes(self.key)
        key.chmod(0o600)
        return folder


class CertificateAuthority:
    """A throwaway CA that signs the hub's leaf-listener certificate and each leaf's client one."""

    def __init__(self, name: str = "nzr development CA", *, valid_days: int = 365) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.valid_days = valid_days
        self.subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.certificate = (
            self._builder(self.subject, self.key.public_key(), valid_days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    def _builder(
        self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, valid_days: int
    ) -> x509.CertificateBuilder:
        """Signed by this CA; valid from now for ``valid_days``, or expired when negative."""
        now = datetime.now(UTC)
        starts = now - timedelta(minutes=5) if valid_days > 0 else now + timedelta(days=valid_days - 30)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(starts)
            .not_valid_after(now + timedelta(days=valid_days))
        )

    def issue(
        self,
        common_name: str,
        *,
        hosts: list[str] | None = None,
        server: bool = False,
        valid_days: int | None = None,
    ) -> CertificateFiles:
        """A certificate for ``hosts`` (DNS names or IP addresses): a server's (the hub's leaf
        listener) or a client's (a region's leaf remote); ``valid_days`` < 0: already expired."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts or [common_name]:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        usage = (
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            if server
            else [ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        certificate = (
            self._builder(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
                key.public_key(),
                self.valid_days if valid_days is None else valid_days,
            )
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return CertificateFiles(
            self.certificate.public_bytes(serialization.Encoding.PEM),
            certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )


DEFAULT_HUB_HOSTS = ("127.0.0.1", "localhost", "nats-hub")


@dataclass
class DevSecrets:
    """Every credential of one hub and its regions, generated fresh."""

    regions: list[str]
    hub_hosts: list[str] = field(default_factory=lambda: list(DEFAULT_HUB_HOSTS))
    state_password: str = field(default_factory=password)
    sys_password: str = field(default_factory=password)
    app_passwords: dict[str, str] = field(default_factory=dict)
    leaf_nkeys: dict[str, UserNkey] = field(default_factory=dict)
    tls: dict[str, CertificateFiles] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.authority = CertificateAuthority()
        self.tls[STATE] = self.authority.issue("nats-hub", hosts=self.hub_hosts, server=True)
        for region in list(self.regions):
            self.add_region(region)

    def add_region(self, region: str) -> None:
        """Credentials and a leaf certificate for one more region (same CA)."""
        if region not in self.regions:
            self.regions.append(region)
        self.app_passwords.setdefault(region, password())
        self.leaf_nkeys.setdefault(region, UserNkey.generate())
        self.tls.setdefault(region, self.authority.issue(f"leaf-{region}"))

    def environment(self, node: str) -> dict[str, str]:
        """The variables one node's nats-server configuration references (NATS-CONTRACT point 2)."""
        if node == STATE:
            return {
                "NZR_STATE_PASSWORD": self.state_password,
                "NZR_SYS_PASSWORD": self.sys_password,
                **{leaf_nkey_variable(r): self.leaf_nkeys[r].public for r in self.regions},
            }
        return {
            "NZR_APP_PASSWORD": self.app_passwords[node],
            "NZR_SYS_PASSWORD": self.sys_password,
            "NZR_LEAF_SEED": self.leaf_nkeys[node].seed,
        }

    def config_variables(self, node: str) -> str:
        """The same variables as a nats-server configuration to ``include`` (for supervisors
        that do not pass an environment to the server)."""
        return "".join(f'{name}: "{value}"\n' for name, value in self.environment(node).items())

    def client_password(self, node: str) -> str:
        """Password of the services' user ``nzr`` on ``node`` (the hub or a region)."""
        return self.state_password if node == STATE else self.app_passwords[node]

    def write(self, folder: Path) -> Path:
        """``<node>.env`` and ``tls/<node>/`` per node, and ``nats.env`` with every variable
        (per-region ones suffixed ``_<REGION>``, for compose)."""
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        combined: dict[str, str] = {}
        for node in [STATE, *self.regions]:
            variables = self.environment(node)
            _write_env(folder / f"{_folder_name(node)}.env", variables)
            self.tls[node].write(self.tls_dir(folder, node))
            suffix = "" if node == STATE else f"_{account_name(node)}"
            combined |= {(n if n == "NZR_SYS_PASSWORD" else n + suffix): v for n, v in variables.items()}
        _write_env(folder / "nats.env", combined)
        return folder

    def tls_dir(self, folder: Path, node: str) -> Path:
        return folder / "tls" / _folder_name(node)


def _folder_name(node: str) -> str:
    return "hub" if node == STATE else node


def _write_env(path: Path, variables: dict[str, str]) -> None:
    path.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    path.chmod(0o600)
