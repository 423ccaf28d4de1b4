"""The outbox backlog as the sync agent reads it (``Store.pending``): every record exactly as
it was emitted, also a payload with text the fast JSON reader refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from floor_app.domain.events import PickConfirmed, UserLoggedIn
from floor_app.store import Store
from floor_app.store.outbox import OutboxRecord, all_records

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "floor.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


def test_pending_gives_each_record_as_emitted(store: Store) -> None:
    emitted: list[OutboxRecord] = []
    with store.unit_of_work() as uow:
        emitted.append(uow.emit(UserLoggedIn(user="jürgen 李", role="picker")))
        pick = PickConfirmed(
            task="PT-0001",
            line="PT-0001-SO-100001-1",
            order="SO-100001",
            sku="SKU-00001",
            location="A-01-01-1-A",
            qty=10**20,
            tote_position=2,
            user='a "quoted" \\ name',
        )
        emitted.append(uow.emit(pick, order_version=3))
        uow.commit()
    pending = store.pending()
    assert pending == emitted
    with store.read() as session:
        assert pending == all_records(session)


def test_a_payload_the_fast_reader_refuses_is_read_by_json(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.emit(UserLoggedIn(user="alice", role="picker"))
        uow.commit()
    stored = '{"role": "picker", "user": "al\\ud800ice"}'  # an escaped lone surrogate
    with store.unit_of_work() as uow:
        uow.session.execute(text("UPDATE outbox SET payload = :p"), {"p": stored})
        uow.commit()
    assert [r.payload for r in store.pending()] == [json.loads(stored)]
