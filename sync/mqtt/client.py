"""A fresh paho client for one connection attempt: MQTT 5, credentials, TLS, the will;
and what its callbacks report, raw, each with the attempt (``conn``) it came from.

Only :class:`~sync.mqtt.link.MqttLink` makes and closes paho clients (one per attempt;
paho's own reconnect and its in-memory queue are never used) and turns these reports into
the :mod:`~sync.mqtt.events` its owner sees.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .events import Received
from .options import LinkOptions, Will


@dataclass(frozen=True, slots=True)
class ConnAck:
    """A CONNACK (``failed`` when the broker refused)."""

    conn: int
    failed: bool
    reason: str
    session_present: bool


@dataclass(frozen=True, slots=True)
class SubAck:
    """A SUBACK (``failed`` when any subscription was refused)."""

    conn: int
    mid: int
    failed: bool


@dataclass(frozen=True, slots=True)
class Lost:
    """The connection ended (paho's on_disconnect)."""

    conn: int
    reason: str


@dataclass(frozen=True, slots=True)
class PubAck:
    """The broker acknowledged publication ``mid``."""

    conn: int
    mid: int


Raw = ConnAck | SubAck | Lost | PubAck | Received


def new_client(
    options: LinkOptions,
    client_id: str,
    *,
    conn: int,
    manual_ack: bool,
    max_inflight: int,
    will: Will | None,
) -> mqtt.Client:
    """A client for attempt ``conn`` (handed to every callback as its user data)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        userdata=conn,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=manual_ack,
        reconnect_on_failure=False,
    )
    client.connect_timeout = options.connect_timeout_s
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    client.suppress_exceptions = True
    broker = options.broker
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(
            ca_certs=str(options.ca_file) if options.ca_file else None,
            certfile=str(options.cert_file) if options.cert_file else None,
            keyfile=str(options.key_file) if options.key_file else None,
        )
    if will is not None:
        will_props = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
        will_props.WillDelayInterval = will.delay_s
        client.will_set(will.topic, will.payload, qos=1, retain=will.retain, properties=will_props)
    return client


def close_client(client: mqtt.Client) -> None:
    """Close a client's socket without a goodbye (and its internal socket pair)."""
    sock = client.socket()
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
    with contextlib.suppress(Exception):
        client._reset_sockets()
