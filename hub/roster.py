"""The site's device roster for the supervisors: every registered device, with the presence
the hub last recorded (``device_presence``) and who is logged in there
(``user_sessions``), published retained on ``devices`` (:class:`sync.protocol.DeviceRoster`).

The hub publishes it when it connects and, from then on, whenever it changed (a device
registered, revoked, gone on- or offline, a login): :meth:`RosterPublisher.due` compares
the roster with the one last published. A board thus lists devices that are off, or never
came online, beside the live ones.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from sync.protocol import DeviceRoster, RosterDevice
from sync.protocol.messages import ROSTER_LIMIT

from .tables import DeviceRow, PresenceRow, UserSessionRow, table_of

DEVICES = table_of(DeviceRow)
PRESENCE = table_of(PresenceRow)
SESSIONS = table_of(UserSessionRow)


def device_roster(conn: Connection, now: float) -> DeviceRoster:
    """Every registered device, in id order, as the hub knows it at ``now`` (the first
    :data:`~sync.protocol.messages.ROSTER_LIMIT` of a site with more)."""
    presence = {
        r.device_id: r
        for r in conn.execute(
            select(
                PRESENCE.c.device_id, PRESENCE.c.state, PRESENCE.c.reason, PRESENCE.c.received_at
            )
        )
    }
    users = {
        str(device): str(user)
        for device, user in conn.execute(select(SESSIONS.c.device_id, SESSIONS.c.user_id))
    }
    devices = []
    for r in conn.execute(select(DEVICES).order_by(DEVICES.c.device_id).limit(ROSTER_LIMIT)):
        seen = presence.get(r.device_id)
        devices.append(
            RosterDevice.model_validate(
                {
                    "device_id": r.device_id,
                    "role": r.role,
                    "station": r.station,
                    "active": bool(r.active),
                    "state": seen.state if seen is not None else "unknown",
                    "seen_at": float(seen.received_at) if seen is not None else None,
                    "reason": (seen.reason if seen is not None else "")[:200],
                    "user": users.get(r.device_id, ""),
                }
            )
        )
    return DeviceRoster(devices=devices, at=now)


class RosterPublisher:
    """Says when the roster must be published: first, and whenever it changed."""

    def __init__(self) -> None:
        self._last: tuple[RosterDevice, ...] | None = None

    def forget(self) -> None:
        """The broker may not hold the last one (a new connection): publish the next."""
        self._last = None

    def due(self, roster: DeviceRoster) -> bool:
        """True when ``roster`` differs from the one published last (then it is that one)."""
        devices = tuple(roster.devices)
        if devices == self._last:
            return False
        self._last = devices
        return True
