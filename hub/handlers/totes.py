"""Totes: ``tote.assigned`` (a claim), ``tote.put`` and ``tote.released`` (facts), and what
picks, completed tasks and packed parcels mean for the totes that hold them.

The hub records which order is in which tote from the pickers' events. A tote claimed for a
task is refused (:class:`~floor_app.domain.totes.ToteBusy`: the reason names the order)
while it holds another order that is not packed yet, or when it is not one of the site's
totes (once the site has a tote list); the device that claimed it is sent the tote as the
hub knows it. A pick or put into a tote holding another order is a fact: recorded, and
flagged in the event's note. When a task completes, each of its totes holds its order on
the way to the order's pack station (a tote nothing went into is free again); packing the
order (``pack.completed``, ``tote.released``) releases its totes. Pickers' and stations'
devices are told each tote that now holds a picked order or is free again.
"""

from __future__ import annotations

from sqlalchemy import update

from floor_app.domain.events import (
    PackCompleted,
    PickConfirmed,
    TaskCompleted,
    ToteAssigned,
    TotePut,
    ToteReleased,
)
from floor_app.domain.order import OrderState
from floor_app.domain.picking import TaskState, Tote
from floor_app.domain.totes import SiteTote, ToteBusy, ToteState

from ..repositories import TaskRecord
from ..tables import ToteRow, table_of
from ..totes import (
    ToteRecord,
    codes_holding,
    codes_of_tasks,
    has_tote_list,
    load_totes,
    order_states,
    push_totes,
    save_totes,
)
from .batch import Batch, Handlers, Outcome

TASK_TOTES = table_of(ToteRow)


