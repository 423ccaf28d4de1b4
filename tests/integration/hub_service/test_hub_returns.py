"""Returns on a real database: a shipped parcel's units received back to storage or to
quarantine, by order id or tracking number; every bad return rejected with its reason and
no stock change; quarantine stock never reserved; the stock check zero afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hub_builders import SITE, TRACKING, apply, envelope, order_row, ship, start_task, stock
from sqlalchemy import Engine, select

from floor_app.domain.events import DomainEvent, ReturnReceived
from hub.stock import reserve_units
from hub.stock_check import check_stock
from hub.tables import (
    ReturnReceiptRow,
    StockLedgerRow,
    StockRow,
    table_of,
)
from sync.protocol import Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
STOCK = table_of(StockRow)
LEDGER = table_of(StockLedgerRow)
RECEIPTS = table_of(ReturnReceiptRow)
ORDER = "SO-100003"
DESK = "pk-02"


class Desk:
    """The returns desk device: numbers its events like a real device."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = 0

    def send(self, *events: DomainEvent) -> list[Any]:
        """Apply ``events`` as one batch; (outcome kind, note) each, and the messages."""
        records = []
        for ev in events:
            self.seq += 1
            records.append(envelope(DESK, self.seq, ev))
        result = apply(self.engine, DESK, records)
        self.messages = result.messages
        return [(o.kind, o.note) for _seq, o in result.outcomes]


def returned(
    sku: str, qty: int, grade: str, to: str, *, order: str = ORDER, rid: str = "R-1"
) -> ReturnReceived:
    return ReturnReceived(
        return_id=rid, order=order, sku=sku, qty=qty, grade=grade, to_location=to, user="ben"
    )


def all_stock(engine: Engine) -> list[tuple[str, str, int, int]]:
    with engine.connect() as conn:
        return sorted(
            (r.location, r.sku, int(r.qty), int(r.reserved)) for r in conn.execute(select(STOCK))
        )


def receipts(engine: Engine) -> list[tuple[str, str, int, str, str]]:
    with engine.connect() as conn:
        return [
            (r.order_id, r.sku, int(r.qty), r.grade, r.location)
            for r in conn.execute(select(RECEIPTS).order_by(RECEIPTS.c.id))
        ]


def check_ok(engine: Engine) -> None:
    with engine.connect() as conn:
        found = check_stock(conn)
    assert found["ok"] is True, found


def status_of(desk: Desk, order_id: str = ORDER) -> dict[str, Any]:
    sent = [m for m in desk.messages if m.topic == TOPICS.order_status(order_id)]
    assert len(sent) == 1
    return dict(json.loads(sent[0].payload))


def test_resaleable_units_go_back_to_storage_and_the_status_says_so(demo_engine: Engine) -> None:
    line = ship(demo_engine)[0]
    face = line_location(demo_engine, line.sku)
    before = stock(demo_engine, face, line.sku)
    desk = Desk(demo_engine)
    outcomes = desk.send(returned(line.sku, 1, "resaleable", face))
    assert outcomes == [("applied", f"1 x {line.sku} resaleable to {face}")]
    assert stock(demo_engine, face, line.sku) == (before[0] + 1, before[1])
    assert receipts(demo_engine) == [(ORDER, line.sku, 1, "resaleable", face)]
    status = status_of(desk)
    assert (status["state"], status["returned"]) == ("labelled", 1)
    assert "returned: 1 x" in status["reason"]
    with demo_engine.connect() as conn:
        reasons = conn.execute(
            select(LEDGER.c.reason).where(LEDGER.c.device_id == DESK).where(LEDGER.c.seq == 1)
        ).scalars()
        assert list(reasons) == ["return"]
    check_ok(demo_engine)


def test_damaged_units_go_to_quarantine_and_are_never_reserved(demo_engine: Engine) -> None:
    line = ship(demo_engine)[0]
    desk = Desk(demo_engine)
    assert desk.send(returned(line.sku, line.qty, "damaged", "QUAR-01"))[0][0] == "applied"
    assert stock(demo_engine, "QUAR-01", line.sku) == (line.qty, 0)
    with demo_engine.begin() as conn:
        ledger = conn.execute(
            select(LEDGER.c.reason).where(LEDGER.c.location == "QUAR-01")
        ).scalars()
        assert list(ledger) == ["quarantine"]
        taken = reserve_units(conn, line.sku, 10_000)  # every free unit there is
    assert taken and "QUAR-01" not in {t.location for t in taken}
    assert stock(demo_engine, "QUAR-01", line.sku) == (line.qty, 0)
    check_ok(demo_engine)


