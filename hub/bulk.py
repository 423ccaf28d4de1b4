"""Many rows in one statement: the hub writes each table of a batch with one statement.

On PostgreSQL every statement is a round trip that the server plans and runs on its own, so
an ``executemany`` of 40 updates costs 40 executions. Here each column travels as one array
parameter and the statement unnests them::

    INSERT INTO t (a, b) SELECT * FROM unnest(%(a)s::TEXT[], %(b)s::INTEGER[])
    UPDATE t SET b = g.b FROM unnest(%(a)s::TEXT[], %(b)s::INTEGER[]) AS g(a, b)
        WHERE t.a = g.a

The SQL text is the same for any number of rows (cached, and prepared by psycopg). On SQLite,
in-process, a statement costs microseconds: the same calls use ``executemany``; inserts hand
the driver plain tuples (each value through its column type's bind processor, as SQLAlchemy
would), which spares SQLAlchemy's per-row parameter handling on the drain's 500-row inserts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, insert, update
from sqlalchemy.sql.elements import ColumnElement


class Change(Enum):
    """How :func:`update_rows` combines a given value with the current one."""

    SET = "set"
    ADD = "add"
    ADD_NOT_BELOW_ZERO = "add_floor"
    SUBTRACT_NOT_BELOW_ZERO = "sub_floor"


def _sql_change(change: Change, col: str, val: str) -> str:
    if change is Change.ADD:
        return f"{col} + {val}"
    if change is Change.ADD_NOT_BELOW_ZERO:
        return f"GREATEST({col} + {val}, 0)"
    if change is Change.SUBTRACT_NOT_BELOW_ZERO:
        return f"GREATEST({col} - {val}, 0)"
    return val


def _core_change(change: Change, col: Any, val: Any) -> ColumnElement[Any]:
    if change is Change.ADD:
        return col + val  # type: ignore[no-any-return]
    if change is Change.ADD_NOT_BELOW_ZERO:
        return case((col + val < 0, 0), else_=col + val)
    if change is Change.SUBTRACT_NOT_BELOW_ZERO:
        return case((col - val < 0, 0), else_=col - val)
    return val  # type: ignore[no-any-return]


@cache
def _plain_insert(table: Table) -> Any:
    return insert(table)


@cache
def _insert_returning(table: Table, column: str) -> Any:
    return insert(table).returning(table.c[column])


@cache
def _core_update(
    table: Table, keys: tuple[str, ...], names: tuple[str, ...], how: tuple[Change, ...]
) -> Any:
    stmt = update(table)
    for key in keys:
        stmt = stmt.where(table.c[key] == bindparam(f"k_{key}"))
    return stmt.values(
        {
            n: _core_change(c, table.c[n], bindparam(f"v_{n}"))
            for n, c in zip(names, how, strict=True)
        }
    )


@dataclass(frozen=True, slots=True)
class _PlainInsert:
    """An INSERT handed to the driver as is: its text, a row's values in column order, and
    the bind processors of the columns that have one (by position)."""

    sql: str
    values: Callable[[dict[str, Any]], Any]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        values = [self.values(r) for r in rows]
        if not self.processors:
            return values
        out = []
        for row in values:
            cells = list(row)
            for i, process in self.processors:
                cells[i] = process(cells[i])
            out.append(tuple(cells))
        return out


@cache
def _sqlite_insert(table: Table, names: tuple[str, ...], dialect: Any) -> _PlainInsert | None:
    """The plain INSERT of ``names``; None when a column left out has a Python-side default
    (SQLAlchemy fills it in)."""
    if any(c.default is not None for c in table.c if c.name not in names):
        return None
    cols = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    processors = tuple(
        (i, p)
        for i, n in enumerate(names)
        if (p := table.c[n].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    get = itemgetter(*names)
    values = get if len(names) > 1 else lambda row: (get(row),)
    return _PlainInsert(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', values, processors)


@cache
def _pg_type_name(table: Table, name: str, dialect_name: str, dialect: Any) -> str:
    return str(table.c[name].type.compile(dialect=dialect))


def _pg_type(conn: Connection, table: Table, name: str) -> str:
    return _pg_type_name(table, name, conn.dialect.name, conn.dialect)


@cache
def _insert_sql(table: Table, names: tuple[str, ...], types: tuple[str, ...], ret: str) -> str:
    arrays = ", ".join(f"%(c{i})b::{t}[]" for i, t in enumerate(types))
    cols = ", ".join(f'"{n}"' for n in names)
    picked = ", ".join(f'g."{n}"' for n in names)
    aliases = ", ".join(f'"{n}"' for n in names)
    returning = f' RETURNING "{ret}"' if ret else ""
    return (
        f'INSERT INTO "{table.name}" ({cols}) SELECT {picked} FROM unnest({arrays}) '
        f"WITH ORDINALITY AS g({aliases}, ord) ORDER BY g.ord{returning}"
    )


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {f"c{i}": [r[n] for r in rows] for i, n in enumerate(names)}


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, returning: str = ""
) -> list[int]:
    """Insert ``rows`` (dicts with the same keys); with ``returning``, that column of each
    row in the order given (an ascending sequence column, e.g. an autoincrement id)."""
    if not rows:
        return []
    names = tuple(rows[0])
    if conn.dialect.name == "sqlite" and not returning:
        plain = _sqlite_insert(table, names, conn.dialect)
        if plain is not None:
            conn.exec_driver_sql(plain.sql, plain.parameters(rows))
            return []
    if conn.dialect.name != "postgresql":
        if not returning:
            conn.execute(_plain_insert(table), list(rows))
            return []
        stmt = _insert_returning(table, returning)
        return [int(conn.execute(stmt, row).scalar_one()) for row in rows]
    types = tuple(_pg_type(conn, table, n) for n in names)
    sql = _insert_sql(table, names, types, returning)
    result = conn.exec_driver_sql(sql, _columns(rows, names))
    return sorted(int(r[0]) for r in result) if returning else []


@cache
def _update_sql(
    table: Table,
    keys: tuple[str, ...],
    names: tuple[str, ...],
    types: tuple[str, ...],
    changes: tuple[Change, ...],
) -> str:
    ordered = (*keys, *names)
    arrays = ", ".join(f"%(c{i})b::{t}[]" for i, t in enumerate(types))
    aliases = ", ".join(f'"{n}"' for n in ordered)
    target = f'"{table.name}"'
    sets = ", ".join(
        f'"{n}" = ' + _sql_change(c, f'{target}."{n}"', f'g."{n}"')
        for n, c in zip(names, changes, strict=True)
    )
    where = " AND ".join(f'"{table.name}"."{k}" = g."{k}"' for k in keys)
    return f'UPDATE "{table.name}" SET {sets} FROM unnest({arrays}) AS g({aliases}) WHERE {where}'


def update_rows(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    changes: dict[str, Change] | None = None,
) -> int:
    """Update the rows named by ``keys`` (primary key columns) with the other values; how
    many rows matched.

    ``rows`` are dicts with the key columns and the columns to set, all with the same keys;
    ``changes`` may say a column is added to (or taken from) instead of set.
    """
    if not rows:
        return 0
    changes = changes or {}
    names = tuple(n for n in rows[0] if n not in keys)
    how = tuple(changes.get(n, Change.SET) for n in names)
    if conn.dialect.name != "postgresql":
        stmt = _core_update(table, tuple(keys), names, how)
        result = conn.execute(
            stmt,
            [{**{f"k_{k}": r[k] for k in keys}, **{f"v_{n}": r[n] for n in names}} for r in rows],
        )
        return int(result.rowcount)
    ordered = (*keys, *names)
    types = tuple(_pg_type(conn, table, n) for n in ordered)
    sql = _update_sql(table, tuple(keys), names, types, how)
    return int(conn.exec_driver_sql(sql, _columns(rows, ordered)).rowcount)
