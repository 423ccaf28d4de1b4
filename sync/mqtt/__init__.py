"""The one MQTT link of the project: the broker address and the paho client that every
side (the device agent, the supervisor feed, the hub) connects through."""

from .broker import BrokerAddress, BrokerUrlError, parse_broker_url
from .events import LinkDown, LinkError, LinkEvent, LinkUp, Published, Received
from .link import MqttLink
from .options import LinkOptions, Will

__all__ = [
    "BrokerAddress",
    "BrokerUrlError",
    "LinkDown",
    "LinkError",
    "LinkEvent",
    "LinkOptions",
    "LinkUp",
    "MqttLink",
    "Published",
    "Received",
    "Will",
    "parse_broker_url",
]
