"""Replenishment on the hub (SQLite and PostgreSQL): a pick, a shortage or a reservation that
takes a pick face below its minimum makes one refill task from reserve (FEFO/FIFO, lots
kept apart, urgent when a picker found the face empty); stock.moved and stock_task.closed
are applied with their inbox row, or rejected with the reason and nothing changed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, pick, stock
from sqlalchemy import Engine, select, update

from floor_app.domain.events import ShortReported, StockMoved, StockTaskClosed
from floor_app.domain.replenishment import PickFace
from hub import allocate, run_transaction
from hub.pick_faces import PICK_FACES, save_faces
from hub.site_data import add_stock, set_lots
from hub.stock_check import check_stock
from hub.stock_tasks import STOCK_TASKS
from hub.tables import LocationRow, StockLedgerRow, StockRow, table_of

pytestmark = pytest.mark.integration

STOCK = table_of(StockRow)
LOCATIONS = table_of(LocationRow)
LEDGER = table_of(StockLedgerRow)
DEVICE = "hh-01"


def face_with_reserve(engine: Engine, *, not_sku: str = "") -> tuple[str, str, str, int]:
    """A pick face holding a SKU that is also in reserve: (face, sku, reserve, on hand)."""
    with engine.connect() as conn:
        kind = {r.code: r.kind for r in conn.execute(select(LOCATIONS.c.code, LOCATIONS.c.kind))}
        rows = conn.execute(
            select(STOCK).where(STOCK.c.sku != not_sku).order_by(STOCK.c.sku, STOCK.c.location)
        ).all()
    reserve = {r.sku: r.location for r in rows if kind.get(r.location) == "reserve"}
    for r in rows:
        if kind.get(r.location) == "pick" and r.sku in reserve and r.reserved == 0:
            return r.location, r.sku, reserve[r.sku], int(r.qty)
    raise AssertionError("the demo site has no pick face with reserve stock")


def set_face(engine: Engine, face: str, sku: str, min_qty: int, max_qty: int) -> None:
    run_transaction(engine, lambda c: save_faces(c, [PickFace(face, sku, min_qty, max_qty)]))


def refills(engine: Engine, sku: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(STOCK_TASKS)
            .where(STOCK_TASKS.c.sku == sku)
            .where(STOCK_TASKS.c.kind == "replenish")
            .order_by(STOCK_TASKS.c.task_id)
        ).all()


def short(face: str, sku: str, qty: int, reason: str) -> ShortReported:
    return ShortReported(
        task="PT-X",
        line="L1",
        order="SO-NOPE",
        sku=sku,
        location=face,
        qty=qty,
        reason=reason,
        user="alice",
    )


def moved(task: str, sku: str, src: str, dst: str, qty: int, lot: str = "") -> StockMoved:
    return StockMoved(
        task=task,
        sku=sku,
        from_location=src,
        to_location=dst,
        qty=qty,
        reason="replenish",
        user="alice",
        lot=lot,
    )


def outcomes(result: Any) -> list[tuple[str, str]]:
    return [(o.kind, o.note) for _seq, o in result.outcomes]


def stock_ok(engine: Engine) -> None:
    with engine.connect() as conn:
        report = check_stock(conn)
    assert report["ok"] is True, report


# -- triggers ----------------------------------------------------------------------------


def test_a_pick_below_the_minimum_makes_one_refill_from_reserve(demo_engine: Engine) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)
    set_face(demo_engine, face, sku, on_hand - 1, on_hand + 10)
    assert refills(demo_engine, sku) == []
    events = [envelope(DEVICE, 1, pick("SO-NOPE", sku, location=face, qty=2))]
    assert outcomes(apply(demo_engine, DEVICE, events))[0][0] == "applied"
    made = refills(demo_engine, sku)
    assert len(made) == 1
    task = made[0]
    assert (task.from_location, task.to_location, task.state) == (reserve, face, "open")
    assert task.qty == 12  # up to max: on hand + 10 - (on hand - 2)
    assert not task.urgent and task.origin == "pick"
    with demo_engine.connect() as conn:
        lot = conn.execute(
            select(STOCK.c.lot).where(STOCK.c.location == reserve).where(STOCK.c.sku == sku)
        ).scalar()
    assert task.lot == lot and task.gtin
    # another pick while it is open: no second refill
    more = [envelope(DEVICE, 2, pick("SO-NOPE", sku, location=face, qty=1))]
    apply(demo_engine, DEVICE, more)
    assert [t.task_id for t in refills(demo_engine, sku)] == [task.task_id]
    # the allocation pass leases it to a picker
    report = allocate(demo_engine, SITE)
    assert report.assigned.get(task.task_id, "").startswith("hh-")
    stock_ok(demo_engine)


def test_a_short_below_the_minimum_makes_a_refill(demo_engine: Engine) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)
    set_face(demo_engine, face, sku, on_hand - 2, on_hand + 5)
    result = apply(demo_engine, DEVICE, [envelope(DEVICE, 1, short(face, sku, 3, "damaged"))])
    assert outcomes(result)[0][0] == "applied"
    (task,) = refills(demo_engine, sku)
    assert (task.origin, task.urgent, task.qty, task.from_location) == ("short", False, 8, reserve)


def test_a_face_found_empty_gets_an_urgent_refill_or_its_open_one_made_urgent(
    demo_engine: Engine,
) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)
    set_face(demo_engine, face, sku, 2, on_hand + 10)
    # the face is not below its minimum, but a picker found it empty: urgent, up to max
    apply(demo_engine, DEVICE, [envelope(DEVICE, 1, short(face, sku, 1, "empty"))])
    (task,) = refills(demo_engine, sku)
    assert task.urgent and task.priority == 1
    with demo_engine.connect() as conn:
        free = conn.execute(
            select(STOCK.c.qty - STOCK.c.reserved)
            .where(STOCK.c.location == reserve)
            .where(STOCK.c.sku == sku)
        ).scalar()
    assert task.qty == min(on_hand + 10, free)

    # an ordinary refill already open becomes urgent instead of a second one
    other_face, other_sku, _r, other_hand = face_with_reserve(demo_engine, not_sku=sku)
    set_face(demo_engine, other_face, other_sku, other_hand - 1, other_hand + 4)
    took = pick("SO-NOPE", other_sku, location=other_face, qty=2)
    apply(demo_engine, DEVICE, [envelope(DEVICE, 2, took)])
    (plain,) = refills(demo_engine, other_sku)
    assert not plain.urgent
    allocate(demo_engine, SITE)  # leased and pushed
    apply(demo_engine, DEVICE, [envelope(DEVICE, 3, short(other_face, other_sku, 1, "empty"))])
    (again,) = refills(demo_engine, other_sku)
    assert again.task_id == plain.task_id
    assert again.urgent and again.priority == 1 and again.version > plain.version


def test_a_reservation_below_the_minimum_makes_a_refill(demo_engine: Engine) -> None:
    report = allocate(demo_engine, SITE)
    with demo_engine.connect() as conn:
        made = conn.execute(select(STOCK_TASKS)).all()
        rows = {(r.location, r.sku): r for r in conn.execute(select(STOCK))}
    assert made, "the demo site has faces that reservations take below their minimum"
    for task in made:
        face = rows[(task.to_location, task.sku)]
        assert face.qty - face.reserved < 8  # the demo's minimum
        assert task.origin == "reservation" and task.origin_ref.startswith("SO-")
        assert task.qty == 12  # up to the demo's max: its starting quantity + 12
        assert report.assigned.get(task.task_id)
    # one per face, however many orders reserved there
    faces = [(t.to_location, t.sku) for t in made]
    assert len(faces) == len(set(faces))


# -- source choice -----------------------------------------------------------------------


def test_the_refill_takes_the_earliest_expiry_then_the_oldest_and_never_an_expired_lot(
    demo_engine: Engine,
) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)
    with demo_engine.connect() as conn:
        reserves = [
            c
            for c in conn.execute(
                select(LOCATIONS.c.code)
                .where(LOCATIONS.c.kind == "reserve")
                .order_by(LOCATIONS.c.code.desc())
            ).scalars()
            if conn.execute(select(STOCK.c.sku).where(STOCK.c.location == c)).first() is None
        ]
    expired, soon, later = reserves[:3]
    now = time.time()

    def setup(conn: Any) -> None:
        add_stock(conn, [(expired, sku, 50), (soon, sku, 50), (later, sku, 50)])
        set_lots(
            conn,
            [
                (expired, sku, "OLD", "2001-01-01", now - 900),
                (soon, sku, "SOON", "2099-01-01", now - 100),
                (later, sku, "LATE", "2099-06-01", now - 800),
                (reserve, sku, "NONE", "", now - 5000),
            ],
        )
        # the face is empty: any lot may come
        conn.execute(
            update(STOCK).where(STOCK.c.location == face).where(STOCK.c.sku == sku).values(lot="")
        )

    run_transaction(demo_engine, setup)
    set_face(demo_engine, face, sku, on_hand + 1, on_hand + 30)
    apply(demo_engine, DEVICE, [envelope(DEVICE, 1, short(face, sku, on_hand, "damaged"))])
    (task,) = refills(demo_engine, sku)
    assert (task.from_location, task.lot, task.expiry) == (soon, "SOON", "2099-01-01")
    assert task.qty == min(on_hand + 30, 50)  # up to max, at most what the lot holds
    stock_ok(demo_engine)


def test_a_face_holding_a_lot_is_not_refilled_with_another_until_it_is_found_empty(
    demo_engine: Engine,
) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)

    def other_lot(conn: Any) -> None:
        conn.execute(
            update(STOCK)
            .where(STOCK.c.location == reserve)
            .where(STOCK.c.sku == sku)
            .values(lot="B-LOT")
        )
        conn.execute(
            update(STOCK).where(STOCK.c.location == face).where(STOCK.c.sku == sku).values(lot="A")
        )

    run_transaction(demo_engine, other_lot)
    set_face(demo_engine, face, sku, on_hand - 1, on_hand + 10)
    apply(demo_engine, DEVICE, [envelope(DEVICE, 1, pick("SO-NOPE", sku, location=face, qty=2))])
    assert refills(demo_engine, sku) == []  # lot A on the face, only lot B in reserve
    apply(demo_engine, DEVICE, [envelope(DEVICE, 2, short(face, sku, 1, "empty"))])
    (task,) = refills(demo_engine, sku)
    assert task.urgent and task.lot == "B-LOT"
    # the move puts lot B on the (empty) face
    run_transaction(
        demo_engine,
        lambda c: c.execute(
            update(STOCK).where(STOCK.c.location == face).where(STOCK.c.sku == sku).values(qty=0)
        ),
    )
    # (the face's on-hand was set to 0 behind the ledger's back above: no stock check here)
    result = apply(
        demo_engine,
        DEVICE,
        [envelope(DEVICE, 3, moved(task.task_id, sku, reserve, face, 2, "B-LOT"))],
    )
    assert outcomes(result)[0][0] == "applied"
    with demo_engine.connect() as conn:
        lot = conn.execute(
            select(STOCK.c.lot).where(STOCK.c.location == face).where(STOCK.c.sku == sku)
        ).scalar()
    assert lot == "B-LOT"


# -- stock.moved and stock_task.closed ---------------------------------------------------


def a_refill(engine: Engine) -> tuple[Any, int, int]:
    """A refill task: (task row, face on hand, reserve on hand)."""
    face, sku, reserve, on_hand = face_with_reserve(engine)
    set_face(engine, face, sku, on_hand - 1, on_hand + 10)
    apply(engine, DEVICE, [envelope(DEVICE, 1, pick("SO-NOPE", sku, location=face, qty=2))])
    (task,) = refills(engine, sku)
    return task, stock(engine, face, sku)[0], stock(engine, reserve, sku)[0]


def test_moves_fill_the_face_take_from_reserve_and_finish_the_task(demo_engine: Engine) -> None:
    task, at_face, at_reserve = a_refill(demo_engine)
    src, dst, sku = task.from_location, task.to_location, task.sku
    first = apply(
        demo_engine, DEVICE, [envelope(DEVICE, 2, moved(task.task_id, sku, src, dst, 5, task.lot))]
    )
    assert outcomes(first) == [("applied", f"stock task {task.task_id}: 5 of 12 moved")]
    (row,) = refills(demo_engine, sku)
    assert (row.state, row.moved, row.assigned_to) == ("in_progress", 5, "alice")
    rest = apply(
        demo_engine, DEVICE, [envelope(DEVICE, 3, moved(task.task_id, sku, src, dst, 7, task.lot))]
    )
    assert outcomes(rest) == [("applied", f"stock task {task.task_id} done")]
    assert stock(demo_engine, dst, sku)[0] == at_face + 12
    assert stock(demo_engine, src, sku)[0] == at_reserve - 12
    (row,) = refills(demo_engine, sku)
    assert (row.state, row.moved) == ("done", 12)
    with demo_engine.connect() as conn:
        ledger = conn.execute(
            select(LEDGER.c.location, LEDGER.c.delta, LEDGER.c.reason, LEDGER.c.seq)
            .where(LEDGER.c.event_type == "stock.moved")
            .order_by(LEDGER.c.id)
        ).all()
    assert [tuple(r) for r in ledger] == [
        (src, -5, "replenish", 2),
        (dst, 5, "replenish", 2),
        (src, -7, "replenish", 3),
        (dst, 7, "replenish", 3),
    ]
    stock_ok(demo_engine)


def test_replenishing_from_a_location_that_holds_no_such_item_is_rejected(
    demo_engine: Engine,
) -> None:
    task, at_face, _at_reserve = a_refill(demo_engine)
    with demo_engine.connect() as conn:
        elsewhere = conn.execute(
            select(STOCK.c.location)
            .join(LOCATIONS, LOCATIONS.c.code == STOCK.c.location)
            .where(LOCATIONS.c.kind == "reserve")
            .where(STOCK.c.sku != task.sku)
            .limit(1)
        ).scalar()
    before = _snapshot(demo_engine)
    result = apply(
        demo_engine,
        DEVICE,
        [envelope(DEVICE, 2, moved("", task.sku, elsewhere, task.to_location, 3))],
    )
    assert outcomes(result) == [("rejected", f"{elsewhere} holds no {task.sku}; nothing was moved")]
    assert _snapshot(demo_engine) == before
    assert stock(demo_engine, task.to_location, task.sku)[0] == at_face
    stock_ok(demo_engine)


def _snapshot(engine: Engine) -> tuple[list[Any], list[Any]]:
    with engine.connect() as conn:
        return (
            [tuple(r) for r in conn.execute(select(STOCK).order_by(STOCK.c.location, STOCK.c.sku))],
            [tuple(r) for r in conn.execute(select(STOCK_TASKS).order_by(STOCK_TASKS.c.task_id))],
        )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"task": "ST-999999"}, "stock task ST-999999 is not known to the hub; nothing was moved"),
        ({"qty": 13}, "13 is more than the 12 still to move on {task}"),
        ({"sku": "SKU-99999"}, "stock task {task} moves {sku}, not SKU-99999"),
        ({"to_location": "Z99-99-9Z"}, "stock task {task} refills {dst}, not Z99-99-9Z"),
        ({"lot": "WRONG"}, "{src} holds lot {lot} of {sku}, not lot WRONG; nothing was moved"),
        ({"qty": 0}, "a move needs a positive quantity, got 0"),
    ],
)
def test_a_bad_move_is_rejected_with_the_reason_and_changes_nothing(
    demo_engine: Engine, change: dict[str, Any], reason: str
) -> None:
    task, _f, _r = a_refill(demo_engine)
    values = {
        "task": task.task_id,
        "sku": task.sku,
        "src": task.from_location,
        "dst": task.to_location,
        "qty": 5,
        "lot": task.lot,
    }
    given = {**values, **change}
    before = _snapshot(demo_engine)
    event = StockMoved(
        task=given["task"],
        sku=given["sku"],
        from_location=values["src"],
        to_location=given.get("to_location", values["dst"]),
        qty=given["qty"],
        reason="replenish",
        user="alice",
        lot=given["lot"],
    )
    result = apply(demo_engine, DEVICE, [envelope(DEVICE, 2, event)])
    expected = reason.format(**values)
    assert outcomes(result) == [("rejected", expected)]
    assert _snapshot(demo_engine) == before
    stock_ok(demo_engine)


def test_units_promised_to_orders_are_not_moved_away(demo_engine: Engine) -> None:
    task, _f, at_reserve = a_refill(demo_engine)
    run_transaction(
        demo_engine,
        lambda c: c.execute(
            update(STOCK)
            .where(STOCK.c.location == task.from_location)
            .where(STOCK.c.sku == task.sku)
            .values(reserved=at_reserve - 3)
        ),
    )
    before = _snapshot(demo_engine)
    ev = moved(task.task_id, task.sku, task.from_location, task.to_location, 5, task.lot)
    result = apply(demo_engine, DEVICE, [envelope(DEVICE, 2, ev)])
    kind, note = outcomes(result)[0]
    assert kind == "rejected"
    assert note.startswith(f"{task.from_location} holds only 3 free of {task.sku}")
    assert _snapshot(demo_engine) == before


def test_a_put_away_from_a_tote_adds_at_the_destination_only(demo_engine: Engine) -> None:
    face, sku, _reserve, on_hand = face_with_reserve(demo_engine)
    ev = StockMoved(
        task="",
        sku=sku,
        from_location="tote T0042",
        to_location=face,
        qty=2,
        reason="putaway",
        user="alice",
    )
    result = apply(demo_engine, DEVICE, [envelope(DEVICE, 1, ev)])
    assert outcomes(result) == [("applied", "")]
    assert stock(demo_engine, face, sku)[0] == on_hand + 2
    stock_ok(demo_engine)


def test_a_task_closed_short_keeps_its_reason_and_takes_no_more_moves(
    demo_engine: Engine,
) -> None:
    task, _f, _r = a_refill(demo_engine)
    src, dst, sku = task.from_location, task.to_location, task.sku
    events = [
        envelope(DEVICE, 2, moved(task.task_id, sku, src, dst, 4, task.lot)),
        envelope(
            DEVICE,
            3,
            StockTaskClosed(task=task.task_id, reason="reserve pallet damaged", user="alice"),
        ),
        envelope(DEVICE, 4, moved(task.task_id, sku, src, dst, 1, task.lot)),
        envelope(DEVICE, 5, StockTaskClosed(task="ST-999999", reason="x", user="alice")),
    ]
    result = apply(demo_engine, DEVICE, events)
    got = outcomes(result)
    assert got[0][0] == "applied"
    assert got[1] == (
        "applied",
        f"stock task {task.task_id} closed with 4 of 12 moved: reserve pallet damaged",
    )
    assert got[2] == (
        "rejected",
        f"stock task {task.task_id} is done; the move was not recorded",
    )
    assert got[3] == ("rejected", "stock task ST-999999 is not known to the hub")
    rows = refills(demo_engine, sku)
    assert rows[0].state == "done" and rows[0].reason == "closed by alice: reserve pallet damaged"
    stock_ok(demo_engine)


# -- floor-hub stock faces ---------------------------------------------------------------


def run_hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_floor_hub_stock_faces_loads_levels_and_makes_the_refills_they_need(
    demo_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    face, sku, reserve, on_hand = face_with_reserve(demo_engine)
    good = tmp_path / "faces.toml"
    good.write_text(
        f'[[face]]\nlocation = "{face}"\nsku = "{sku}"\nmin = {on_hand + 1}\nmax = {on_hand + 9}\n',
        encoding="utf-8",
    )
    done = run_hub("stock", "faces", str(good), "--db", db_url, "--site", SITE, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["faces"] == 1 and len(report["refills"]) == 1
    (task,) = refills(demo_engine, sku)
    assert (task.from_location, task.qty, task.origin) == (reserve, 9, "config")


def test_floor_hub_stock_faces_refuses_an_unknown_location_and_changes_nothing(
    demo_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    face, sku, reserve, _on_hand = face_with_reserve(demo_engine)
    bad = tmp_path / "faces.toml"
    bad.write_text(
        f'[[face]]\nlocation = "{face}"\nsku = "{sku}"\nmin = 1000\nmax = 2000\n'
        f'[[face]]\nlocation = "Z99-99-9Z"\nsku = "{sku}"\nmin = 1\nmax = 5\n'
        f'[[face]]\nlocation = "{reserve}"\nsku = "{sku}"\nmin = 1\nmax = 5\n',
        encoding="utf-8",
    )
    before = _snapshot(demo_engine)
    done = run_hub("stock", "faces", str(bad), "--db", db_url, "--site", SITE)
    assert done.returncode == 2
    assert "Z99-99-9Z is not a location of this site" in done.stderr
    assert f"{reserve} is a reserve location, not a pick face" in done.stderr
    assert _snapshot(demo_engine) == before
    assert refills(demo_engine, sku) == []
    with demo_engine.connect() as conn:
        levels = conn.execute(
            select(PICK_FACES.c.min_qty).where(PICK_FACES.c.location == face)
        ).scalar()
    assert levels == 8  # the demo's, not the file's 1000
