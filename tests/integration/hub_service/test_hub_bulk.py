"""``insert_rows``: many rows in one statement, on SQLite and PostgreSQL, with the values as
given and ids returned in order; on SQLite, columns left out take their defaults."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from hub import open_database
from hub.bulk import insert_rows
from hub.tables import DeadLetterRow, table_of

LETTERS = table_of(DeadLetterRow)


def _letter(i: int, **extra: object) -> dict[str, object]:
    """A row of every column but ``excerpt`` and ``size`` (which have defaults)."""
    return {
        "topic": f"floor/v1/dc1/dev/hh-0{i}/evt",
        "code": "invalid",
        "reason": f"reason {i} ü",
        "device_id": None if i % 2 else f"hh-0{i}",
        "at": 1764000000 + i,  # an int for a float column
        **extra,
    }


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                LETTERS.c.topic,
                LETTERS.c.reason,
                LETTERS.c.device_id,
                LETTERS.c.excerpt,
                LETTERS.c.size,
                LETTERS.c.at,
            ).order_by(LETTERS.c.id)
        )
        return [tuple(r) for r in rows]


def test_rows_are_written_as_given(engine: Engine) -> None:
    rows = [_letter(i, excerpt=f"x{i}", size=i) for i in range(1, 5)]
    with engine.begin() as conn:
        assert insert_rows(conn, LETTERS, rows) == []
    stored = _stored(engine)
    assert stored == [
        (r["topic"], r["reason"], r["device_id"], r["excerpt"], r["size"], float(r["at"]))  # type: ignore[arg-type]
        for r in rows
    ]
    assert all(isinstance(row[5], float) for row in stored)


def test_columns_left_out_take_their_defaults_on_sqlite(tmp_path: Path) -> None:
    # PostgreSQL's path needs every column; callers give them all
    engine = open_database(f"sqlite:///{tmp_path / 'hub.db'}", "dc1")
    try:
        with engine.begin() as conn:
            insert_rows(conn, LETTERS, [_letter(1), _letter(2)])
        assert [(row[3], row[4]) for row in _stored(engine)] == [("", 0), ("", 0)]
    finally:
        engine.dispose()


def test_returning_gives_the_new_ids_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        rows = [_letter(i, excerpt="", size=0) for i in range(1, 4)]
        ids = insert_rows(conn, LETTERS, rows, returning="id")
        assert len(ids) == 3 and ids == sorted(ids)
        topics = dict(conn.execute(select(LETTERS.c.id, LETTERS.c.topic)).all())
    assert [topics[i] for i in ids] == [_letter(i)["topic"] for i in range(1, 4)]
