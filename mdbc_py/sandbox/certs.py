"""The certificates of a ``--secure`` sandbox: one private CA, a server and a client.

Layout under ``DIR/tls`` (keys are mode 0600, PKCS#8 PEM, unencrypted: the
servers start unattended and the folder is the sandbox's own)::

    ca.pem / ca.key            the sandbox CA (10 years; it signs the two below)
    server.pem / server.key    MariaDB and Cassandra; SANs: localhost and every
                               loopback address the sandbox uses
    server-keystore.pem        server key + certificate + CA, the "keystore" of
                               Cassandra's PEMBasedSslContextFactory
    client.pem / client.key    mdbc's client certificate (CN=mdbc)

The ``cryptography`` package makes them when it is importable; otherwise
the ``openssl`` command does. Neither is a dependency of mdbc_py (a secure
sandbox is a test tool), so when both are missing the error says how to get
one. Existing files are kept (``up`` twice keeps the same CA) unless a
server address they do not cover is added, in which case the server
certificate is made again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mdbc_py.sandbox.processes import SandboxError

__all__ = ["TlsFiles", "ensure_certificates"]

CA_DAYS = 3650
LEAF_DAYS = 825
KEY_BITS = 2048
INSTALL_HINT = "pip install cryptography (or install the openssl command: apt-get install openssl)"


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the generated files (all absolute)."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @property
    def server_keystore(self) -> Path:
        return self.folder / "server-keystore.pem"

    @property
    def client_cert(self) -> Path:
        return self.folder / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "client.key"

    @property
    def sans_file(self) -> Path:
        return self.folder / "server.sans"


def ensure_certificates(folder: Path, addresses: Iterable[str], tool: str = "auto") -> TlsFiles:
    """Make (or keep) the CA, server and client certificates under ``folder``.

    ``addresses`` are the IPs the servers listen on; ``tool`` is ``auto``,
    ``cryptography`` or ``openssl`` (tests force each one).
    """
    files = TlsFiles(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    sans = sorted({"127.0.0.1", *addresses}, key=lambda a: tuple(map(int, a.split("."))))
    maker = _pick(tool)
    if not (files.ca.is_file() and files.ca_key.is_file()):
        maker.ca(files)
        _remove(files.server_cert, files.client_cert)
    if not files.server_cert.is_file() or _read(files.sans_file) != ",".join(sans):
        maker.leaf(files, "mdbc-sandbox-server", sans, files.server_cert, files.server_key)
        _write(files.sans_file, ",".join(sans), 0o644)
    if not files.client_cert.is_file():
        maker.leaf(files, "mdbc", [], files.client_cert, files.client_key)
    keystore = files.server_key.read_text() + files.server_cert.read_text() + files.ca.read_text()
    _write(files.server_keystore, keystore, 0o600)
    return files


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _write(path: Path, text: str | bytes, mode: int) -> None:
    """Write atomically with ``mode`` from the start (a key is never briefly world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(text.encode() if isinstance(text, str) else text)
    os.chmod(tmp, mode)
    tmp.replace(path)


class _Maker:
    def ca(self, files: TlsFiles) -> None:
        raise NotImplementedError

    def leaf(self, files: TlsFiles, cn: str, sans: list[str], cert: Path, key: Path) -> None:
        raise NotImplementedError


def _pick(tool: str) -> _Maker:
    if tool not in ("auto", "cryptography", "openssl"):
        raise ValueError(f"unknown certificate tool {tool!r}")
    if tool in ("auto", "cryptography"):
        try:
            import cryptography  # noqa: F401
        except ImportError:
            if tool == "cryptography":
                raise SandboxError(f"the cryptography package is missing: {INSTALL_HINT}") from None
        else:
            return _CryptographyMaker()
    if shutil.which("openssl"):
        return _OpensslMaker()
    raise SandboxError(
        f"--secure needs the cryptography package or the openssl command: {INSTALL_HINT}"
    )


class _CryptographyMaker(_Maker):
    """Certificates through the ``cryptography`` package."""

    def ca(self, files: TlsFiles) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdbc sandbox CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write(files.ca_key, _pkcs8(key), 0o600)
        _write(files.ca, _pem(cert), 0o644)

    def leaf(self, files: TlsFiles, cn: str, sans: list[str], cert: Path, key: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(files.ca.read_bytes())
        leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if sans else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        if sans:
            names: list[x509.GeneralName] = [x509.DNSName("localhost")]
            names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sans]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        signed = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        _write(key, _pkcs8(leaf_key), 0o600)
        _write(cert, _pem(signed), 0o644)


def _pkcs8(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(cert: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)  # type: ignore[attr-defined, no-any-return]


class _OpensslMaker(_Maker):
    """Certificates through the ``openssl`` command (OpenSSL 1.1.1 or later)."""

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            ["openssl", *args], capture_output=True, text=True, check=False, timeout=60
        )
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise SandboxError(f"openssl {args[0]} failed: {tail}")

    def _key(self, path: Path) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "key.pem"
            self._run("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{KEY_BITS}",
                      "-out", str(out))  # fmt: skip
            _write(path, out.read_bytes(), 0o600)

    def ca(self, files: TlsFiles) -> None:
        self._key(files.ca_key)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "ca.pem"
            self._run(
                "req", "-x509", "-new", "-key", str(files.ca_key), "-sha256",
                "-days", str(CA_DAYS), "-subj", "/CN=mdbc sandbox CA",
                "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", str(out),
            )  # fmt: skip
            _write(files.ca, out.read_bytes(), 0o644)

    def leaf(self, files: TlsFiles, cn: str, sans: list[str], cert: Path, key: Path) -> None:
        self._key(key)
        with tempfile.TemporaryDirectory() as tmp:
            csr = Path(tmp) / "req.csr"
            ext = Path(tmp) / "ext.cnf"
            out = Path(tmp) / "cert.pem"
            self._run("req", "-new", "-key", str(key), "-subj", f"/CN={cn}", "-out", str(csr))
            lines = ["basicConstraints=critical,CA:FALSE"]
            if sans:
                lines.append("extendedKeyUsage=serverAuth")
                alt = ["DNS:localhost", *(f"IP:{a}" for a in sans)]
                lines.append("subjectAltName=" + ",".join(alt))
            else:
                lines.append("extendedKeyUsage=clientAuth")
            ext.write_text("\n".join(lines) + "\n")
            self._run(
                "x509", "-req", "-in", str(csr), "-CA", str(files.ca),
                "-CAkey", str(files.ca_key), "-CAcreateserial", "-sha256",
                "-days", str(LEAF_DAYS), "-extfile", str(ext), "-out", str(out),
            )  # fmt: skip
            _write(cert, out.read_bytes(), 0o644)
        (files.folder / "ca.srl").unlink(missing_ok=True)
