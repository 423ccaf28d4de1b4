"""Cycle counts on the hub: creating count tasks and applying what the floor counted.

**Creating counts.** A count task (:class:`floor_app.domain.stockwork.StockTask` of kind
``count``) names one storage location, and one SKU or none (every SKU at the location). It
is created by hand (``floor-hub stock count --location L [--sku S]``, ``--sku S`` for every
location holding the SKU), after a shortage (a ``pick.short`` counts that location and SKU),
or by the ABC pass (``floor-hub stock count --due``, and every ``due_every_s`` in the running
hub): SKUs are classed A/B/C by the units picked over a window
(:func:`floor_app.domain.counting.classify_abc`) and a (location, SKU) whose last count or
load is older than its class's frequency is due. ``expected`` (what the hub held when the
task was made) stays on the hub: counts are blind. A location that does not exist, or a
SKU that is not known, is refused with the reason; nothing is created twice while an open
count of the same place exists.

**Applying a count** (:func:`apply_count`, in the transaction of the event's inbox row).
The counted quantity is compared with what the hub holds *when the count is applied*
(picks applied before it are already taken off; a pick the device confirmed after the
count but synced first is therefore counted as gone, and one confirmed before the count but
synced after it is taken off again after the new baseline: see docs/decisions/0260).

* within the tolerance (or equal): accepted, ``set_baseline(kind="count")`` makes the count
  the new on-hand (a new baseline even when nothing changes), outcome ``match`` or
  ``adjusted``;
* out of tolerance on a first count: outcome ``recount``, stock unchanged, and a recount
  task (attempt 2, ``not_user`` = the first counter) is created; the allocation pass leases
  it to a device whose user is someone else;
* a recount (attempt 2) is always accepted and adjusts stock.

Every accepted difference is published retained on ``counts/{id}/difference`` for the
supervisors' exceptions, until one acknowledges it (``count.acknowledged``).

A count of a whole location: the device sends one ``stock.counted`` per SKU found, then one
with ``sku = ""`` and ``counted = 0`` when the user confirms the location is done. That
last one closes the task, and every SKU the hub holds there that was not counted in the
task counts as 0.

Bad input changes nothing and is rejected with the reason: a negative count, a location
that does not exist, a SKU that is not known, a count for another location or SKU than its
task, a recount by the user who counted first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from floor_app.domain.counting import (
    DAY_S,
    CountFrequency,
    CountOutcome,
    CountTolerance,
    classify_abc,
    decide,
)
from floor_app.domain.events import CountAcknowledged, StockCounted
from floor_app.domain.stockwork import StockReason, StockTaskKind, StockTaskState
from sync.protocol import CountDifference, StockTaskCancelled

from .errors import HubError
from .outbound import Outbound
from .stock import LEDGER, LOCATIONS, STOCK, set_baseline
from .stock_tasks import OPEN_STATES, STOCK_TASKS, StockTaskRecord, create, save
from .tables import SkuRow, StockCountRow, table_of

if TYPE_CHECKING:
    from .handlers import BatchWork, Outcome

COUNTS = table_of(StockCountRow)
SKUS = table_of(SkuRow)


class CountRefused(HubError):
    """A count cannot be created (unknown location or SKU, nothing to count)."""


@dataclass(frozen=True, slots=True)
class CountSettings:
    """How counts are accepted and how often the ABC pass asks for them."""

    tolerance: CountTolerance = field(default_factory=CountTolerance)
    frequency: CountFrequency = field(default_factory=CountFrequency)
    #: Picked units over this many days class the SKUs.
    window_days: float = 30.0
    #: At most this many counts made by one ABC pass (the rest wait for the next).
    due_limit: int = 50
    #: Seconds between ABC passes of the running hub (0: never).
    due_every_s: float = 3600.0
    #: A shortage makes a count of its location and SKU.
    after_shortage: bool = True


# -- creating counts --------------------------------------------------------------------------


def location_exists(conn: Connection, code: str) -> bool:
    """True when ``code`` is a location of the site."""
    return (
        conn.execute(select(LOCATIONS.c.code).where(LOCATIONS.c.code == code)).first() is not None
    )


def sku_exists(conn: Connection, sku: str) -> bool:
    """True when ``sku`` is a SKU of the site."""
    return conn.execute(select(SKUS.c.sku).where(SKUS.c.sku == sku)).first() is not None


def held(conn: Connection, location: str, sku: str = "") -> int:
    """Units on hand at ``location`` (of ``sku``, or of every SKU)."""
    query = select(func.coalesce(func.sum(STOCK.c.qty), 0)).where(STOCK.c.location == location)
    if sku:
        query = query.where(STOCK.c.sku == sku)
    return int(conn.execute(query).scalar() or 0)


def _covering(
    conn: Connection, location: str, sku: str, pending: Iterable[StockTaskRecord] = ()
) -> StockTaskRecord | None:
    """An open count that already covers (location, sku): the same SKU or the whole place."""
    for rec in pending:
        t = rec.task
        if t.kind is StockTaskKind.COUNT and t.from_location == location and t.sku in ("", sku):
            return rec
    rows = conn.execute(
        select(STOCK_TASKS)
        .where(STOCK_TASKS.c.kind == StockTaskKind.COUNT.value)
        .where(STOCK_TASKS.c.state.in_(OPEN_STATES))
        .where(STOCK_TASKS.c.from_location == location)
        .where(STOCK_TASKS.c.sku.in_(sorted({"", sku})))
        .order_by(STOCK_TASKS.c.task_id)
        .limit(1)
    ).all()
    if not rows:
        return None
    from .stock_tasks import load_stock_tasks

    return load_stock_tasks(conn, [rows[0].task_id]).get(rows[0].task_id)


def new_count(
    conn: Connection,
    location: str,
    sku: str = "",
    *,
    origin: str = "manual",
    origin_ref: str = "",
    reason: str = "",
    urgent: bool = False,
    attempt: int = 1,
    not_user: str = "",
    pending: Iterable[StockTaskRecord] = (),
    follow_up: bool = False,
) -> tuple[StockTaskRecord, bool]:
    """A count of ``location`` (one SKU, or every SKU with ``sku=""``): (task, created).

    An open count already covering the place is returned instead (``created`` False), except
    for a ``follow_up`` of a count being applied (a recount, a deferred count), which is
    always new. Raises :class:`CountRefused` for a location or SKU the site does not have.
    """
    if not location_exists(conn, location):
        raise CountRefused(
            f"location {location!r} does not exist at this site: check the code on the "
            "location label (floor-hub stock count --location CODE)"
        )
    if sku and not sku_exists(conn, sku):
        raise CountRefused(f"SKU {sku!r} is not known to the hub: check the SKU code")
    if not follow_up:
        existing = _covering(conn, location, sku, pending)
        if existing is not None:
            return existing, False
    gtin = ""
    if sku:
        gtin = str(conn.execute(select(SKUS.c.gtin).where(SKUS.c.sku == sku)).scalar() or "")
    rec = create(
        conn,
        StockTaskKind.COUNT,
        sku=sku,
        gtin=gtin,
        from_location=location,
        urgent=urgent,
        reason=reason,
        origin=origin,
        origin_ref=origin_ref,
        expected=held(conn, location, sku),
        attempt=attempt,
        not_user=not_user,
        description=("recount" if attempt > 1 else "count") + f" {location} {sku}".rstrip(),
    )
    return rec, True


def count_location(
    conn: Connection, location: str, sku: str = "", *, now: float, reason: str = ""
) -> tuple[StockTaskRecord, bool]:
    """Create and save a count of ``location`` (``sku`` or every SKU); (task, created)."""
    rec, created = new_count(conn, location, sku, reason=reason or "count requested")
    if created:
        save(conn, [rec], now=now)
    return rec, created


def count_sku(
    conn: Connection, sku: str, *, now: float, reason: str = ""
) -> list[tuple[StockTaskRecord, bool]]:
    """Create and save a count of ``sku`` at every location holding it."""
    if not sku_exists(conn, sku):
        raise CountRefused(f"SKU {sku!r} is not known to the hub: check the SKU code")
    places = list(
        conn.execute(
            select(STOCK.c.location)
            .where(STOCK.c.sku == sku)
            .where(STOCK.c.qty > 0)
            .order_by(STOCK.c.location)
        ).scalars()
    )
    if not places:
        raise CountRefused(
            f"no location holds {sku}: count a location instead (--location CODE --sku {sku})"
        )
    out = []
    for location in places:
        rec, created = new_count(conn, location, sku, reason=reason or f"count of {sku}")
        if created:
            save(conn, [rec], now=now)
        out.append((rec, created))
    return out


def after_shortage(work: BatchWork, location: str, sku: str) -> None:
    """A shortage was reported at ``location``: count it (unless a count is already open)."""
    if not work.settings.counts.after_shortage or not location_exists(work.conn, location):
        return
    rec, created = new_count(
        work.conn,
        location,
        sku,
        origin="shortage",
        origin_ref=f"{work.device_id}#{work.seq}",
        reason=f"short reported at {location}",
        urgent=True,
        pending=work.new_stock_tasks,
    )
    if created:
        work.new_stock_tasks.append(rec)


def picked_units(conn: Connection, since: float) -> dict[str, int]:
    """Units picked per SKU since ``since`` (from the stock ledger)."""
    rows = conn.execute(
        select(LEDGER.c.sku, func.sum(LEDGER.c.delta))
        .where(LEDGER.c.kind == "event")
        .where(LEDGER.c.reason == StockReason.PICK.value)
        .where(LEDGER.c.at >= since)
        .group_by(LEDGER.c.sku)
    )
    return {str(sku): -int(total or 0) for sku, total in rows}


def due_places(
    conn: Connection, settings: CountSettings, now: float
) -> list[tuple[str, str, str, float | None]]:
    """(location, SKU, class, last counted or loaded) of every place due for a count, the
    longest overdue (never counted first) and class A first."""
    freq = settings.frequency
    classes = classify_abc(
        picked_units(conn, now - settings.window_days * DAY_S),
        conn.execute(select(SKUS.c.sku)).scalars(),
        freq,
    )
    last = {
        (r.location, r.sku): float(r.at)
        for r in conn.execute(
            select(LEDGER.c.location, LEDGER.c.sku, func.max(LEDGER.c.at).label("at"))
            .where(LEDGER.c.kind.in_(("count", "load")))
            .group_by(LEDGER.c.location, LEDGER.c.sku)
        )
    }
    due = []
    for r in conn.execute(
        select(STOCK.c.location, STOCK.c.sku)
        .select_from(STOCK.join(LOCATIONS, LOCATIONS.c.code == STOCK.c.location))
        .where(STOCK.c.qty > 0)
        .order_by(STOCK.c.location, STOCK.c.sku)
    ):
        cls = classes.get(r.sku)
        if cls is None:
            continue
        at = last.get((r.location, r.sku))
        if freq.is_due(cls, at, now):
            due.append((r.location, r.sku, cls.value, at))
    due.sort(key=lambda d: (d[3] is not None, d[3] or 0.0, d[2], d[0], d[1]))
    return due


def create_due(
    conn: Connection, settings: CountSettings, now: float | None = None
) -> list[dict[str, Any]]:
    """The ABC pass: create counts of the places due (at most ``due_limit``); what it made."""
    now = time.time() if now is None else now
    made: list[dict[str, Any]] = []
    new: list[StockTaskRecord] = []
    for location, sku, cls, at in due_places(conn, settings, now):
        if len(made) >= settings.due_limit:
            break
        rec, created = new_count(
            conn,
            location,
            sku,
            origin="abc",
            origin_ref=cls,
            reason=f"class {cls} cycle count",
            pending=new,
        )
        if not created:
            continue
        new.append(rec)
        made.append(
            {"task": rec.task_id, "location": location, "sku": sku, "class": cls, "last": at}
        )
    save(conn, new, now=now)
    return made


# -- applying counts ----------------------------------------------------------------------------


def _counted_in_task(conn: Connection, task_id: str) -> set[str]:
    return set(conn.execute(select(COUNTS.c.sku).where(COUNTS.c.task_id == task_id)).scalars())


def apply_count(work: BatchWork, ev: StockCounted) -> Outcome:
    """Apply one ``stock.counted`` (see the module docstring)."""
    from .handlers import Outcome

    if ev.counted < 0:
        return Outcome.rejected(
            f"a count cannot be negative ({ev.counted} of {ev.sku or 'the location'} at "
            f"{ev.location}): count again and enter the units found, 0 or more"
        )
    if not location_exists(work.conn, ev.location):
        return Outcome.rejected(
            f"location {ev.location!r} does not exist at this site: scan the location label "
            "again; nothing was changed"
        )
    rec = work.stock_tasks.get(ev.task)
    if rec is None or rec.task.kind is not StockTaskKind.COUNT:
        return Outcome.rejected(f"count task {ev.task!r} is not known to the hub")
    task = rec.task
    if task.from_location != ev.location:
        return Outcome.rejected(
            f"count task {ev.task} is for location {task.from_location}, not {ev.location}"
        )
    if task.sku and ev.sku != task.sku:
        return Outcome.rejected(f"count task {ev.task} counts {task.sku}, not {ev.sku!r}")
    if task.not_user and ev.user == task.not_user:
        return Outcome.rejected(
            f"{ev.user} counted {ev.location} first: the recount {ev.task} must be done by "
            "another user; nothing was changed"
        )
    if ev.sku and not sku_exists(work.conn, ev.sku):
        return Outcome.rejected(f"SKU {ev.sku!r} is not known to the hub")
    if not ev.sku and ev.counted != 0:
        return Outcome.rejected(
            f"the end of a location count carries 0, not {ev.counted}: count each SKU on its own"
        )
    if not task.is_open:
        return Outcome.applied(f"count task {ev.task} is already {task.state.value}; not applied")
    work.stock.flush(work.conn)  # what earlier events of this batch changed is on hand now
    if ev.sku:
        notes = [_one(work, rec, ev.sku, ev.counted, ev.user)]
        done = bool(task.sku)
    else:
        counted = _counted_in_task(work.conn, task.task_id)
        missing = sorted(
            sku
            for sku, qty in work.conn.execute(
                select(STOCK.c.sku, STOCK.c.qty).where(STOCK.c.location == ev.location)
            )
            if qty != 0 and sku not in counted
        )
        notes = [_one(work, rec, sku, 0, ev.user) for sku in missing]
        done = True
    _take_over(work, rec)
    if task.state is StockTaskState.ASSIGNED:
        task.move_to(StockTaskState.IN_PROGRESS)  # counting started: no lease expiry
    task.assigned_to = ev.user
    if done:
        task.move_to(StockTaskState.DONE)
        rec.lease_expires_at = None
    return Outcome.applied("; ".join(n for n in notes if n))


def _take_over(work: BatchWork, rec: StockTaskRecord) -> None:
    """The counting device holds the task now; another device it was leased to is told."""
    task = rec.task
    if task.state is StockTaskState.OPEN:
        task.move_to(StockTaskState.ASSIGNED)
    previous = rec.lease_device
    if previous and previous != work.device_id:
        work.out.push(
            previous,
            StockTaskCancelled(
                task_id=task.task_id, reason=f"counted on device {work.device_id} meanwhile"
            ),
        )
    rec.lease_device = work.device_id
    rec.lease_expires_at = work.now + work.settings.lease_s


def _one(work: BatchWork, rec: StockTaskRecord, sku: str, counted: int, user: str) -> str:
    """Decide one counted SKU at the task's location; a note for the inbox."""
    conn, task = work.conn, rec.task
    location = task.from_location
    expected = held(conn, location, sku)
    reserved = int(
        conn.execute(
            select(STOCK.c.reserved).where(STOCK.c.location == location).where(STOCK.c.sku == sku)
        ).scalar()
        or 0
    )
    outcome = decide(work.settings.counts.tolerance, expected, counted, task.attempt, reserved)
    count_id = conn.execute(
        insert(COUNTS)
        .values(
            task_id=task.task_id,
            location=location,
            sku=sku,
            expected=expected,
            counted=counted,
            attempt=task.attempt,
            user=user[:64],
            outcome=outcome.value,
            device_id=work.device_id,
            seq=work.seq,
            at=work.now,
        )
        .returning(COUNTS.c.id)
    ).scalar_one()
    if outcome is CountOutcome.DEFERRED:
        later, _ = new_count(
            conn,
            location,
            sku,
            origin="deferred",
            origin_ref=task.task_id,
            reason=f"{reserved} promised to picks not yet made here: count after them",
            attempt=task.attempt,
            not_user=task.not_user,
            follow_up=True,
        )
        work.new_stock_tasks.append(later)
        return (
            f"{sku}: counted {counted}, but {reserved} are promised to picks not yet made "
            f"here (their shortages take the missing units off): stock unchanged, "
            f"{later.task_id} counts again"
        )
    if outcome is CountOutcome.RECOUNT:
        recount, _ = new_count(
            conn,
            location,
            sku,
            origin="recount",
            origin_ref=task.task_id,
            reason=f"first count {counted}, held {expected}: count again",
            urgent=True,
            attempt=task.attempt + 1,
            not_user=user,
            follow_up=True,
        )
        work.new_stock_tasks.append(recount)
        return (
            f"{sku}: counted {counted}, held {expected}: recount {recount.task_id} by another user"
        )
    diff = counted - expected
    if task.attempt > 1:
        why = f"recount by {user} ({counted}) after a first count by {task.not_user}"
    elif diff:
        why = f"count by {user} within tolerance"
    else:
        why = f"count by {user} matches"
    set_baseline(
        conn,
        location,
        sku,
        counted,
        kind="count",
        reason=StockReason.COUNT.value,
        now=work.now,
        cause=work.stock.cause,
    )
    task.reason = why[:500]
    if not diff:
        return f"{sku}: {counted} as held"
    publish_difference(
        work.out,
        CountDifference(
            count_id=int(count_id),
            task_id=task.task_id,
            location=location,
            sku=sku,
            expected=expected,
            counted=counted,
            user=user[:64],
            reason=why[:500],
            at=work.now,
        ),
    )
    return f"{sku}: {expected} -> {counted} ({diff:+d}), {why}"


