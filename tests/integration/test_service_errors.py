"""A store that cannot do what a use case asks: the service says so as Unavailable (the
store's reason and hint), never as the store's own error; a rule broken stays a
DomainError."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from floor_app.domain.errors import NotFound
from floor_app.services.counting import CountingService
from floor_app.services.errors import Unavailable
from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.services.supervision import DevicePresence, LocalSupervisorFeed
from floor_app.store import Store, StoreBusy

pytestmark = pytest.mark.integration


def _own() -> DevicePresence:
    return DevicePresence("hh-01", True)


class SiteFeed(LocalSupervisorFeed):
    """A feed defined elsewhere (as the MQTT one is) with a method of its own."""

    def pickers(self) -> list[str]:
        with self.store.unit_of_work() as uow:
            return [u.user_id for u in uow.users.all()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "floor.db", device_id="hh-01", busy_timeout_ms=100)
    yield store
    store.close()


@pytest.fixture
def locked(store: Store) -> Iterator[Store]:
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    yield store
    blocker.execute("ROLLBACK")
    blocker.close()


def test_a_locked_store_is_unavailable_to_every_service(locked: Store) -> None:
    calls = {
        "counting": lambda: CountingService(locked).open_counts(),
        "picking": lambda: PickingService(locked).start("PT-0001", "alice"),
        "login": lambda: SessionService(locked).login_badge("B1001"),
        "local feed": lambda: LocalSupervisorFeed(locked, _own).approve_short(
            "SO-1", "grace", "no_stock"
        ),
        "feed subclass": lambda: SiteFeed(locked, _own).pickers(),
    }
    for name, call in calls.items():
        with pytest.raises(Unavailable, match="locked by another program") as info:
            call()
        assert isinstance(info.value.__cause__, StoreBusy), name
        assert "close the other floor-app" in info.value.hint, name
        assert str(info.value) == f"{info.value.reason} — {info.value.hint}", name


def test_a_broken_rule_is_still_a_domain_error(store: Store) -> None:
    with pytest.raises(NotFound):
        CountingService(store).task("ST-404")
    with pytest.raises(NotFound):
        SiteFeed(store, _own).approve_short("SO-404", "grace", "no_stock")
