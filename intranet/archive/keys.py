"""The company's signing key and self-signed certificate for issued PDFs (issue 11 §4).

The key lives in a file (ARCHIVE_KEY_FILE, mode 0600), never in the database; a company with
its own CA points ARCHIVE_KEY_FILE / ARCHIVE_CERT_FILE at the files it issued instead."""
from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app

from intranet.core import clock


class SigningUnavailable(Exception):
    """No signing key or certificate is configured (run `flask archive keys`)."""


def off_the_event_loop(func, *args):
    """pyhanko's synchronous calls run their own event loop (asyncio.run), which fails in a
    thread that already runs one (an async server, Playwright's sync API in the tests): then
    call them from a short-lived thread of their own. Flask's context is not needed there."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args).result()


def paths() -> tuple[Path, Path]:
    return (Path(current_app.config["ARCHIVE_KEY_FILE"]),
            Path(current_app.config["ARCHIVE_CERT_FILE"]))


def create(company_name: str, key_file: Path, cert_file: Path, years: int = 10) -> None:
    """A new RSA key and a self-signed certificate naming the company, written to the two
    files (the key readable by its owner only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, company_name),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{company_name} 档案签章")])
    now = clock.now()
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def signer():
    key_file, cert_file = paths()
    if not key_file.is_file() or not cert_file.is_file():
        raise SigningUnavailable(str(key_file))
    return _load_signer(str(key_file), str(cert_file), _mtime(key_file), _mtime(cert_file))


def certificate():
    """Our certificate (asn1crypto), the trust root of the verifier."""
    _, cert_file = paths()
    if not cert_file.is_file():
        raise SigningUnavailable(str(cert_file))
    return _load_certificate(str(cert_file), _mtime(cert_file))


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@lru_cache(maxsize=4)
def _load_signer(key_file: str, cert_file: str, _key_mtime: float, _cert_mtime: float):
    from pyhanko.sign import signers

    class ParsedKeySigner(signers.SimpleSigner):
        """pyhanko parses the private key again for every raw signature (twice a PDF: a dry
        run sizes the signature), ~60 ms each for RSA; parse it once."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
            from cryptography.hazmat.primitives.serialization import load_der_private_key
            from pyhanko_certvalidator.util import get_pyca_cryptography_hash

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mechanism.signature_algo != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            if getattr(self, "_parsed_key", None) is None:
                self._parsed_key = load_der_private_key(self.signing_key.dump(), None)
            return self._parsed_key.sign(data, PKCS1v15(),
                                         get_pyca_cryptography_hash(digest_algorithm))

    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = load_cert_from_pemder(cert_file)
    return ParsedKeySigner(signing_cert=cert,
                           signing_key=load_private_key_from_pemder(key_file, passphrase=None),
                           cert_registry=SimpleCertificateStore.from_certs([cert]))


def signature_reserve(signer) -> int:
    """Bytes to reserve in the PDF for the signature container: the certificates it carries,
    the signature value and the signed attributes, with room to spare. Without it pyhanko
    signs each PDF twice, once only to measure (40 % of the signing time)."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    return 8192 + sum(len(c.dump()) for c in certificates)


@lru_cache(maxsize=4)
def _load_certificate(cert_file: str, _mtime: float):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(cert_file)
