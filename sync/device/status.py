"""What the sync agent tells the UI: online or not, outbox depth, acks, bad input counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LinkState(StrEnum):
    """The agent's connection state machine (changed only by the agent thread)."""

    STOPPED = "stopped"
    OFFLINE = "offline"  # waiting for the next attempt (backoff)
    CONNECTING = "connecting"  # TCP/TLS up, waiting for CONNACK
    SUBSCRIBING = "subscribing"  # CONNACK ok, waiting for SUBACK
    ONLINE = "online"  # subscribed, synced, sending


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the agent for the status bar and diagnostics screens."""

    state: LinkState
    online: bool
    outbox_depth: int
    oldest_unsent_age_s: float | None
    last_seq: int
    acked_seq: int
    last_ack_at: float | None
    push_cursor: int
    epoch: int
    connects: int
    refused_claims: int
    rejected_events: int
    last_error: str = ""
    #: bad input received, by "<topic>.<code>" (malformed_json, stale_cursor, future_seq ...)
    bad_input: dict[str, int] = field(default_factory=dict)
    #: other things worth knowing: resends asked, ack timeouts, push gaps, stale wills ...
    counters: dict[str, int] = field(default_factory=dict)
