"""The device's ``floor.toml``: who it is and how it reaches the broker, ready to copy.

The file is checked with :class:`floor_app.settings.Settings` before it is written, so a
provisioned device never starts with a config its app would refuse.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from floor_app.settings import Settings

from .errors import ProvisioningError


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX for controls).
    return json.dumps(value, ensure_ascii=False)


def render_device_config(
    *,
    device_id: str,
    site: str,
    role: str,
    broker_url: str,
    device_dir: Path,
    method: str,
    password: str | None = None,
    station: str = "",
    issued_at: dt.datetime,
) -> str:
    """The ``floor.toml`` text for a device; paths point into ``device_dir`` on the device."""
    lines = [
        f"# floor device {device_id} at site {site}, provisioned {issued_at.isoformat()}",
        f"# with floor-hub provision. Copy this folder's files to {device_dir}/ on the device",
        "# (owner root, group floor; the key and this file mode 0640): see docs/operations.md.",
        "",
        "[device]",
        f"id = {_toml_string(device_id)}",
        f"site = {_toml_string(site)}",
        f"role = {_toml_string(role)}",
    ]
    if station:
        lines.append(f"station = {_toml_string(station)}")
    lines += [
        "",
        "[sync]",
        "enabled = true",
        f"broker = {_toml_string(broker_url)}",
        f"ca_file = {_toml_string(str(device_dir / 'ca.crt'))}",
    ]
    if method == "cert":
        lines += [
            f"cert_file = {_toml_string(str(device_dir / 'device.crt'))}",
            f"key_file = {_toml_string(str(device_dir / 'device.key'))}",
        ]
    else:
        lines += [
            f"username = {_toml_string(device_id)}",
            f"password = {_toml_string(password or '')}",
        ]
    # a provisioned device runs as the kiosk unit: quitting needs a supervisor's badge
    lines += ["", "[ui]", "kiosk = true"]
    text = "\n".join(lines) + "\n"
    check_device_config(text)
    return text


def check_device_config(text: str) -> Settings:
    """Parse ``text`` the way ``floor-app`` will; a :class:`ProvisioningError` if it would not."""
    try:
        return Settings(**tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ProvisioningError(f"the generated device config would be refused: {exc}") from None


def render_service_identity(
    *,
    identity: str,
    site: str,
    role: str,
    broker_url: str,
    device_dir: Path,
    method: str,
    password: str | None = None,
    issued_at: dt.datetime,
) -> str:
    """``identity.toml`` for a service (the hub, upstream intake): its broker identity."""
    lines = [
        f"# floor {role} identity {identity} at site {site}, provisioned {issued_at.isoformat()}.",
        f"# Files belong in {device_dir}/ on the machine that runs it (mode 0640).",
        "",
        "[broker]",
        f"site = {_toml_string(site)}",
        f"url = {_toml_string(broker_url)}",
        f"client_name = {_toml_string(identity)}",
        f"ca_file = {_toml_string(str(device_dir / 'ca.crt'))}",
    ]
    if method == "cert":
        lines += [
            f"cert_file = {_toml_string(str(device_dir / 'device.crt'))}",
            f"key_file = {_toml_string(str(device_dir / 'device.key'))}",
        ]
    else:
        lines += [
            f"username = {_toml_string(identity)}",
            f"password = {_toml_string(password or '')}",
        ]
    return "\n".join(lines) + "\n"
