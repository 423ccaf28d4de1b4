"""``floor-hub provision``, ``revoke``, ``broker-cert``, ``crl`` and ``identities``.

``register(subparsers)`` adds the subcommands to a parser's subparsers; each sets
``func`` to a callable ``(args) -> int`` (0 done, 1 refused with a message on stderr).
The site folder is ``--site-dir`` or ``$FLOOR_SITE_DIR`` (default ``/etc/floor/site``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ProvisioningError
from .site import DEFAULT_DEVICE_DIR, DEFAULT_SITE_DIR, SiteAuthority

SITE_DIR_ENV = "FLOOR_SITE_DIR"
BROKER_ENV = "FLOOR_PROVISION_BROKER"


def _site_dir(args: argparse.Namespace) -> Path:
    return Path(args.site_dir or os.environ.get(SITE_DIR_ENV) or DEFAULT_SITE_DIR)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site-dir",
        type=Path,
        metavar="DIR",
        help=f"the site folder (default ${SITE_DIR_ENV} or {DEFAULT_SITE_DIR})",
    )


def _guard(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ProvisioningError as exc:
            print(f"floor-hub {args.command}: {exc}", file=sys.stderr)
            return 1
        except PermissionError as exc:
            print(
                f"floor-hub {args.command}: permission denied on {exc.filename} "
                "(run as root: the site folder holds the CA key)",
                file=sys.stderr,
            )
            return 1

    return wrapped


def register(subparsers: Any) -> None:
    """Add the provisioning subcommands to ``floor-hub``'s subparsers."""
    p = subparsers.add_parser(
        "provision",
        help="create a device's identity, ACL entry and config bundle",
        description="Create a device's identity (client certificate from the site CA, or a "
        "broker password), its ACL entry and its floor.toml, in OUT/DEVICE_ID/.",
    )
    p.add_argument("device_id", metavar="DEVICE_ID")
    p.add_argument(
        "--role", required=True, help="picker, packer, supervisor (devices), hub or intake"
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument("--cert", dest="method", action="store_const", const="cert")
    how.add_argument("--password", dest="method", action="store_const", const="password")
    p.set_defaults(method="cert")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="bundle folder")
    p.add_argument("--site", help="site id (needed the first time)")
    p.add_argument(
        "--broker",
        default=os.environ.get(BROKER_ENV, "mqtts://floor-hub:8883"),
        help=f"broker URL for the device (default ${BROKER_ENV} or mqtts://floor-hub:8883)",
    )
    p.add_argument("--days", type=int, default=365, help="certificate validity (default 365)")
    p.add_argument("--station", default="", help="pack station code for packers (PACK-01)")
    p.add_argument(
        "--device-dir",
        type=Path,
        default=DEFAULT_DEVICE_DIR,
        help=f"where the files go on the device (default {DEFAULT_DEVICE_DIR})",
    )
    _common(p)
    p.set_defaults(func=_guard(_provision))

    r = subparsers.add_parser(
        "revoke",
        help="revoke a device: CRL, password file and ACL",
        description="Revoke a device: its certificate goes into the CRL, it leaves the "
        "password file and the ACL. Reload the broker afterwards.",
    )
    r.add_argument("device_id", metavar="DEVICE_ID")
    r.add_argument("--reason", default="", help="why (kept in the registry)")
    _common(r)
    r.set_defaults(func=_guard(_revoke))

    b = subparsers.add_parser(
        "broker-cert", help="issue the broker's TLS certificate from the site CA"
    )
    b.add_argument("--host", action="append", default=[], help="DNS name (repeatable)")
    b.add_argument("--ip", action="append", default=[], help="IP address (repeatable)")
    b.add_argument("--site", help="site id (needed the first time)")
    b.add_argument("--days", type=int, default=365)
    _common(b)
    b.set_defaults(func=_guard(_broker_cert))

    c = subparsers.add_parser("crl", help="sign the CRL again (run monthly)")
    c.add_argument("--days", type=int, default=90, help="CRL validity (default 90)")
    _common(c)
    c.set_defaults(func=_guard(_crl))

    d = subparsers.add_parser("identities", help="list provisioned identities")
    d.add_argument("--json", action="store_true")
    _common(d)
    d.set_defaults(func=_guard(_identities))


def _provision(args: argparse.Namespace) -> int:
    authority = SiteAuthority(_site_dir(args))
    result = authority.provision(
        args.device_id,
        args.role,
        args.site,
        out_dir=args.out,
        method=args.method,
        broker_url=args.broker,
        device_dir=args.device_dir,
        valid_days=args.days,
        station=args.station,
    )
    if result.created_ca:
        print(f"created the site CA for {result.site} in {authority.paths.ca_cert.parent}")
    what = (
        f"certificate serial {result.serial}, valid until {result.not_after:%Y-%m-%d}"
        if result.method == "cert"
        else "password (in floor.toml)"
    )
    print(f"provisioned {result.device_id} as {result.role} at {result.site}: {what}")
    print(f"bundle: {result.bundle_dir} ({', '.join(f.name for f in result.files)})")
    print(f"copy it to {args.device_dir}/ on the device; then: systemctl reload mosquitto")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    result = SiteAuthority(_site_dir(args)).revoke(args.device_id, reason=args.reason)
    serial = f" (certificate serial {result.serial} is in the CRL)" if result.serial else ""
    print(f"revoked {result.device_id}{serial}; now: systemctl reload mosquitto")
    return 0


def _broker_cert(args: argparse.Namespace) -> int:
    cert, key = SiteAuthority(_site_dir(args)).issue_broker_certificate(
        args.host, args.ip, site=args.site, days=args.days
    )
    print(f"broker certificate {cert} and key {key}; now: systemctl restart mosquitto")
    return 0


def _crl(args: argparse.Namespace) -> int:
    path = SiteAuthority(_site_dir(args)).refresh_crl(days=args.days)
    print(f"signed {path} again, valid {args.days} days; now: systemctl reload mosquitto")
    return 0


def _identities(args: argparse.Namespace) -> int:
    items = SiteAuthority(_site_dir(args)).identities()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        k: getattr(i, k)
                        for k in ("device_id", "role", "method", "serial", "not_after")
                    }
                    for i in items
                ]
            )
        )
        return 0
    for i in items:
        until = f" until {i.not_after[:10]}" if i.not_after else ""
        print(f"{i.device_id:<24} {i.role:<10} {i.method}{until}")
    return 0
