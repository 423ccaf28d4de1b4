"""On the device: is its identity usable, and why did the broker refuse it? Plain words.

:func:`check_device_identity` reads the device's ``floor.toml`` settings and checks its
certificate against its CA with the device's own clock (a clock far behind shows as
"not valid before ..., the device clock is far off"). :func:`explain_connect_failure` turns
what OpenSSL or the broker said into the step an operator takes. ``floor-app doctor`` can
show both.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass

from floor_app.settings import SyncSettings

from . import pki
from .errors import CertificateProblem


@dataclass(frozen=True, slots=True)
class IdentityReport:
    """What the device's identity is and until when it is valid."""

    device_id: str
    method: str
    not_after: dt.datetime | None


def check_device_identity(
    sync: SyncSettings, device_id: str, *, now: dt.datetime | None = None
) -> IdentityReport:
    """Check the ``[sync]`` identity files; raise :class:`CertificateProblem` with the fix."""
    if sync.cert_file is None:
        if not sync.username:
            return IdentityReport(device_id, "none", None)
        if not sync.password.get_secret_value():
            raise CertificateProblem(
                "unreadable", f"[sync] username is {sync.username!r} but the password is empty"
            )
        return IdentityReport(device_id, "password", None)
    if sync.key_file is None:
        raise CertificateProblem("unreadable", "[sync] cert_file is set but key_file is not")
    if sync.ca_file is None:
        raise CertificateProblem("unreadable", "[sync] cert_file is set but ca_file is not")
    cert = pki.load_cert(sync.cert_file)
    key = pki.load_key(sync.key_file)
    if cert.public_key() != key.public_key():
        raise CertificateProblem(
            "unreadable", f"{sync.key_file} is not the key of certificate {sync.cert_file}"
        )
    ca = pki.load_cert(sync.ca_file)
    pki.check_certificate(cert, ca, now=now)
    cn = pki.identity_of(cert)
    if cn != device_id:
        raise CertificateProblem(
            "unreadable",
            f"certificate {sync.cert_file} is for {cn}, but this device is {device_id}",
        )
    return IdentityReport(device_id, "cert", cert.not_valid_after_utc)


_TLS_HINTS = (
    (
        "certificate is not yet valid",
        "the broker's certificate is not yet valid by this device's clock: the device clock "
        "is far off. Set it (timedatectl set-ntp true) and connect again",
    ),
    (
        "certificate has expired",
        "a certificate has expired (this device's or the broker's): check the device clock, "
        "then renew the certificate (floor-hub provision after floor-hub revoke)",
    ),
    (
        "self-signed certificate",
        "the broker's certificate is not from this site's CA: the device's ca.crt belongs to "
        "another site, or the broker uses another certificate",
    ),
    (
        "unable to get local issuer",
        "the broker's certificate is not from this site's CA: copy the site's ca.crt again",
    ),
    (
        "hostname mismatch",
        "the broker's certificate does not name the host in [sync] broker: use the name it "
        "was issued for (floor-hub broker-cert --host ...)",
    ),
    ("certificate revoked", "this device's certificate was revoked: provision it again"),
    (
        "unknown ca",
        "the broker does not know this device's CA: the certificate comes from another site",
    ),
    ("bad certificate", "the broker refused this device's certificate"),
    (
        "certificate required",
        "the broker requires a client certificate: set cert_file and key_file in [sync]",
    ),
)

_CONNACK_HINTS = (
    (
        "bad user name or password",
        "the broker refused the user name or password: copy floor.toml from the device's "
        "bundle again, or provision the device anew",
    ),
    (
        "not authorized",
        "the broker refused this identity (wrong password, or revoked): provision it again",
    ),
)


def explain_connect_failure(error: BaseException | str) -> str:
    """One sentence for an operator from an ``ssl`` error, an OS error or a CONNACK reason."""
    text = str(error)
    low = text.lower()
    if isinstance(error, ssl.SSLError) or "ssl" in low or "certificate" in low:
        for needle, hint in _TLS_HINTS:
            if needle in low:
                return f"{hint} ({text})"
        return f"TLS handshake with the broker failed ({text})"
    for needle, hint in _CONNACK_HINTS:
        if needle in low:
            return f"{hint} ({text})"
    if isinstance(error, ConnectionRefusedError):
        return f"nothing listens at the broker's address: is the broker running? ({text})"
    return text
