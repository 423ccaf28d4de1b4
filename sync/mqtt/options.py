"""How a link connects: the broker, TLS files, keepalive, session, timeouts, backoff; its will."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .broker import BrokerAddress


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Where a link connects and how it paces itself. Defaults suit a handheld on Wi-Fi."""

    broker: BrokerAddress
    #: TLS files (used when ``broker.tls``): CA bundle, and client certificate and key.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    #: MQTT keepalive: the broker notices a dead client after 1.5x this.
    keepalive_s: int = 15
    #: How long the broker keeps the session (subscriptions, queued messages); 0 starts clean.
    session_expiry_s: int = 3600
    #: A connection attempt that has no CONNACK within this is abandoned.
    connect_timeout_s: float = 5.0
    #: Reconnect backoff: first delay and ceiling.
    backoff_min_s: float = 0.2
    backoff_max_s: float = 15.0


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes (QoS 1) when the connection dies without a goodbye."""

    topic: str
    payload: bytes
    retain: bool = True
    #: the broker waits this long for a reconnect before publishing it
    delay_s: int = 0