def publish_difference(out: Outbound, diff: CountDifference) -> None:
    """Publish an accepted difference (retained) for the supervisors."""
    out.publish(out.topics.count_difference(diff.count_id), diff, retain=True)


def acknowledge(work: BatchWork, ev: CountAcknowledged) -> Outcome:
    """A supervisor saw a difference: republish it acknowledged (it leaves the queue)."""
    from .handlers import Outcome

    row = work.conn.execute(select(COUNTS).where(COUNTS.c.id == ev.count_id)).first()
    if row is None:
        return Outcome.rejected(f"count {ev.count_id} is not known to the hub")
    if row.outcome != CountOutcome.ADJUSTED.value:
        return Outcome.rejected(
            f"count {ev.count_id} changed no stock ({row.outcome}): nothing to acknowledge"
        )
    reason = work.conn.execute(
        select(STOCK_TASKS.c.reason).where(STOCK_TASKS.c.task_id == row.task_id)
    ).scalar()
    publish_difference(
        work.out,
        CountDifference(
            count_id=int(row.id),
            task_id=row.task_id,
            location=row.location,
            sku=row.sku,
            expected=int(row.expected),
            counted=int(row.counted),
            user=row.user,
            reason=str(reason or "")[:500],
            at=float(row.at),
            acknowledged_by=ev.user[:64],
        ),
    )
    return Outcome.applied(f"acknowledged by {ev.user}")


def results(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest count results, newest first (``floor-hub stock counts``)."""
    rows = conn.execute(select(COUNTS).order_by(COUNTS.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
