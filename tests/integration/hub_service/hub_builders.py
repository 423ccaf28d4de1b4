"""Builders for hub tests: event envelopes as they arrive on the wire, batches, orders."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Engine, select

from floor_app.domain.events import (
    DomainEvent,
    LabelConfirmed,
    LabelPrinted,
    PackCompleted,
    PickConfirmed,
    TaskCompleted,
    TaskStarted,
)
from hub import ApplyResult, allocate, apply_batch, run_transaction
from hub.batch_reader import Record
from hub.tables import (
    InboxRow,
    OrderLineRow,
    OrderRow,
    PickLineRow,
    PickTaskRow,
    ReservationRow,
    StockRow,
    table_of,
)
from sync.protocol import EventEnvelope

SITE = "dc1"
#: The tracking number :func:`ship` labels a parcel with.
TRACKING = "1Z999AA10123456784"


def envelope(
    device: str, seq: int, event: DomainEvent, *, order_version: int | None = None
) -> EventEnvelope:
    """The envelope of ``event`` as a device would send it (validated like the hub does)."""
    return EventEnvelope.model_validate(
        {
            "seq": seq,
            "event_id": f"01TEST{device.upper().replace('-', '')}{seq:012d}"[:26],
            "device_id": device,
            "type": event.TYPE,
            "kind": event.KIND,
            "order_id": event.order_id,
            "order_version": order_version,
            "payload": event.payload(),
            "created_at": time.time(),
        }
    )


def batch_bytes(device: str, records: list[EventEnvelope], **extra: Any) -> bytes:
    """An EventBatch message (bytes) holding ``records``."""
    body = {
        "v": 1,
        "device_id": device,
        "sent_at": time.time(),
        "events": [r.model_dump(mode="json") for r in records],
        **extra,
    }
    return json.dumps(body).encode()


def pick(
    order: str,
    sku: str,
    *,
    task: str = "PT-X",
    line: str = "L1",
    qty: int = 1,
    location: str = "A01-01-1A",
    tote: int = 1,
) -> PickConfirmed:
    """A pick.confirmed event."""
    return PickConfirmed(
        task=task,
        line=line,
        order=order,
        sku=sku,
        location=location,
        qty=qty,
        tote_position=tote,
        user="alice",
    )


def apply(engine: Engine, device: str, records: list[Record], **kwargs: Any) -> ApplyResult:
    """Apply one batch in its own transaction."""
    return run_transaction(
        engine, lambda conn: apply_batch(conn, device, records, site=SITE, **kwargs)
    )


def order_row(engine: Engine, order_id: str) -> Any:
    """The stored order row."""
    orders = table_of(OrderRow)
    with engine.connect() as conn:
        return conn.execute(select(orders).where(orders.c.order_id == order_id)).one()


def inbox_seqs(engine: Engine, device: str) -> list[int]:
    """Sequences recorded for ``device``, in order."""
    inbox = table_of(InboxRow)
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(inbox.c.seq).where(inbox.c.device_id == device).order_by(inbox.c.seq)
            ).scalars()
        )


def task_of_order(engine: Engine, order_id: str) -> Any:
    """(task row, its lines for ``order_id``) of the task picking ``order_id``."""
    lines = table_of(PickLineRow)
    tasks = table_of(PickTaskRow)
    with engine.connect() as conn:
        own = conn.execute(
            select(lines).where(lines.c.order_id == order_id).order_by(lines.c.sequence)
        ).all()
        task = conn.execute(select(tasks).where(tasks.c.task_id == own[0].task_id)).one()
    return task, own


def start_task(engine: Engine, order_id: str) -> tuple[str, Any, list[Any], int]:
    """Allocate, then start the task holding ``order_id`` on its device: (device, task, lines,
    next seq)."""
    allocate(engine, SITE)
    task, lines = task_of_order(engine, order_id)
    device = task.lease_device
    started = apply(
        engine,
        device,
        [
            envelope(
                device,
                1,
                TaskStarted(task=task.task_id, user="alice", task_version=task.version + 1),
            )
        ],
    )
    assert started.outcomes[0][1].kind == "applied"
    return device, task, lines, 2


def stock(engine: Engine, location: str, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of ``sku`` at ``location``."""
    table = table_of(StockRow)
    with engine.connect() as conn:
        row = conn.execute(
            select(table).where(table.c.location == location).where(table.c.sku == sku)
        ).one()
    return int(row.qty), int(row.reserved)


OPEN_TASK_STATES = ("open", "assigned", "in_progress")


