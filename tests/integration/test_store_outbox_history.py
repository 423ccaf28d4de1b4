"""The outbox's history on a real store: delivered events kept for a retention period and
pruned by age and count (never one unsent), counted unsent again for a restored hub, and
numbered again after the hub's record when a stale store is recovered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from floor_app.domain.events import UserLoggedIn
from floor_app.store import Store
from floor_app.store.outbox import all_records

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "floor.db", device_id="hh-01", site="dc1")
    yield s
    s.close()


def emit(store: Store, n: int) -> list[str]:
    """``n`` events; their ids."""
    with store.unit_of_work() as uow:
        ids = [uow.emit(UserLoggedIn(user=f"u{i}", role="picker")).event_id for i in range(n)]
        uow.commit()
    return ids


def rows(store: Store) -> list[tuple[int, str, bool]]:
    with store.read() as session:
        return [(r.seq, r.event_id, r.acked_at is not None) for r in all_records(session)]


def age(store: Store, up_to_seq: int, seconds: float) -> None:
    """Pretend the events up to ``up_to_seq`` were acknowledged ``seconds`` ago."""
    with store.unit_of_work() as uow:
        uow.session.execute(
            text("UPDATE outbox SET acked_at = :at WHERE seq <= :seq AND acked_at IS NOT NULL"),
            {"at": time.time() - seconds, "seq": up_to_seq},
        )
        uow.commit()


def test_delivered_events_are_pruned_by_age_and_by_count_never_unsent_ones(store: Store) -> None:
    emit(store, 10)
    store.mark_acked(8)
    age(store, 4, 8 * 86400)  # 1-4 delivered eight days ago, 5-8 now; 9-10 unsent
    gone = store.prune_outbox(acked_before=time.time() - 7 * 86400, keep_at_most=100)
    assert gone == 4
    assert [s for s, _, _ in rows(store)] == [5, 6, 7, 8, 9, 10]
    assert store.prune_outbox(acked_before=0, keep_at_most=2) == 2  # the oldest go first
    assert [(s, acked) for s, _, acked in rows(store)] == [
        (7, True), (8, True), (9, False), (10, False),
    ]  # fmt: skip
    assert store.prune_outbox(acked_before=time.time() + 1, keep_at_most=0) == 2
    assert [s for s, _, _ in rows(store)] == [9, 10]  # unsent work is never touched
    assert store.outbox_stats()[2] == 10


def test_events_a_restored_hub_lost_are_counted_unsent_again(store: Store) -> None:
    emit(store, 6)
    store.mark_acked(6)
    assert store.reopen_outbox(3) == (3, 4)
    assert [s for s, _, acked in rows(store) if not acked] == [4, 5, 6]
    assert [r.seq for r in store.pending()] == [4, 5, 6]
    age(store, 6, 1)
    store.mark_acked(6)
    store.prune_outbox(acked_before=time.time(), keep_at_most=1000)  # 1-6 pruned
    emit(store, 1)
    assert store.reopen_outbox(2) == (0, 7)  # 3-6 are gone: the first held is 7


def test_a_recovered_store_continues_after_the_hubs_record(store: Store) -> None:
    first = emit(store, 5)
    store.mark_acked(3)  # 4 and 5 unsent
    # the hub holds 1-9 from an earlier copy of this store, event 4 among them
    held, moved = store.rebase_outbox(9, {first[3]})
    assert (held, moved) == (1, 1)
    assert rows(store) == [
        (1, first[0], True), (2, first[1], True), (3, first[2], True),
        (4, first[3], True), (10, first[4], False),
    ]  # fmt: skip
    assert store.outbox_stats()[2] == 10
    assert [r.event_id for r in store.pending()] == [first[4]]
    nxt = emit(store, 1)
    assert rows(store)[-1] == (11, nxt[0], False)


def test_an_empty_store_continues_after_the_hubs_record(store: Store) -> None:
    assert store.rebase_outbox(12, set()) == (0, 0)
    assert store.outbox_stats()[2] == 12  # nothing held yet, but numbered after 12
    emit(store, 2)
    assert [s for s, _, _ in rows(store)] == [13, 14]
