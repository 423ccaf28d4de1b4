"""The hot path of picking: targeted, guarded SQL inside the caller's unit of work.

Loading a whole task and order through the ORM and merging them back costs several
milliseconds per scan. A confirmed pick changes three numbers (the pick line's count, the
order line's count, the stock at the location) and sometimes the order's state; these
statements change exactly those, in the unit of work's transaction, so the state change
and its outbox event still commit together or not at all.

Every UPDATE of a pick line is guarded by the counts the caller last saw: if another
writer (the sync thread applying a push) changed the line meanwhile, no row matches and
:class:`StaleTask` tells the caller to reload.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from itertools import pairwise
from typing import cast

from sqlalchemy.orm import Session

from floor_app.domain.order import MOVED_BY_PICKS, OrderState, after_pick, check_transition


class StaleTask(Exception):
    """The caller's copy of a pick task no longer matches the store."""


class PickWrites:
    """The few statements a pick needs, run on a unit of work's connection.

    Plain SQL on the unit of work's own DB-API connection (inside its ``BEGIN
    IMMEDIATE``): sqlite3 caches the prepared statements, and SQLAlchemy's per-statement
    compile and ORM bookkeeping, most of the cost of a pick, are skipped.
    """

    def __init__(self, session: Session) -> None:
        raw = session.connection().connection.dbapi_connection
        self.cur = cast(sqlite3.Connection, raw).cursor()

    def task_state(self, task_id: str) -> str | None:
        """The stored state of a task (None when it does not exist)."""
        row = self.cur.execute(
            "SELECT state FROM pick_tasks WHERE task_id = ?", (task_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def count_line(self, task_id: str, line_id: str, before: tuple[int, int], picked: int) -> None:
        """Set a line's picked count, if it still has the counts ``before`` (picked, short)."""
        self.cur.execute(
            "UPDATE pick_lines SET picked = ? WHERE line_id = ? AND task_id = ?"
            " AND picked = ? AND short = ?",
            (picked, line_id, task_id, before[0], before[1]),
        )
        if self.cur.rowcount != 1:
            raise StaleTask(f"{task_id}/{line_id} changed")

    def order_picked(self, order_id: str, line_no: int, delta: int) -> None:
        """Count ``delta`` units picked on an order line and move the order along.

        The order moves as :func:`floor_app.domain.order.after_pick` says (allocated ->
        picking on the first pick, picking -> picked when nothing is open). An order this
        device does not hold is left alone (the hub has it).
        """
        row = self.cur.execute(
            "SELECT state FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return
        self.cur.execute(
            "UPDATE order_lines SET picked = picked + ? WHERE order_id = ? AND line_no = ?",
            (delta, order_id, line_no),
        )
        state = OrderState(row[0])
        if delta <= 0 or state not in MOVED_BY_PICKS:
            return  # no pick moves it: the open units are not even counted
        still_open = self.cur.execute(
            "SELECT count(*) FROM order_lines WHERE order_id = ? AND qty - picked - short > 0",
            (order_id,),
        ).fetchone()[0]
        self.move_order(order_id, state, after_pick(state, nothing_open=not still_open))

    def move_order(self, order_id: str, current: OrderState, steps: Sequence[OrderState]) -> None:
        """Move an order from ``current`` through ``steps`` (one version each).

        Every step is checked by the domain's state machine first: an illegal one raises
        :class:`~floor_app.domain.errors.IllegalTransition` and nothing is written.
        """
        for source, target in pairwise((current, *steps)):
            check_transition(source, target)
        if steps:
            self.cur.execute(
                "UPDATE orders SET state = ?, version = version + ?, updated_at = ?"
                " WHERE order_id = ?",
                (steps[-1].value, len(steps), time.time(), order_id),
            )

    def adjust_stock(self, location: str, sku: str, delta: int) -> None:
        """Change the units of ``sku`` at ``location`` by ``delta`` (never below zero)."""
        self.cur.execute(
            "UPDATE stock SET qty = max(0, qty + ?) WHERE location = ? AND sku = ?",
            (delta, location, sku),
        )
        if self.cur.rowcount == 0:
            self.cur.execute(
                "INSERT INTO stock (location, sku, qty) VALUES (?, ?, ?)",
                (location, sku, max(0, delta)),
            )
