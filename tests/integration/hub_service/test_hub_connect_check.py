"""A device's store is stale when the hub holds events beyond it that were made before the
device asked: events the device made after sending its sync request (and sent without
waiting for the answer) may reach the hub first, and do not make the store stale."""

from __future__ import annotations

import time

from hub_builders import apply, envelope, pick
from sqlalchemy import Engine

from hub import run_transaction
from hub.history import connect_check
from sync.protocol import SyncRequest


def request(last_seq: int, sent_at: float) -> SyncRequest:
    return SyncRequest(
        device_id="hh-01", since_cursor=0, epoch=1, last_seq=last_seq, acked_seq=0, sent_at=sent_at
    )


def test_events_made_after_the_request_do_not_make_the_store_stale(demo_engine: Engine) -> None:
    before = time.time() - 1.0
    records = [envelope("hh-01", n, pick("SO-100001", "SKU-00001")) for n in (1, 2, 3)]
    assert [o.kind for _s, o in apply(demo_engine, "hh-01", records).outcomes] == ["applied"] * 3
    # asked when it had made 2 events; the third was made after, and applied first
    assert run_transaction(demo_engine, lambda c: connect_check(c, request(2, before))) is None
    # a store that asked after the third was made, saying it ends at 2, is behind
    stale = run_transaction(demo_engine, lambda c: connect_check(c, request(2, time.time())))
    assert stale is not None and stale.cause == "behind" and stale.hub_seq == 3
