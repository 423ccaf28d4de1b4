"""The site's certificate authority: CA, device and broker certificates, the CRL, and checks.

Built on the ``cryptography`` library. Keys are ECDSA (P-384 for the CA, P-256 for devices
and the broker): small, fast on handhelds, and accepted by Mosquitto's OpenSSL. A device
certificate has ``CN=<device id>`` (Mosquitto's ``use_identity_as_username`` makes that the
user name the ACL sees), ``O=<site>``, ``OU=<role>``, a random serial, and the
``clientAuth`` extended key usage. Validity starts a day before issue so a handheld whose
clock is hours behind (a flat RTC battery, a time zone set wrong) still accepts it and is
accepted; a clock further behind gets a clear "not yet valid" from :func:`check_certificate`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import CertificateProblem

CLOCK_SKEW = dt.timedelta(days=1)
"""How far before its issue a certificate (and the CRL) is already valid: handheld clocks
drift and jump by hours."""
CA_DAYS = 3650
DEVICE_DAYS = 365
CRL_DAYS = 90

PrivateKey = ec.EllipticCurvePrivateKey
_PURPOSES = {
    ExtendedKeyUsageOID.CLIENT_AUTH: "client authentication",
    ExtendedKeyUsageOID.SERVER_AUTH: "server authentication",
}


def utcnow() -> dt.datetime:
    """Now, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _fmt(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """The site CA's key and certificate."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def name(self) -> x509.Name:
        """The CA's subject (the issuer of everything it signs)."""
        return self.cert.subject


# -- PEM in and out --------------------------------------------------------------------------


def key_pem(key: PrivateKey) -> bytes:
    """An unencrypted PKCS#8 PEM private key (files holding it are 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """A certificate as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(path: Path) -> x509.Certificate:
    """Read a PEM certificate, or raise :class:`CertificateProblem` saying why not."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise CertificateProblem("unreadable", f"certificate file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise CertificateProblem(
            "unreadable", f"certificate file {path} is not a PEM certificate: {exc}"
        ) from None


def load_key(path: Path) -> PrivateKey:
    """Read an unencrypted PEM EC private key."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise CertificateProblem("unreadable", f"key file {path} does not exist") from None
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateProblem("unreadable", f"key file {path} cannot be read: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateProblem("unreadable", f"key file {path} is not an EC private key")
    return key


# -- issuing ---------------------------------------------------------------------------------


def create_ca(
    site: str, *, now: dt.datetime | None = None, days: int = CA_DAYS
) -> CertificateAuthority:
    """A new self-signed CA for ``site`` (P-384, ``days`` long, may sign only end entities)."""
    now = now or utcnow()
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, site),
            x509.NameAttribute(NameOID.COMMON_NAME, f"floor {site} site CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
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
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA384())
    )
    return CertificateAuthority(key, cert)