class Totes(Handlers):
    """The site totes one batch touches; written and told in :meth:`flush`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(batch)
        self.totes: dict[str, ToteRecord] = {}
        #: states of the orders the loaded totes hold (those not loaded with the batch)
        self.held: dict[str, OrderState] = {}
        #: (task, position, tote) scanned for a task's position
        self.scanned: list[tuple[str, int, str]] = []
        #: totes refused to this batch's device: it is sent them as the hub knows them
        self.refused: set[str] = set()
        self._tote_list: bool | None = None

    def load(self, codes: set[str], completed: set[str], packed: set[str]) -> None:
        """Lock and load the totes the events name, those on the completed tasks and those
        holding the packed orders (after the batch's orders and tasks)."""
        conn = self.batch.conn
        wanted = set(codes) | codes_of_tasks(conn, completed) | codes_holding(conn, packed)
        if not wanted:
            return
        self.totes = load_totes(conn, wanted, lock=True)
        holders = {r.tote.order_id for r in self.totes.values() if r.tote.order_id}
        self.held = order_states(conn, holders - set(self.batch.orders))

    def _state_of(self, order_id: str | None) -> OrderState | None:
        if order_id is None:
            return None
        rec = self.batch.orders.get(order_id)
        return rec.order.state if rec is not None else self.held.get(order_id)

    def _site_tote(self, code: str) -> ToteRecord | None:
        """The tote ``code``, or a new one when the site has no tote list (any code goes)."""
        rec = self.totes.get(code)
        if rec is not None:
            return rec
        if self._tote_list is None:
            self._tote_list = has_tote_list(self.batch.conn)
        if self._tote_list:
            return None
        rec = ToteRecord(SiteTote(code))
        self.totes[code] = rec
        return rec

    # -- events ---------------------------------------------------------------------------

    def assigned(self, ev: ToteAssigned) -> Outcome:
        b = self.batch
        rec = self._site_tote(ev.tote)
        if rec is None:
            return Outcome.refused(
                f"{ev.tote} is not one of the site's totes",
                task_id=None,
                code="pick.unknown_tote",
                params={"tote": ev.tote},
            )
        try:
            rec.tote.check_free_for(ev.order, ev.task, self._state_of(rec.tote.order_id))
        except ToteBusy as exc:
            self.refused.add(ev.tote)
            return Outcome.refused(f"{exc.reason} — {exc.hint}", code=exc.code, params=exc.params)
        rec.tote.fill(ev.order, ev.task)
        rec.device_id = b.device_id
        self.scanned.append((ev.task, ev.position, ev.tote))
        task = b.tasks.get(ev.task)
        if task is not None:
            b.renew(task)
            _place(task, ev.position, ev.tote)
        return Outcome.applied("" if task is not None else f"task {ev.task} is not known")

    def picked(self, ev: PickConfirmed) -> str:
        """A pick into ``ev.tote``: the tote holds the order (a flag when it holds another)."""
        return self._goods_in(ev.tote, ev.order, ev.task, f"{ev.qty} x {ev.sku}")

    def put(self, ev: TotePut) -> Outcome:
        self.batch.renew(self.batch.tasks.get(ev.task))
        return Outcome.applied(self._goods_in(ev.tote, ev.order, ev.task, f"{ev.qty} units"))

    def _goods_in(self, code: str, order_id: str, task_id: str, what: str) -> str:
        if not code:
            return ""
        rec = self._site_tote(code)
        if rec is None:
            return f"{code} is not one of the site's totes"
        tote = rec.tote
        if tote.state is ToteState.FREE or not tote.holds_unpacked(self._state_of(tote.order_id)):
            tote.fill(order_id, task_id)  # the goods are in it, whatever was said before
            rec.device_id = self.batch.device_id
            return ""
        if tote.order_id != order_id:
            return (
                f"flagged: tote {code} holds order {tote.order_id}, and {what} of {order_id} "
                "went into it too"
            )
        return ""

    def task_done(self, ev: TaskCompleted) -> str:
        """The task's totes leave the cart: each holds its order on the way to its
        destination; one nothing went into is free again."""
        task = self.batch.tasks.get(ev.task)
        if task is None or task.task.state is not TaskState.DONE:
            return ""
        units: dict[int, int] = {}
        for line in task.task.lines:
            units[line.tote_position] = units.get(line.tote_position, 0) + line.picked
        notes = []
        for position in task.task.totes:
            rec = self.totes.get(position.tote_id) if position.tote_id else None
            if rec is None or rec.tote.task_id != ev.task:
                continue
            if units.get(position.position, 0) > 0:
                pack_station = self._pack_station(position.order_id) or position.destination
                rec.tote.hold(pack_station)
                notes.append(f"{rec.tote.code}: {position.order_id} to {pack_station or '?'}")
            else:
                rec.tote.release()
        return "totes " + "; ".join(notes) if notes else ""

    def _pack_station(self, order_id: str | None) -> str:
        rec = self.batch.orders.get(order_id) if order_id else None
        return rec.pack_station if rec is not None else ""

    def packed(self, ev: PackCompleted) -> str:
        """The order is in its parcel: its totes are free again."""
        freed = [
            rec.tote.code
            for rec in self.totes.values()
            if rec.tote.order_id == ev.order and rec.tote.state is not ToteState.FREE
        ]
        for code in freed:
            self.totes[code].tote.release()
        return f"released {', '.join(sorted(freed))}" if freed else ""

    def released(self, ev: ToteReleased) -> Outcome:
        rec = self.totes.get(ev.tote)
        if rec is None:
            return Outcome.applied(f"{ev.tote} is not one of the site's totes")
        if rec.tote.state is ToteState.FREE:
            return Outcome.applied()
        if rec.tote.order_id != ev.order:
            return Outcome.applied(
                f"tote {ev.tote} holds order {rec.tote.order_id}, not {ev.order}: kept"
            )
        rec.tote.release()
        return Outcome.applied()

    # -- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        b = self.batch
        for task_id, position, code in self.scanned:
            b.conn.execute(
                update(TASK_TOTES)
                .where(TASK_TOTES.c.task_id == task_id)
                .where(TASK_TOTES.c.position == position)
                .values(tote_id=code)
            )
        changed = save_totes(b.conn, self.totes.values(), now=b.now)
        told = [t for t in changed if t.state is not ToteState.FILLING]
        push_totes(b.conn, b.out, told)
        back = [self.totes[c].tote for c in sorted(self.refused) if c in self.totes]
        if back:
            push_totes(b.conn, b.out, back, devices=[b.device_id])


def _place(task: TaskRecord, position: int, code: str) -> None:
    """Name the tote scanned for ``position`` on the loaded task (pushes carry it)."""
    tote = task.task.tote_for(position)
    if tote is not None and tote.tote_id != code:
        task.task.totes = [
            Tote(code, t.position, t.order_id, t.destination) if t.position == position else t
            for t in task.task.totes
        ]
