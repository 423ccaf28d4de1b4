"""Counts: ``stock.counted`` and ``count.acknowledged`` (:mod:`hub.counts` creates counts).

**Applying a count** (:meth:`Counts.counted`, in the transaction of the event's inbox row).
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

from sqlalchemy import Connection, insert, select

from floor_app.domain.counting import CountOutcome, decide
from floor_app.domain.events import CountAcknowledged, StockCounted
from floor_app.domain.stockwork import StockReason, StockTaskKind, StockTaskState
from sync.protocol import CountDifference, StockTaskCancelled

from ..counts import COUNTS, held, location_exists, new_count, sku_exists
from ..outbound import Outbound
from ..stock import STOCK, set_baseline
from ..stock_tasks import STOCK_TASKS, StockTaskRecord
from .batch import Batch, Handlers, Outcome


def after_shortage(batch: Batch, location: str, sku: str) -> None:
    """A shortage was reported at ``location``: count it (unless a count is already open)."""
    if not batch.settings.counts.after_shortage or not location_exists(batch.conn, location):
        return
    rec, created = new_count(
        batch.conn,
        location,
        sku,
        origin="shortage",
        origin_ref=f"{batch.device_id}#{batch.seq}",
        reason=f"short reported at {location}",
        urgent=True,
        pending=batch.new_stock_tasks,
    )
    if created:
        batch.new_stock_tasks.append(rec)


class Counts(Handlers):
    """Counts applied in one batch, and acknowledged differences."""

    def counted(self, ev: StockCounted) -> Outcome:
        """Apply one ``stock.counted`` (see the module docstring)."""
        batch = self.batch
        if ev.counted < 0:
            return Outcome.rejected(
                f"a count cannot be negative ({ev.counted} of {ev.sku or 'the location'} at "
                f"{ev.location}): count again and enter the units found, 0 or more",
                code="hub.count_negative",
                params={"counted": ev.counted, "location": ev.location},
            )
        if not location_exists(batch.conn, ev.location):
            return Outcome.rejected(
                f"location {ev.location!r} does not exist at this site: scan the location label "
                "again; nothing was changed",
                code="hub.unknown_location",
                params={"location": ev.location},
            )
        rec = batch.stock_tasks.get(ev.task)
        if rec is None or rec.task.kind is not StockTaskKind.COUNT:
            return Outcome.rejected(
                f"count task {ev.task!r} is not known to the hub",
                code="hub.unknown_count",
                params={"task": ev.task},
            )
        task = rec.task
        if task.from_location != ev.location:
            return Outcome.rejected(
                f"count task {ev.task} is for location {task.from_location}, not {ev.location}",
                code="hub.count_other_location",
                params={"task": ev.task, "location": task.from_location, "scanned": ev.location},
            )
        if task.sku and ev.sku != task.sku:
            return Outcome.rejected(
                f"count task {ev.task} counts {task.sku}, not {ev.sku!r}",
                code="hub.count_other_sku",
                params={"task": ev.task, "sku": task.sku, "scanned": ev.sku},
            )
        if task.not_user and ev.user == task.not_user:
            return Outcome.rejected(
                f"{ev.user} counted {ev.location} first: the recount {ev.task} must be done by "
                "another user; nothing was changed",
                code="hub.recount_other",
                params={"user": ev.user, "location": ev.location, "task": ev.task},
            )
        if ev.sku and not sku_exists(batch.conn, ev.sku):
            return Outcome.rejected(
                f"SKU {ev.sku!r} is not known to the hub",
                code="hub.unknown_sku",
                params={"sku": ev.sku},
            )
        if not ev.sku and ev.counted != 0:
            return Outcome.rejected(
                f"the end of a location count carries 0, not {ev.counted}: "
                "count each SKU on its own",
                code="hub.count_end_not_zero",
                params={"counted": ev.counted},
            )
        if not task.is_open:
            return Outcome.applied(
                f"count task {ev.task} is already {task.state.value}; not applied"
            )
        batch.stock.flush(batch.conn)  # what earlier events of this batch changed is on hand now
        if ev.sku:
            notes = [_one(batch, rec, ev.sku, ev.counted, ev.user)]
            done = bool(task.sku)
        else:
            counted = _counted_in_task(batch.conn, task.task_id)
            missing = sorted(
                sku
                for sku, qty in batch.conn.execute(
                    select(STOCK.c.sku, STOCK.c.qty).where(STOCK.c.location == ev.location)
                )
                if qty != 0 and sku not in counted
            )
            notes = [_one(batch, rec, sku, 0, ev.user) for sku in missing]
            done = True
        _take_over(batch, rec)
        if task.state is StockTaskState.ASSIGNED:
            task.move_to(StockTaskState.IN_PROGRESS)  # counting started: no lease expiry
        task.assigned_to = ev.user
        if done:
            task.move_to(StockTaskState.DONE)
            rec.lease_expires_at = None
        return Outcome.applied("; ".join(n for n in notes if n))

    def acknowledged(self, ev: CountAcknowledged) -> Outcome:
        """A supervisor saw a difference: republish it acknowledged (it leaves the queue)."""
        batch = self.batch
        row = batch.conn.execute(select(COUNTS).where(COUNTS.c.id == ev.count_id)).first()
        if row is None:
            return Outcome.rejected(
                f"count {ev.count_id} is not known to the hub",
                code="hub.unknown_count_result",
                params={"count": ev.count_id},
            )
        if row.outcome != CountOutcome.ADJUSTED.value:
            return Outcome.rejected(
                f"count {ev.count_id} changed no stock ({row.outcome}): nothing to acknowledge",
                code="hub.count_no_change",
                params={"count": ev.count_id},
            )
        reason = batch.conn.execute(
            select(STOCK_TASKS.c.reason).where(STOCK_TASKS.c.task_id == row.task_id)
        ).scalar()
        publish_difference(
            batch.out,
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


def _counted_in_task(conn: Connection, task_id: str) -> set[str]:
    return set(conn.execute(select(COUNTS.c.sku).where(COUNTS.c.task_id == task_id)).scalars())


def _take_over(batch: Batch, rec: StockTaskRecord) -> None:
    """The counting device holds the task now; another device it was leased to is told."""
    task = rec.task
    if task.state is StockTaskState.OPEN:
        task.move_to(StockTaskState.ASSIGNED)
    previous = rec.lease_device
    if previous and previous != batch.device_id:
        batch.out.push(
            previous,
            StockTaskCancelled(
                task_id=task.task_id,
                reason=f"counted on device {batch.device_id} meanwhile",
                code="count.counted_elsewhere",
                params={"device": batch.device_id},
            ),
        )
    rec.lease_device = batch.device_id
    rec.lease_expires_at = batch.now + batch.settings.lease_s


def _one(batch: Batch, rec: StockTaskRecord, sku: str, counted: int, user: str) -> str:
    """Decide one counted SKU at the task's location; a note for the inbox."""
    conn, task = batch.conn, rec.task
    location = task.from_location
    expected = held(conn, location, sku)
    reserved = int(
        conn.execute(
            select(STOCK.c.reserved).where(STOCK.c.location == location).where(STOCK.c.sku == sku)
        ).scalar()
        or 0
    )
    outcome = decide(batch.settings.counts.tolerance, expected, counted, task.attempt, reserved)
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
            device_id=batch.device_id,
            seq=batch.seq,
            at=batch.now,
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
        batch.new_stock_tasks.append(later)
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
        batch.new_stock_tasks.append(recount)
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
        now=batch.now,
        cause=batch.stock.cause,
    )
    task.reason = why[:500]
    if not diff:
        return f"{sku}: {counted} as held"
    publish_difference(
        batch.out,
        CountDifference(
            count_id=int(count_id),
            task_id=task.task_id,
            location=location,
            sku=sku,
            expected=expected,
            counted=counted,
            user=user[:64],
            reason=why[:500],
            at=batch.now,
        ),
    )
    return f"{sku}: {expected} -> {counted} ({diff:+d}), {why}"


def publish_difference(out: Outbound, diff: CountDifference) -> None:
    """Publish an accepted difference (retained) for the supervisors."""
    out.publish(out.topics.count_difference(diff.count_id), diff, retain=True)