def test_a_parcel_named_by_its_tracking_number_is_its_order(demo_engine: Engine) -> None:
    line = ship(demo_engine)[0]
    desk = Desk(demo_engine)
    kind, note = desk.send(returned(line.sku, 1, "wrong_item", "QUAR-01", order=TRACKING))[0]
    assert kind == "applied"
    assert note.startswith(f"parcel {TRACKING} is order {ORDER}")
    assert receipts(demo_engine) == [(ORDER, line.sku, 1, "wrong_item", "QUAR-01")]
    assert status_of(desk)["returned"] == 1
    check_ok(demo_engine)


def test_a_return_for_an_unknown_order_is_rejected_and_changes_nothing(
    demo_engine: Engine,
) -> None:
    line = ship(demo_engine)[0]
    before = all_stock(demo_engine)
    desk = Desk(demo_engine)
    [(kind, reason)] = desk.send(returned(line.sku, 1, "resaleable", "QUAR-01", order="SO-999999"))
    assert kind == "rejected"
    assert "order SO-999999 is not known to the hub" in reason
    assert "check the order id or tracking number" in reason
    assert all_stock(demo_engine) == before
    assert receipts(demo_engine) == []
    assert not any("/orders/" in m.topic for m in desk.messages)
    check_ok(demo_engine)


def test_a_sku_the_order_does_not_hold_is_rejected(demo_engine: Engine) -> None:
    lines = ship(demo_engine)
    with demo_engine.connect() as conn:
        other = conn.execute(
            select(STOCK.c.sku).where(STOCK.c.sku.not_in([ln.sku for ln in lines])).limit(1)
        ).scalar_one()
    before = all_stock(demo_engine)
    [(kind, reason)] = Desk(demo_engine).send(returned(other, 1, "damaged", "QUAR-01"))
    assert kind == "rejected"
    assert f"{other} was not shipped on order {ORDER}" in reason
    assert all_stock(demo_engine) == before
    assert receipts(demo_engine) == []


def test_more_units_than_were_shipped_are_rejected(demo_engine: Engine) -> None:
    line = ship(demo_engine)[0]
    face = line_location(demo_engine, line.sku)
    desk = Desk(demo_engine)
    first = returned(line.sku, line.qty, "resaleable", face)
    extra = returned(line.sku, 1, "damaged", "QUAR-01", rid="R-2")
    outcomes = desk.send(first, extra)
    assert outcomes[0][0] == "applied"
    assert outcomes[1] == (
        "rejected",
        f"{line.qty} x {line.sku} were shipped on order {ORDER} and {line.qty} came back "
        "already: 1 more is more than was sent",
    )
    assert receipts(demo_engine) == [(ORDER, line.sku, line.qty, "resaleable", face)]
    with demo_engine.connect() as conn:
        quarantined = conn.execute(select(STOCK.c.qty).where(STOCK.c.location == "QUAR-01")).all()
    assert quarantined == []
    check_ok(demo_engine)


@pytest.mark.parametrize(
    ("grade", "to", "reason"),
    [
        ("resaleable", "QUAR-01", "QUAR-01 is a quarantine location: resaleable units go"),
        ("damaged", "FACE", "is not a quarantine location: damaged units go to quarantine"),
        ("damaged", "QUAR-09", "location QUAR-09 does not exist on this site"),
        ("broken", "QUAR-01", "return grade 'broken' is not one of resaleable, damaged"),
    ],
)
def test_a_return_to_the_wrong_place_or_with_an_unknown_grade_is_rejected(
    demo_engine: Engine, grade: str, to: str, reason: str
) -> None:
    line = ship(demo_engine)[0]
    to = line_location(demo_engine, line.sku) if to == "FACE" else to
    before = all_stock(demo_engine)
    [(kind, said)] = Desk(demo_engine).send(returned(line.sku, 1, grade, to))
    assert (kind, reason in said) == ("rejected", True), said
    assert all_stock(demo_engine) == before


def test_a_return_for_an_order_still_being_picked_is_rejected(demo_engine: Engine) -> None:
    _device, _task, lines, _seq = start_task(demo_engine, ORDER)
    before = all_stock(demo_engine)
    [(kind, reason)] = Desk(demo_engine).send(returned(lines[0].sku, 1, "damaged", "QUAR-01"))
    assert kind == "rejected"
    assert f"order {ORDER} is {order_row(demo_engine, ORDER).state}: only a parcel" in reason
    assert all_stock(demo_engine) == before


def line_location(engine: Engine, sku: str) -> str:
    """A storage location holding ``sku`` (its pick face first)."""
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(STOCK.c.location)
                .where(STOCK.c.sku == sku)
                .where(STOCK.c.location.not_like("QUAR%"))
                .order_by(STOCK.c.location)
                .limit(1)
            ).scalar_one()
        )
