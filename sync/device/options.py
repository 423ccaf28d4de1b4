"""The sync agent's runtime options: its link to the broker, its site, and its pacing.

Built by bootstrap from the ``[sync]`` section (:class:`floor_app.settings.SyncSettings`),
and by the simulators and benchmarks from their command lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from floor_app.settings import SyncSettings
from sync.mqtt import LinkOptions, parse_broker_url


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """How the sync agent connects and paces itself. Defaults suit a handheld on Wi-Fi."""

    link: LinkOptions
    site: str
    app_version: str = ""
    #: The will is published only if the device stays away this long.
    will_delay_s: int = 10
    #: How often the retained status with health is published.
    heartbeat_s: float = 15.0
    #: At most this many events per batch, and this many unacknowledged events in flight.
    batch_events: int = 500
    window_events: int = 5000
    #: With events in flight and no ack progress for this long, resend from the last ack.
    ack_timeout_s: float = 10.0
    #: Delivered events are kept this long, and at most this many, to be sent again to a
    #: hub restored from a backup; older ones are deleted every ``prune_every_s``.
    retention_s: float = 7 * 86400.0
    retention_max_events: int = 200_000
    prune_every_s: float = 3600.0


def link_options(section: SyncSettings) -> LinkOptions:
    """The link of ``[sync]``: its broker, credentials and TLS files (default timings)."""
    broker = parse_broker_url(section.broker)
    if section.username:
        password = section.password.get_secret_value()
        broker = replace(broker, username=section.username, password=password)
    return LinkOptions(
        broker=broker,
        ca_file=section.ca_file,
        cert_file=section.cert_file,
        key_file=section.key_file,
    )
