"""What a link tells its owner: up, down, a message received, a publication acknowledged."""

from __future__ import annotations

from dataclasses import dataclass


class LinkError(Exception):
    """Why a connection attempt was not made (raised by a will hook: the attempt is skipped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkUp:
    """Connected and every subscription granted."""

    session_present: bool


@dataclass(frozen=True, slots=True)
class LinkDown:
    """A connection, or an attempt, ended; the next attempt comes after a backoff delay."""

    reason: str
    was_online: bool


@dataclass(frozen=True, slots=True)
class Received:
    """A message from the broker; with ``manual_ack`` it is acked by :meth:`MqttLink.ack`."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    conn: int


@dataclass(frozen=True, slots=True)
class Published:
    """The broker acknowledged our publication ``mid`` (QoS 1)."""

    mid: int


LinkEvent = LinkUp | LinkDown | Received | Published