def reservation_problems(engine: Engine) -> list[str]:
    """What is wrong between stock, reservations, order lines and tasks (empty: nothing).

    Every reserved unit of a stock row is a reservation row; every reservation row belongs
    to an open task or waits for one; an order line's reserved count is its rows' sum and
    never more than its units still to pick; no stock row promises more than it holds."""
    stock_t, res, lines, tasks = (
        table_of(StockRow),
        table_of(ReservationRow),
        table_of(OrderLineRow),
        table_of(PickTaskRow),
    )
    problems: list[str] = []
    with engine.connect() as conn:
        task_state = {r.task_id: r.state for r in conn.execute(select(tasks))}
        by_place: dict[tuple[str, str], int] = {}
        by_line: dict[tuple[str, int], int] = {}
        for r in conn.execute(select(res).where(res.c.qty != 0)):
            by_place[(r.location, r.sku)] = by_place.get((r.location, r.sku), 0) + r.qty
            by_line[(r.order_id, r.line_no)] = by_line.get((r.order_id, r.line_no), 0) + r.qty
            if r.qty < 0:
                problems.append(f"reservation {r.order_id}/{r.line_no}@{r.location} is {r.qty}")
            if r.task_id is not None and task_state.get(r.task_id) not in OPEN_TASK_STATES:
                problems.append(
                    f"{r.qty} reserved for {r.order_id}/{r.line_no}@{r.location} "
                    f"on task {r.task_id}, which is {task_state.get(r.task_id)}"
                )
        for r in conn.execute(select(stock_t)):
            if r.reserved != by_place.get((r.location, r.sku), 0):
                problems.append(
                    f"stock {r.sku}@{r.location}: {r.reserved} reserved, "
                    f"reservations hold {by_place.get((r.location, r.sku), 0)}"
                )
            if r.reserved > r.qty:
                problems.append(f"stock {r.sku}@{r.location}: {r.reserved} promised of {r.qty}")
        for r in conn.execute(select(lines)):
            held = by_line.get((r.order_id, r.line_no), 0)
            if r.reserved != held:
                problems.append(f"{r.order_id}/{r.line_no}: {r.reserved} reserved, rows {held}")
            if r.reserved > r.qty - r.picked - r.short:
                problems.append(f"{r.order_id}/{r.line_no}: {r.reserved} reserved, more than open")
    return problems


def pick_every_line(
    engine: Engine, order_id: str, before: dict[tuple[str, str], int] | None = None
) -> tuple[str, Any, list[Any], int]:
    """Start ``order_id``'s task and pick every line of it: (device, task, its lines, next
    seq); ``before`` gets the on-hand of each line's place before the picks."""
    device, task, lines, seq = start_task(engine, order_id)
    if before is not None:
        before.update(
            {(ln.location, ln.sku): stock(engine, ln.location, ln.sku)[0] for ln in lines}
        )
    events = [
        envelope(
            device,
            seq + i,
            pick(
                order_id,
                ln.sku,
                task=task.task_id,
                line=ln.line_id,
                qty=ln.qty,
                location=ln.location,
                tote=ln.tote_position,
            ),
        )
        for i, ln in enumerate(lines)
    ]
    assert {o.kind for _s, o in apply(engine, device, events).outcomes} == {"applied"}
    return device, task, lines, seq + len(lines)


def ship(engine: Engine, order_id: str = "SO-100003") -> list[Any]:
    """Pick, pack and label ``order_id`` (at PACK-01, tracking :data:`TRACKING`) through
    real events; its order lines."""
    device, task, _lines, seq = pick_every_line(engine, order_id)
    done = apply(
        engine, device, [envelope(device, seq, TaskCompleted(task=task.task_id, user="alice"))]
    )
    assert done.outcomes[0][1].kind == "applied"
    packer = [
        PackCompleted(order=order_id, station="PACK-01", carton="CTN-M", weight_g=900, user="ben"),
        LabelPrinted(job="J-1", order=order_id, tracking=TRACKING, carrier="ups", user="ben"),
        LabelConfirmed(job="J-1", order=order_id, tracking=TRACKING, user="ben"),
    ]
    done = apply(engine, "pk-01", [envelope("pk-01", i + 1, e) for i, e in enumerate(packer)])
    assert {o.kind for _s, o in done.outcomes} == {"applied"}
    assert order_row(engine, order_id).state == "labelled"
    with engine.connect() as conn:
        order_lines = table_of(OrderLineRow)
        return list(conn.execute(select(order_lines).where(order_lines.c.order_id == order_id)))
