"""Presence: the device's retained ``dev/{device}/status`` with its health, and its will.

Every connection attempt has a higher epoch (kept in the store's meta under
:data:`EPOCH_KEY`) and a will saying "offline, connection lost" for that epoch, published
by the broker only if the device stays away ``will_delay_s``. Once online the device
publishes "online" with its health (devices, user, outbox, battery, bad input) every
``heartbeat_s``; a late will of an older epoch on its own topic is overwritten by a fresh
"online", and on a clean stop it says "offline, shutdown" itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from floor_app.store import StoreError
from sync.mqtt import LinkError, Received, Will
from sync.protocol import DeviceStatus, Health, ProtocolError, decode, encode

from .core import AgentCore, AgentPart
from .push_apply import SITE_VERSION_KEY
from .push_stream import PushStream
from .sender import OutboxSender

log = logging.getLogger("floor.sync.device")

EPOCH_KEY = "sync_epoch"

DeviceHealth = Callable[[], Mapping[str, str]]
BatteryLevel = Callable[[], int | None]


class Presence(AgentPart):
    """One device's status, heartbeat and will (on the agent thread)."""

    def __init__(
        self,
        core: AgentCore,
        sender: OutboxSender,
        stream: PushStream,
        *,
        device_health: DeviceHealth | None = None,
        battery: BatteryLevel | None = None,
    ) -> None:
        super().__init__(core)
        self.sender = sender
        self.stream = stream
        self.topic = self.topics.status(self.device_id)
        self._device_health = device_health
        self._battery = battery
        #: the epoch of the current (or last) connection attempt
        self.epoch = 0
        self.heartbeat_due = 0.0

    def load(self) -> None:
        """Read the last epoch from the store (before the agent thread starts)."""
        self.epoch = int(self.store.meta(EPOCH_KEY, "0") or "0")

    def next_will(self) -> Will:
        """The will of the next connection attempt, with the next epoch (stored first)."""
        self.epoch += 1
        try:
            self.store.set_meta(EPOCH_KEY, str(self.epoch))
        except StoreError as exc:
            raise LinkError(f"cannot record the connection epoch: {exc.reason}") from exc
        will = DeviceStatus(
            device_id=self.device_id, state="offline", epoch=self.epoch, reason="connection lost"
        )
        return Will(self.topic, encode(will), retain=True, delay_s=self.options.will_delay_s)

    def publish_status(self) -> None:
        """Publish "online" with the health now (retained), and plan the next heartbeat."""
        self.heartbeat_due = time.monotonic() + self.options.heartbeat_s
        status = DeviceStatus(
            device_id=self.device_id, state="online", epoch=self.epoch, health=self.health()
        )
        self.link.publish(self.topic, encode(status), qos=1, retain=True)

    def say_goodbye(self) -> int | None:
        """Publish "offline, shutdown" (retained); its mid, to wait for the broker's ack."""
        status = DeviceStatus(
            device_id=self.device_id, state="offline", epoch=self.epoch, reason="shutdown"
        )
        return self.link.publish(self.topic, encode(status), qos=1, retain=True)

    def on_own_status(self, received: Received) -> None:
        """Our own retained status as the broker has it: answer a stale will of an older
        epoch, and warn of a newer epoch (the device id used twice)."""
        self.link.ack(received)
        try:
            status = decode(DeviceStatus, received.payload)
            if status.device_id != self.device_id:
                raise ProtocolError(
                    "device_mismatch", f"status of {status.device_id!r} on {self.topic}"
                )
        except ProtocolError as exc:
            self.diag.bad_input("status", self.topic, received.payload, exc)
            return
        if status.epoch < self.epoch and status.state == "offline":
            # a late will of an older connection: say we are online again
            self.diag.note("status.stale_will_overwritten")
            if self.link.online:
                self.publish_status()
        elif status.epoch > self.epoch:
            self.diag.note("status.newer_epoch_seen")
            log.warning(
                "sync %s: status with epoch %d > ours %d: is this device id used twice?",
                self.device_id,
                status.epoch,
                self.epoch,
            )

    def health(self) -> Health:
        """What the heartbeat says about this device."""
        devices: dict[str, str] = {}
        if self._device_health is not None:
            try:
                devices = {str(k): str(v) for k, v in self._device_health().items()}
            except Exception as exc:
                devices = {"health": f"error: {exc}"}
        stale = self.sender.stale
        if stale is not None:  # the supervisor's board shows it as a health line
            devices["store"] = f"stale: {stale.cause} (hub {stale.hub_seq}, here {stale.store_seq})"
        battery = None
        if self._battery is not None:
            try:
                level = self._battery()
                battery = None if level is None else max(0, min(100, int(level)))
            except Exception:
                battery = None
        depth, oldest, last = self.store.outbox_stats()
        return Health(
            devices=devices,
            outbox_depth=depth,
            oldest_unsent_age_s=round(time.time() - oldest, 3) if oldest is not None else None,
            last_seq=last,
            acked_seq=self.sender.acked,
            push_cursor=self.stream.cursor,
            app_version=self.options.app_version,
            battery_pct=battery,
            user=self.store.meta("current_user", "") or "",
            bad_input=self.diag.bad_input_counts(),
            site_version=int(self.store.meta(SITE_VERSION_KEY, "0") or 0),
        )