def make_csr(
    identity: str, site: str, role: str
) -> tuple[PrivateKey, x509.CertificateSigningRequest]:
    """A new P-256 key and a CSR with ``CN=identity, O=site, OU=role``."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, site),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                    x509.NameAttribute(NameOID.COMMON_NAME, identity),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return key, csr


def _end_entity(
    ca: CertificateAuthority,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    usage: Sequence[x509.ObjectIdentifier],
    now: dt.datetime,
    days: int,
    san: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(usage)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def sign_device_csr(
    ca: CertificateAuthority,
    csr: x509.CertificateSigningRequest,
    *,
    now: dt.datetime | None = None,
    days: int = DEVICE_DAYS,
) -> x509.Certificate:
    """Sign a device's CSR as a client certificate (after checking the CSR's own signature)."""
    if not csr.is_signature_valid:
        raise CertificateProblem("unreadable", "the certificate request's signature is invalid")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise CertificateProblem("unreadable", "the certificate request must use an EC key")
    if days < 1:
        raise ValueError("a certificate must be valid for at least one day")
    return _end_entity(
        ca, csr.subject, public_key, [ExtendedKeyUsageOID.CLIENT_AUTH], now or utcnow(), days
    )


def issue_server_certificate(
    ca: CertificateAuthority,
    hostnames: Iterable[str],
    ips: Iterable[str] = (),
    *,
    now: dt.datetime | None = None,
    days: int = DEVICE_DAYS,
) -> tuple[PrivateKey, x509.Certificate]:
    """A key and certificate for the broker's TLS listener, valid for the given names."""
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    try:
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    except ValueError as exc:
        raise ValueError(f"not an IP address: {exc}") from None
    if not names:
        raise ValueError("the broker certificate needs at least one host name or IP address")
    key = ec.generate_private_key(ec.SECP256R1())
    first = next(iter(hostnames), None) or str(next(iter(ips)))
    orgs = ca.name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(orgs[0].value) if orgs else "floor"),
            x509.NameAttribute(NameOID.COMMON_NAME, str(first)),
        ]
    )
    cert = _end_entity(
        ca,
        subject,
        key.public_key(),
        [ExtendedKeyUsageOID.SERVER_AUTH],
        now or utcnow(),
        days,
        x509.SubjectAlternativeName(names),
    )
    return key, cert


def build_crl(
    ca: CertificateAuthority,
    revoked: Iterable[tuple[int, dt.datetime]],
    *,
    now: dt.datetime | None = None,
    days: int = CRL_DAYS,
) -> x509.CertificateRevocationList:
    """The CA's CRL listing ``(serial, revoked_at)`` pairs, valid ``days`` from now.

    Mosquitto checks every client against it (``crlfile``): an expired CRL makes OpenSSL
    refuse every client, so it must be signed again before ``next_update`` (``floor-hub crl``).
    """
    now = now or utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.name)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + dt.timedelta(days=days))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    for serial, when in sorted(revoked):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca.key, hashes.SHA384())


# -- checking --------------------------------------------------------------------------------


def identity_of(cert: x509.Certificate) -> str:
    """The certificate's CN (the device id)."""
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else "?"


def check_certificate(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    *,
    now: dt.datetime | None = None,
    crl: x509.CertificateRevocationList | None = None,
    purpose: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
) -> None:
    """Raise :class:`CertificateProblem` unless ``cert`` is usable now (``now``: this clock).

    Checks, in this order: signed by ``ca_cert`` (else ``foreign_ca``), the clock is inside
    the validity period (``not_yet_valid`` says the clock is far off; ``expired``), not in the
    CRL (``revoked``), and made for ``purpose`` (``not_for_clients``).
    """
    now = now or utcnow()
    who = identity_of(cert)
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateProblem(
            "foreign_ca",
            f"certificate of {who} was not issued by this site's CA "
            f"({identity_of(ca_cert)}); it comes from {cert.issuer.rfc4514_string()}",
        ) from None
    if now < cert.not_valid_before_utc:
        raise CertificateProblem(
            "not_yet_valid",
            f"certificate of {who} is not valid before {_fmt(cert.not_valid_before_utc)}, "
            f"but this clock says {_fmt(now)}: the device clock is far off. Set it "
            "(timedatectl set-ntp true, or date -s) and connect again",
        )
    if now > cert.not_valid_after_utc:
        raise CertificateProblem(
            "expired",
            f"certificate of {who} expired on {_fmt(cert.not_valid_after_utc)} "
            f"(this clock says {_fmt(now)}): provision the device again "
            f"(floor-hub revoke {who}; floor-hub provision {who} ...)",
        )
    if crl is not None:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            raise CertificateProblem(
                "revoked",
                f"certificate of {who} (serial {cert.serial_number:x}) was revoked on "
                f"{_fmt(entry.revocation_date_utc)}",
            )
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if purpose not in usage:
        raise CertificateProblem(
            "not_for_clients",
            f"certificate of {who} is not made for {_PURPOSES.get(purpose, purpose.dotted_string)}",
        )
