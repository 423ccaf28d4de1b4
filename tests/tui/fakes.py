"""Fakes of the sync agent's listener API for the screen tests. The devices' fakes are the
shared ones of device_drivers/fakes.py."""

from __future__ import annotations

from floor_app.hub_sync import DeviceSync, LinkState, StaleStore, SyncStatus


class FakeSync(DeviceSync):
    """The device's sync, driven by the test: its listeners are told what the test says."""

    def __init__(self) -> None:
        super().__init__()
        self.state = LinkState.OFFLINE
        #: the hub's stale word the test gave, and who asked for a recovery
        self.stale: StaleStore | None = None
        self.recoveries: list[str] = []

    def status(self) -> SyncStatus:
        return SyncStatus(self.state)

    def stop(self, timeout: float = 10.0) -> None:
        self.state = LinkState.STOPPED

    def stale_store(self) -> StaleStore | None:
        return self.stale

    def recover_store(self, user: str) -> bool:
        self.recoveries.append(user)
        return self.stale is not None
