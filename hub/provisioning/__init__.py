"""Device identities for the floor: site CA, client certificates, broker passwords, ACL, CRL.

``provision(device_id, role, site, out_dir=...)`` makes one device's identity and its bundle;
``revoke(device_id)`` takes it back. ``cli.register(subparsers)`` adds the ``floor-hub``
subcommands. See :mod:`hub.provisioning.site` for the site folder's layout.
"""

from __future__ import annotations

from .acl import IdentityRole, acl_lines, render_acl
from .diagnose import IdentityReport, check_device_identity, explain_connect_failure
from .errors import (
    CertificateProblem,
    DeviceExistsError,
    ProvisioningError,
    UnknownDeviceError,
    WrongPasswordError,
)
from .passwords import hash_password, verify_password
from .pki import check_certificate
from .site import (
    DEFAULT_SITE_DIR,
    ProvisionResult,
    RevokeResult,
    SiteAuthority,
    SitePaths,
    provision,
    revoke,
)

__all__ = [
    "DEFAULT_SITE_DIR",
    "CertificateProblem",
    "DeviceExistsError",
    "IdentityReport",
    "IdentityRole",
    "ProvisionResult",
    "ProvisioningError",
    "RevokeResult",
    "SiteAuthority",
    "SitePaths",
    "UnknownDeviceError",
    "WrongPasswordError",
    "acl_lines",
    "check_certificate",
    "check_device_identity",
    "explain_connect_failure",
    "hash_password",
    "provision",
    "render_acl",
    "revoke",
    "verify_password",
]
