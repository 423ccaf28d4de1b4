"""Cycle counts on the hub: creating count tasks, and the settings counts are applied with.

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

Applying what the floor counted (``stock.counted``) is :mod:`hub.handlers.counts`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from floor_app.domain.counting import (
    DAY_S,
    CountFrequency,
    CountTolerance,
    classify_abc,
)
from floor_app.domain.stockwork import StockReason, StockTaskKind

from .errors import HubError
from .stock import LEDGER, LOCATIONS, STOCK
from .stock_tasks import (
    OPEN_STATES,
    STOCK_TASKS,
    StockTaskRecord,
    create,
    load_stock_tasks,
    save,
)
from .tables import SkuRow, StockCountRow, table_of

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


def results(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest count results, newest first (``floor-hub stock counts``)."""
    rows = conn.execute(select(COUNTS).order_by(COUNTS.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
