"""A site's identities: provisioning and revoking devices, and the broker files that follow.

Everything lives in one site folder (default ``/etc/floor/site``, owner root, mode 0700)::

    registry.json        every identity: role, method, serial, expiry, password hash; revoked
    ca/ca.key ca.crt     the site CA (the key never leaves this folder)
    issued/<serial>.crt  every certificate issued, for audit
    broker/              what Mosquitto reads (group mosquitto, 0640):
        ca.crt server.crt server.key crl.pem passwd acl

``registry.json`` is the source of truth: ``passwd``, ``acl`` and ``crl.pem`` are generated
from it as a whole after every change (hand edits there are lost), so they always agree.
A device's bundle (``floor.toml``, ``ca.crt`` and either ``device.crt``/``device.key`` or the
password inside ``floor.toml``) is written to ``<out>/<device id>/`` to be copied onto the
device. The broker must then reload its files: ``systemctl reload mosquitto`` (SIGHUP).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sync.mqtt import BrokerUrlError, parse_broker_url

from . import pki
from .acl import IdentityRole, render_acl
from .device_config import render_device_config, render_service_identity
from .errors import (
    DeviceExistsError,
    ProvisioningError,
    UnknownDeviceError,
    WrongPasswordError,
)
from .files import exclusive_lock, fsync_dir, set_group, write_atomic
from .passwords import hash_password, new_password, render_password_file, verify_password

Method = Literal["cert", "password"]

DEFAULT_SITE_DIR = Path("/etc/floor/site")
DEFAULT_DEVICE_DIR = Path("/etc/floor")
BROKER_GROUP = "mosquitto"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
SITE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
REGISTRY_VERSION = 1


@dataclass(slots=True)
class Identity:
    """One provisioned identity (a device, the hub, or upstream intake)."""

    device_id: str
    role: str
    method: str
    issued_at: str
    serial: str | None = None  # hex, certificates only
    not_after: str | None = None
    password_hash: str | None = None
    station: str = ""


@dataclass(slots=True)
class Revoked:
    """A revoked identity (its certificate serial stays in the CRL)."""

    device_id: str
    method: str
    revoked_at: str
    serial: str | None = None
    not_after: str | None = None
    reason: str = ""


@dataclass(slots=True)
class Registry:
    """The site's ``registry.json``."""

    site: str
    identities: dict[str, Identity] = field(default_factory=dict)
    revoked: list[Revoked] = field(default_factory=list)

    def to_json(self) -> str:
        """Serialise (stable order, readable diffs)."""
        return json.dumps(
            {
                "version": REGISTRY_VERSION,
                "site": self.site,
                "identities": {k: asdict(v) for k, v in sorted(self.identities.items())},
                "revoked": [asdict(r) for r in self.revoked],
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, path: Path) -> Registry:
        """Parse, with a clear error naming the file."""
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("version") != REGISTRY_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            return cls(
                site=str(data["site"]),
                identities={k: Identity(**v) for k, v in data["identities"].items()},
                revoked=[Revoked(**r) for r in data["revoked"]],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ProvisioningError(f"site registry {path} is damaged: {exc}") from None


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    """What :func:`provision` made. ``password`` is set for password identities only."""

    device_id: str
    role: str
    site: str
    method: str
    bundle_dir: Path
    files: tuple[Path, ...]
    serial: str | None
    not_after: dt.datetime | None
    password: str | None
    created_ca: bool


@dataclass(frozen=True, slots=True)
class RevokeResult:
    """What :func:`revoke` changed."""

    device_id: str
    method: str
    serial: str | None
    revoked_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SitePaths:
    """Where a site folder keeps each file."""

    root: Path

    @property
    def registry(self) -> Path:
        """The identity registry (JSON)."""
        return self.root / "registry.json"

    @property
    def ca_key(self) -> Path:
        """The CA's private key."""
        return self.root / "ca" / "ca.key"

    @property
    def ca_cert(self) -> Path:
        """The CA certificate."""
        return self.root / "ca" / "ca.crt"

    @property
    def issued(self) -> Path:
        """Archive of issued certificates."""
        return self.root / "issued"

    @property
    def broker(self) -> Path:
        """The folder Mosquitto reads."""
        return self.root / "broker"

    @property
    def broker_ca(self) -> Path:
        """``cafile`` of the broker's TLS listeners."""
        return self.broker / "ca.crt"

    @property
    def server_cert(self) -> Path:
        """``certfile`` of the broker's TLS listeners."""
        return self.broker / "server.crt"

    @property
    def server_key(self) -> Path:
        """``keyfile`` of the broker's TLS listeners."""
        return self.broker / "server.key"

    @property
    def crl(self) -> Path:
        """``crlfile`` of the certificate listener."""
        return self.broker / "crl.pem"

    @property
    def passwd(self) -> Path:
        """``password_file``."""
        return self.broker / "passwd"

    @property
    def acl(self) -> Path:
        """``acl_file``."""
        return self.broker / "acl"


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def check_id(value: str, what: str = "device id") -> str:
    """Refuse an id the device settings or MQTT topics would refuse."""
    pattern = SITE_RE if what == "site" else ID_RE
    if not pattern.match(value):
        raise ProvisioningError(
            f"{what} {value!r} is not valid: use 2 to 32 lowercase letters, digits and dashes, "
            "starting with a letter or digit"
            if what != "site"
            else f"site {value!r} is not valid: use 1 to 32 lowercase letters, digits and dashes"
        )
    return value


def _check_role(role: str) -> IdentityRole:
    try:
        return IdentityRole(role)
    except ValueError:
        known = ", ".join(r.value for r in IdentityRole)
        raise ProvisioningError(f"role {role!r} is not one of {known}") from None


def _check_broker(url: str, method: str) -> None:
    try:
        address = parse_broker_url(url)
    except BrokerUrlError as exc:
        raise ProvisioningError(str(exc)) from None
    if address.username or address.password:
        raise ProvisioningError("the broker URL must not carry credentials")
    if address.tls:
        return
    if method == "cert":
        raise ProvisioningError(
            f"a certificate identity needs a TLS broker URL (mqtts://...), not {url!r}"
        )
    try:
        loopback = ipaddress.ip_address(address.host).is_loopback
    except ValueError:
        loopback = address.host == "localhost"
    if not loopback:
        raise ProvisioningError(
            f"broker {url!r} is not TLS: passwords go only over mqtts:// (plain mqtt:// is "
            "allowed on loopback only)"
        )


class SiteAuthority:
    """One site folder: its registry, CA and broker files. Every change holds the lock."""

    def __init__(self, root: Path = DEFAULT_SITE_DIR, *, broker_group: str | None = BROKER_GROUP):
        self.paths = SitePaths(Path(root))
        self.broker_group = broker_group

    # -- loading --------------------------------------------------------------------------

    def load_registry(self, site: str | None = None) -> Registry:
        """The registry; a new empty one for ``site`` when the folder is new."""
        path = self.paths.registry
        try:
            registry = Registry.from_json(path.read_text(), path)
        except FileNotFoundError:
            if site is None:
                raise ProvisioningError(
                    f"no site is set up in {self.paths.root} yet: the first provisioning "
                    "needs --site"
                ) from None
            return Registry(site=check_id(site, "site"))
        if site is not None and site != registry.site:
            raise ProvisioningError(
                f"site folder {self.paths.root} belongs to site {registry.site!r}, not {site!r}"
            )
        return registry

    def load_ca(self) -> pki.CertificateAuthority:
        """The site CA, or a clear error when it was never created."""
        if not self.paths.ca_key.exists():
            raise ProvisioningError(f"no site CA in {self.paths.root / 'ca'} yet")
        return pki.CertificateAuthority(
            pki.load_key(self.paths.ca_key), pki.load_cert(self.paths.ca_cert)
        )

    def _ensure_ca(self, site: str, now: dt.datetime) -> tuple[pki.CertificateAuthority, bool]:
        if self.paths.ca_key.exists():
            return self.load_ca(), False
        ca = pki.create_ca(site, now=now)
        self.paths.ca_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.paths.ca_key, pki.key_pem(ca.key), 0o600)
        write_atomic(self.paths.ca_cert, pki.cert_pem(ca.cert), 0o644)
        return ca, True

    # -- provisioning ---------------------------------------------------------------------

    def provision(
        self,
        device_id: str,
        role: str,
        site: str | None = None,
        *,
        out_dir: Path,
        method: Method = "cert",
        broker_url: str = "mqtts://floor-hub:8883",
        device_dir: Path = DEFAULT_DEVICE_DIR,
        password: str | None = None,
        valid_days: int = pki.DEVICE_DAYS,
        station: str = "",
        now: dt.datetime | None = None,
    ) -> ProvisionResult:
        """Create ``device_id``'s identity, ACL entry and bundle; see the module docstring.

        Refuses, changing nothing: an id that is already provisioned, a bundle folder that
        already exists, a bad id, role, method or broker URL.
        """
        now = now or pki.utcnow()
        check_id(device_id)
        identity_role = _check_role(role)
        if method not in ("cert", "password"):
            raise ProvisioningError(f"method {method!r} is not 'cert' or 'password'")
        if method == "cert" and password is not None:
            raise ProvisioningError("a password is given for a certificate identity")
        if valid_days < 1:
            raise ProvisioningError("a certificate must be valid for at least one day")
        _check_broker(broker_url, method)
        bundle = Path(out_dir) / device_id

        with exclusive_lock(self.paths.root):
            registry = self.load_registry(site)
            existing = registry.identities.get(device_id)
            if existing is not None:
                detail = (
                    f"certificate serial {existing.serial}, valid until {existing.not_after}"
                    if existing.method == "cert"
                    else "password identity"
                )
                raise DeviceExistsError(
                    f"device {device_id} is already provisioned at site {registry.site} as "
                    f"{existing.role} ({detail}, issued {existing.issued_at}); nothing was "
                    f"changed. Revoke it first (floor-hub revoke {device_id}) or choose "
                    "another id"
                )
            if bundle.exists():
                raise ProvisioningError(
                    f"bundle folder {bundle} already exists; move it away first (nothing "
                    "was changed)"
                )
            ca, created = self._ensure_ca(registry.site, now)
            files: dict[str, bytes] = {"ca.crt": pki.cert_pem(ca.cert)}
            record = Identity(
                device_id=device_id,
                role=identity_role.value,
                method=method,
                issued_at=_iso(now),
                station=station,
            )
            cert: x509.Certificate | None = None
            if method == "cert":
                key, csr = pki.make_csr(device_id, registry.site, identity_role.value)
                cert = pki.sign_device_csr(ca, csr, now=now, days=valid_days)
                files["device.crt"] = pki.cert_pem(cert)
                files["device.key"] = pki.key_pem(key)
                record.serial = f"{cert.serial_number:x}"
                record.not_after = _iso(cert.not_valid_after_utc)
            else:
                password = password or new_password()
                record.password_hash = hash_password(password)
            if identity_role.is_device:
                files["floor.toml"] = render_device_config(
                    device_id=device_id,
                    site=registry.site,
                    role=identity_role.value,
                    broker_url=broker_url,
                    device_dir=Path(device_dir),
                    method=method,
                    password=password,
                    station=station,
                    issued_at=now,
                ).encode()
            else:
                files["identity.toml"] = render_service_identity(
                    identity=device_id,
                    site=registry.site,
                    role=identity_role.value,
                    broker_url=broker_url,
                    device_dir=Path(device_dir),
                    method=method,
                    password=password,
                    issued_at=now,
                ).encode()
            written = self._write_bundle(bundle, files)
            registry.identities[device_id] = record
            if cert is not None:
                write_atomic(self.paths.issued / f"{record.serial}.crt", pki.cert_pem(cert), 0o644)
            self._save(registry, now)
        return ProvisionResult(
            device_id=device_id,
            role=identity_role.value,
            site=registry.site,
            method=method,
            bundle_dir=bundle,
            files=written,
            serial=record.serial,
            not_after=cert.not_valid_after_utc if cert is not None else None,
            password=password if method == "password" else None,
            created_ca=created,
        )

    def _write_bundle(self, bundle: Path, files: dict[str, bytes]) -> tuple[Path, ...]:
        bundle.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{bundle.name}.", dir=bundle.parent))
        try:
            for name, data in files.items():
                secret = name in ("device.key", "floor.toml", "identity.toml")
                path = tmp / name
                path.write_bytes(data)
                os.chmod(path, 0o600 if secret else 0o644)
            os.chmod(tmp, 0o700)
            os.rename(tmp, bundle)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(bundle.parent)
        return tuple(bundle / name for name in files)

    # -- revoking -------------------------------------------------------------------------

    def revoke(
        self, device_id: str, *, reason: str = "", now: dt.datetime | None = None
    ) -> RevokeResult:
        """Revoke ``device_id``: its serial goes into the CRL, it leaves the password file
        and the ACL. An unknown or already revoked id is a clear error and changes nothing."""
        now = now or pki.utcnow()
        with exclusive_lock(self.paths.root):
            registry = self.load_registry()
            record = registry.identities.get(device_id)
            if record is None:
                earlier = [r for r in registry.revoked if r.device_id == device_id]
                if earlier:
                    raise UnknownDeviceError(
                        f"device {device_id} was already revoked on {earlier[-1].revoked_at}; "
                        "nothing was changed"
                    )
                known = ", ".join(sorted(registry.identities)) or "none"
                raise UnknownDeviceError(
                    f"device {device_id} is not provisioned at site {registry.site} "
                    f"(provisioned: {known}); nothing was changed"
                )
            del registry.identities[device_id]
            registry.revoked.append(
                Revoked(
                    device_id=device_id,
                    method=record.method,
                    revoked_at=_iso(now),
                    serial=record.serial,
                    not_after=record.not_after,
                    reason=reason,
                )
            )
            self._save(registry, now)
        return RevokeResult(device_id, record.method, record.serial, now)

    # -- broker files ---------------------------------------------------------------------

    def _save(self, registry: Registry, now: dt.datetime) -> None:
        write_atomic(self.paths.registry, registry.to_json() + "\n", 0o600)
        self.write_broker_files(registry, now)

    def write_broker_files(
        self, registry: Registry | None = None, now: dt.datetime | None = None
    ) -> None:
        """Generate ``passwd``, ``acl``, ``crl.pem`` and ``ca.crt`` in ``broker/``."""
        registry = registry or self.load_registry()
        now = now or pki.utcnow()
        ca = self.load_ca()
        broker = self.paths.broker
        broker.mkdir(parents=True, exist_ok=True)
        set_group(broker, self.broker_group)
        os.chmod(broker, 0o750)
        entries = {
            i.device_id: i.password_hash
            for i in registry.identities.values()
            if i.password_hash is not None
        }
        group = self.broker_group
        write_atomic(self.paths.passwd, render_password_file(entries), 0o640, group)
        write_atomic(
            self.paths.acl,
            render_acl(
                (i.device_id, IdentityRole(i.role), registry.site)
                for i in registry.identities.values()
            ),
            0o640,
            group,
        )
        write_atomic(self.paths.broker_ca, pki.cert_pem(ca.cert), 0o644)
        self._write_crl(registry, ca, now)

    def _write_crl(
        self,
        registry: Registry,
        ca: pki.CertificateAuthority,
        now: dt.datetime,
        days: int = pki.CRL_DAYS,
    ) -> None:
        revoked = [
            (int(r.serial, 16), _parse_iso(r.revoked_at))
            for r in registry.revoked
            if r.serial is not None
        ]
        crl = pki.build_crl(ca, revoked, now=now, days=days)
        write_atomic(
            self.paths.crl, crl.public_bytes(serialization.Encoding.PEM), 0o644, self.broker_group
        )

    def refresh_crl(self, *, now: dt.datetime | None = None, days: int = pki.CRL_DAYS) -> Path:
        """Sign the CRL again (before its ``next_update``; a timer does this monthly)."""
        now = now or pki.utcnow()
        with exclusive_lock(self.paths.root):
            self._write_crl(self.load_registry(), self.load_ca(), now, days)
        return self.paths.crl

    def issue_broker_certificate(
        self,
        hostnames: list[str],
        ips: list[str] | None = None,
        *,
        site: str | None = None,
        days: int = pki.DEVICE_DAYS,
        now: dt.datetime | None = None,
    ) -> tuple[Path, Path]:
        """The broker's TLS certificate and key in ``broker/`` (replacing older ones)."""
        now = now or pki.utcnow()
        with exclusive_lock(self.paths.root):
            registry = self.load_registry(site)
            ca, _ = self._ensure_ca(registry.site, now)
            try:
                key, cert = pki.issue_server_certificate(
                    ca, hostnames, ips or [], now=now, days=days
                )
            except ValueError as exc:
                raise ProvisioningError(str(exc)) from None
            write_atomic(self.paths.server_key, pki.key_pem(key), 0o640, self.broker_group)
            write_atomic(self.paths.server_cert, pki.cert_pem(cert), 0o644, self.broker_group)
            write_atomic(self.paths.registry, registry.to_json() + "\n", 0o600)
            self.write_broker_files(registry, now)
        return self.paths.server_cert, self.paths.server_key

    # -- checks ---------------------------------------------------------------------------

    def check_password(self, device_id: str, password: str) -> None:
        """Raise :class:`WrongPasswordError` unless ``password`` is ``device_id``'s password."""
        registry = self.load_registry()
        record = registry.identities.get(device_id)
        if record is None:
            raise UnknownDeviceError(f"device {device_id} is not provisioned")
        if record.password_hash is None:
            raise WrongPasswordError(f"device {device_id} has a certificate, not a password")
        if not verify_password(password, record.password_hash):
            raise WrongPasswordError(
                f"wrong password for device {device_id}: copy floor.toml from its bundle "
                "again, or revoke and provision the device anew"
            )

    def identities(self) -> list[Identity]:
        """Every provisioned (not revoked) identity, by id."""
        return [v for _, v in sorted(self.load_registry().identities.items())]


def provision(
    device_id: str,
    role: str,
    site: str | None = None,
    *,
    site_dir: Path = DEFAULT_SITE_DIR,
    out_dir: Path,
    method: Method = "cert",
    broker_url: str = "mqtts://floor-hub:8883",
    device_dir: Path = DEFAULT_DEVICE_DIR,
    password: str | None = None,
    valid_days: int = pki.DEVICE_DAYS,
    station: str = "",
    now: dt.datetime | None = None,
    broker_group: str | None = BROKER_GROUP,
) -> ProvisionResult:
    """Provision one device at the site in ``site_dir`` (see :meth:`SiteAuthority.provision`)."""
    return SiteAuthority(site_dir, broker_group=broker_group).provision(
        device_id,
        role,
        site,
        out_dir=out_dir,
        method=method,
        broker_url=broker_url,
        device_dir=device_dir,
        password=password,
        valid_days=valid_days,
        station=station,
        now=now,
    )


def revoke(
    device_id: str,
    *,
    site_dir: Path = DEFAULT_SITE_DIR,
    reason: str = "",
    now: dt.datetime | None = None,
    broker_group: str | None = BROKER_GROUP,
) -> RevokeResult:
    """Revoke one device at the site in ``site_dir`` (see :meth:`SiteAuthority.revoke`)."""
    return SiteAuthority(site_dir, broker_group=broker_group).revoke(
        device_id, reason=reason, now=now
    )
