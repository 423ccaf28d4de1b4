"""What the parts of one sync agent share: the store, the link, the options, the diagnostics
and the agent's listeners. :class:`AgentPart` hands them to each part (the sender, the push
stream, presence); all of it is used on the agent thread."""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.hub_sync import DeviceSync
from floor_app.store import Store
from sync.mqtt import MqttLink
from sync.protocol import Topics

from .diagnostics import Diagnostics
from .options import AgentOptions


@dataclass(frozen=True, slots=True)
class AgentCore:
    """The things every part of one agent works with."""

    store: Store
    link: MqttLink
    options: AgentOptions
    diagnostics: Diagnostics
    #: the agent, whose listeners the parts tell what happened
    news: DeviceSync


class AgentPart:
    """A part of the sync agent: the core's things as its own attributes."""

    def __init__(self, core: AgentCore) -> None:
        self.store = core.store
        self.link = core.link
        self.options = core.options
        self.diag = core.diagnostics
        self.news = core.news
        self.device_id: str = core.store.device_id
        self.topics: Topics = core.diagnostics.topics
