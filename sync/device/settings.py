"""Settings of the device sync agent: where the broker is, who this device is, and timings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class BrokerUrlError(ValueError):
    """A broker URL that cannot be used (wrong scheme, no host, bad port)."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """A broker's host and port, whether it speaks TLS, and optional credentials."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        """The address as a URL without credentials."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse ``mqtt://[user:pass@]host[:port]`` or ``mqtts://...`` (default ports 1883 and 8883)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise BrokerUrlError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise BrokerUrlError(f"broker URL {url!r} names no host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise BrokerUrlError(f"broker URL {url!r} has an invalid port") from None
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How the sync agent connects and paces itself. Defaults suit a handheld on Wi-Fi."""

    broker: BrokerAddress
    site: str
    app_version: str = ""
    #: MQTT keepalive: the broker notices a dead device after 1.5x this.
    keepalive_s: int = 15
    #: How long the broker keeps the session (subscriptions, queued acks and pushes).
    session_expiry_s: int = 3600
    #: The will is published only if the device stays away this long.
    will_delay_s: int = 10
    #: How often the retained status with health is published.
    heartbeat_s: float = 15.0
    #: Reconnect backoff: first delay, ceiling, and the jitter share of each delay.
    backoff_min_s: float = 0.2
    backoff_max_s: float = 15.0
    #: A connection attempt that has no CONNACK within this is abandoned.
    connect_timeout_s: float = 5.0
    #: At most this many events per batch, and this many unacknowledged events in flight.
    batch_events: int = 500
    window_events: int = 5000
    #: With events in flight and no ack progress for this long, resend from the last ack.
    ack_timeout_s: float = 10.0
    #: TLS files (used when ``broker.tls``): CA bundle, and client certificate and key.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
