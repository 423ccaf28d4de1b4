"""The device half of sync: the agent that drives the one MQTT link, its sender of the
outbox, its push stream, its presence, and the supervisor's live feed of the site."""

from .agent import SyncAgent
from .options import AgentOptions, link_options
from .presence import EPOCH_KEY
from .push_apply import CURSOR_KEY, PushApplier, PushOutcome, news_of, stored_cursor

__all__ = [
    "CURSOR_KEY",
    "EPOCH_KEY",
    "AgentOptions",
    "PushApplier",
    "PushOutcome",
    "SyncAgent",
    "link_options",
    "news_of",
    "stored_cursor",
]
