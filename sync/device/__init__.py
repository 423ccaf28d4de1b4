"""The device half of sync: the agent thread that owns the MQTT client, sends the outbox,
records the hub's acks, applies the push stream and publishes presence and health."""

from .agent import EPOCH_KEY, SyncAgent
from .backoff import Backoff
from .push_apply import CURSOR_KEY, PushApplier, PushOutcome, stored_cursor
from .settings import BrokerAddress, BrokerUrlError, SyncSettings, parse_broker_url
from .status import LinkState, SyncStatus

__all__ = [
    "CURSOR_KEY",
    "EPOCH_KEY",
    "Backoff",
    "BrokerAddress",
    "BrokerUrlError",
    "LinkState",
    "PushApplier",
    "PushOutcome",
    "SyncAgent",
    "SyncSettings",
    "SyncStatus",
    "parse_broker_url",
    "stored_cursor",
]
