"""``floor-hub stock check``: is the hub's stock what the applied events say it is?

Two independent comparisons:

1. **Stock against the ledger.** For every (location, SKU) the newest baseline in the stock
   ledger (a load or an accepted count sets on-hand to a counted quantity) plus every
   event change written after it must equal the on-hand in the stock table.
2. **The ledger against the inbox.** The stock effect of every applied device event is
   derived again from the event as it was received (:func:`event_effects`, written from
   the protocol, not shared with the handlers) and must equal the ledger rows written for
   that (device, sequence): an event applied twice, a change lost, or a change with no
   event behind it all show up here.

It also lists on-hand below zero and reservations above on-hand. Read-only: it changes
nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, func, select

from .tables import InboxRow, LocationRow, StockLedgerRow, StockRow, table_of

STOCK = table_of(StockRow)
LEDGER = table_of(StockLedgerRow)
INBOX = table_of(InboxRow)
LOCATIONS = table_of(LocationRow)

#: Ledger kinds that set on-hand to a counted quantity.
BASELINES = ("load", "count")

Place = tuple[str, str]


def event_effects(event_type: str, payload: dict[str, Any], storage: set[str]) -> dict[Place, int]:
    """The on-hand change an applied event makes, by (location, SKU).

    ``storage`` holds the site's storage location codes: a move from anywhere else (a tote,
    a station, the returns desk) adds at its destination without taking from a stock row.
    """
    out: dict[Place, int] = defaultdict(int)
    qty = int(payload.get("qty", 0) or 0)
    sku = str(payload.get("sku", ""))
    if event_type in ("pick.confirmed", "pick.short"):
        out[(str(payload["location"]), sku)] -= qty
    elif event_type == "pick.undone":
        out[(str(payload["location"]), sku)] += qty
    elif event_type == "stock.moved":
        source = str(payload["from_location"])
        if source in storage:
            out[(source, sku)] -= qty
        out[(str(payload["to_location"]), sku)] += qty
    elif event_type == "return.received":
        out[(str(payload["to_location"]), sku)] += qty
    elif event_type == "receipt.counted":
        out[(str(payload["location"]), sku)] += qty
    return {k: v for k, v in out.items() if v}


#: Event types with a stock effect (counts set baselines instead).
STOCK_EVENT_TYPES = (
    "pick.confirmed",
    "pick.short",
    "pick.undone",
    "stock.moved",
    "return.received",
    "receipt.counted",
)


def check_stock(conn: Connection) -> dict[str, Any]:
    """The reconciliation report (see the module docstring); ``ok`` when nothing differs."""
    baseline_ids = (
        select(LEDGER.c.location, LEDGER.c.sku, func.max(LEDGER.c.id).label("bid"))
        .where(LEDGER.c.kind.in_(BASELINES))
        .group_by(LEDGER.c.location, LEDGER.c.sku)
        .subquery()
    )
    baselines: dict[Place, dict[str, Any]] = {}
    for r in conn.execute(
        select(LEDGER).join(baseline_ids, LEDGER.c.id == baseline_ids.c.bid)
    ).mappings():
        baselines[(r["location"], r["sku"])] = {
            "id": int(r["id"]),
            "kind": r["kind"],
            "qty": int(r["qty"] or 0),
            "at": float(r["at"]),
        }
    since: dict[Place, list[int]] = defaultdict(lambda: [0, 0])
    after = (
        select(LEDGER.c.location, LEDGER.c.sku, LEDGER.c.delta)
        .select_from(
            LEDGER.outerjoin(
                baseline_ids,
                and_(
                    baseline_ids.c.location == LEDGER.c.location,
                    baseline_ids.c.sku == LEDGER.c.sku,
                ),
            )
        )
        .where(LEDGER.c.kind == "event")
        .where(LEDGER.c.id > func.coalesce(baseline_ids.c.bid, 0))
    )
    for loc, sku, delta in conn.execute(after):
        acc = since[(loc, sku)]
        acc[0] += int(delta)
        acc[1] += 1
    on_hand: dict[Place, tuple[int, int]] = {
        (r.location, r.sku): (int(r.qty), int(r.reserved))
        for r in conn.execute(select(STOCK.c.location, STOCK.c.sku, STOCK.c.qty, STOCK.c.reserved))
    }
    differences = []
    places = sorted(set(on_hand) | set(baselines) | set(since))
    for place in places:
        base = baselines.get(place)
        delta, events = since.get(place, (0, 0))
        expected = (base["qty"] if base else 0) + delta
        held = on_hand.get(place, (0, 0))[0]
        if expected != held:
            differences.append(
                {
                    "location": place[0],
                    "sku": place[1],
                    "on_hand": held,
                    "expected": expected,
                    "difference": held - expected,
                    "baseline": (
                        {"kind": base["kind"], "qty": base["qty"], "at": base["at"]}
                        if base
                        else None
                    ),
                    "events_since": events,
                }
            )
    mismatches, events_checked = _inbox_against_ledger(conn)
    negative = [
        {"location": p[0], "sku": p[1], "on_hand": q}
        for p, (q, _r) in sorted(on_hand.items())
        if q < 0
    ]
    over = [
        {"location": p[0], "sku": p[1], "on_hand": q, "reserved": r}
        for p, (q, r) in sorted(on_hand.items())
        if r > max(q, 0)
    ]
    return {
        "ok": not (differences or mismatches or negative or over),
        "checked": {
            "places": len(places),
            "baselines": len(baselines),
            "events": events_checked,
        },
        "differences": differences,
        "event_mismatches": mismatches,
        "negative_on_hand": negative,
        "reserved_over_on_hand": over,
    }


def _inbox_against_ledger(conn: Connection) -> tuple[list[dict[str, Any]], int]:
    storage = set(conn.execute(select(LOCATIONS.c.code)).scalars())
    written: dict[tuple[str, int], dict[Place, int]] = defaultdict(lambda: defaultdict(int))
    for dev, seq, loc, sku, delta in conn.execute(
        select(LEDGER.c.device_id, LEDGER.c.seq, LEDGER.c.location, LEDGER.c.sku, LEDGER.c.delta)
        .where(LEDGER.c.kind == "event")
        .where(LEDGER.c.seq.is_not(None))
    ):
        written[(dev, int(seq))][(loc, sku)] += int(delta)
    mismatches = []
    checked = 0
    seen: set[tuple[str, int]] = set()
    for r in conn.execute(
        select(INBOX.c.device_id, INBOX.c.seq, INBOX.c.type, INBOX.c.payload)
        .where(INBOX.c.outcome == "applied")
        .where(INBOX.c.type.in_(STOCK_EVENT_TYPES))
        .order_by(INBOX.c.device_id, INBOX.c.seq)
    ):
        key = (r.device_id, int(r.seq))
        seen.add(key)
        checked += 1
        want = event_effects(r.type, json.loads(r.payload), storage)
        got = {p: d for p, d in written.get(key, {}).items() if d}
        if want != got:
            mismatches.append(_mismatch(key, r.type, want, got))
    for key in sorted(set(written) - seen):
        got = {p: d for p, d in written[key].items() if d}
        if got:
            mismatches.append(_mismatch(key, "", {}, got))
    return mismatches, checked


def _mismatch(
    key: tuple[str, int], event_type: str, want: dict[Place, int], got: dict[Place, int]
) -> dict[str, Any]:
    return {
        "device_id": key[0],
        "seq": key[1],
        "type": event_type or "(no applied event)",
        "expected": _by_place(want.items()),
        "ledger": _by_place(got.items()),
    }


def _by_place(items: Iterable[tuple[Place, int]]) -> dict[str, int]:
    return {f"{loc} {sku}": d for (loc, sku), d in sorted(items)}
