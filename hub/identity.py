"""The hub's broker identity: the ``identity.toml`` that ``floor-hub provision hub-1 --role
hub`` writes (``[broker]``: ``url``, and ``username``/``password`` or ``cert_file``/
``key_file``, plus ``ca_file``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from .errors import HubError


@dataclass(frozen=True, slots=True)
class BrokerIdentity:
    """Where the broker is and how the hub proves who it is."""

    url: str  # with the credentials in it when the identity uses a password
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def _path(value: object, key: str, source: Path) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise HubError(f"{source}: [broker] {key} must be a file path")
    return Path(value)


def read_identity(path: Path) -> BrokerIdentity:
    """Read ``path``; raise :class:`HubError` naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read the hub identity {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise HubError(f"{path} is not valid TOML: {exc}") from None
    broker = data.get("broker")
    if not isinstance(broker, dict) or not isinstance(broker.get("url"), str):
        raise HubError(f"{path} has no [broker] url", hint="make it with floor-hub provision")
    url = broker["url"]
    username, password = broker.get("username"), broker.get("password")
    if isinstance(username, str) and username:
        parts = urlsplit(url)
        secret = f":{quote(password, safe='')}" if isinstance(password, str) else ""
        netloc = f"{quote(username, safe='')}{secret}@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return BrokerIdentity(
        url=url,
        ca_file=_path(broker.get("ca_file"), "ca_file", path),
        cert_file=_path(broker.get("cert_file"), "cert_file", path),
        key_file=_path(broker.get("key_file"), "key_file", path),
    )
