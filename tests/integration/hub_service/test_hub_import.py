"""Order import from JSON-lines and CSV files, through the same intake as MQTT, and the
``floor-hub`` admin commands as subprocesses (stats, import, register, cancel, allocate)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import small_site
from sqlalchemy import Engine, select

from hub import (
    ImportFileError,
    hub_stats,
    import_orders,
    load_demo,
    open_database,
    run_transaction,
)
from hub.__main__ import main
from hub.tables import OrderHistoryRow, OrderLineRow, OutboxMessageRow, table_of
from sync.protocol import OrderIntake

pytestmark = pytest.mark.integration

SITE = "dc1"
ADDRESS = {
    "name": "Ann Lee",
    "lines": ["1 High Street"],
    "city": "Leeds",
    "postcode": "LS1 1AA",
    "country": "GB",
}


def order(order_id: str, *lines: tuple[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "lines": [{"line_no": i + 1, "sku": s, "qty": q} for i, (s, q) in enumerate(lines)],
        "ship_to": ADDRESS,
        "priority": 3,
        "channel": "web",
    }


def jsonl(tmp_path: Path) -> Path:
    rows = [
        json.dumps(order("IMP-1", ("SKU-00001", 1), ("SKU-00002", 2))),
        json.dumps(order("IMP-2", ("SKU-00003", -1))),
        json.dumps(order("IMP-3", ("SKU-99999", 1))),
        "this is not json",
        "",
        json.dumps(order("IMP-4", ("SKU-00004", 1))),
        json.dumps(order("IMP-4", ("SKU-00004", 5))),  # same id, other content
        json.dumps(order("IMP-1", ("SKU-00001", 1), ("SKU-00002", 2))),  # sent twice
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_jsonl_file_is_taken_order_by_order_with_reasons(
    demo_engine: Engine, tmp_path: Path
) -> None:
    report = import_orders(demo_engine, SITE, jsonl(tmp_path))
    assert report.accepted == ["IMP-1", "IMP-4"]
    assert report.replays == ["IMP-1"]
    reasons = {o: r for o, r in report.rejected}
    assert reasons["IMP-2"] == ["line 1: quantity must be positive, got -1"]
    assert reasons["IMP-3"] == ["unknown SKU 'SKU-99999'"]
    assert "line 4: not valid JSON" in reasons[""][0]
    assert reasons["IMP-4"][0] == "order id IMP-4 is already used by another order"
    with demo_engine.connect() as conn:
        history = conn.execute(
            select(table_of(OrderHistoryRow)).where(table_of(OrderHistoryRow).c.order_id == "IMP-1")
        ).all()
        waiting = conn.execute(select(table_of(OutboxMessageRow).c.topic)).scalars().all()
    assert [(h.from_state, h.to_state, h.source) for h in history] == [
        ("received", "validated", "file orders.jsonl")
    ]
    assert "floor/v1/dc1/orders/IMP-2/status" in waiting  # published by the running hub
    assert "floor/v1/dc1/orders/IMP-1/status" in waiting


def test_a_csv_file_holds_one_row_per_order_line(demo_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,line_no,sku,qty,name,address1,address2,city,postcode,country,priority\n"
        "CSV-1,1,SKU-00001,2,Ann Lee,1 High St,,Leeds,LS1 1AA,GB,1\n"
        "CSV-2,1,SKU-00002,two,Bo Chan,2 Low St,Flat 3,York,YO1 1AA,GB,\n"
        "CSV-1,2,SKU-00005,1,Ann Lee,1 High St,,Leeds,LS1 1AA,GB,1\n"
        "CSV-3,,SKU-00006,1,,3 Mid St,,Hull,HU1 1AA,GB,\n",
        encoding="utf-8",
    )
    report = import_orders(demo_engine, SITE, path)
    assert report.accepted == ["CSV-1"]
    reasons = dict(report.rejected)
    assert "lines[0].qty" in reasons["CSV-2"][0] and "'two'" in reasons["CSV-2"][0]
    assert reasons["CSV-3"] == ["ship-to address is incomplete: name missing"]


def test_an_unreadable_import_file_is_refused_with_the_reason(
    demo_engine: Engine, tmp_path: Path
) -> None:
    csv_without_qty = tmp_path / "bad.csv"
    csv_without_qty.write_text("order_id,sku\nX,SKU-00001\n")
    with pytest.raises(ImportFileError, match="no column qty"):
        import_orders(demo_engine, SITE, csv_without_qty)
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportFileError, match="unknown order file type"):
        import_orders(demo_engine, SITE, tmp_path / "bad.xlsx")
    with pytest.raises(ImportFileError, match="does not exist"):
        import_orders(demo_engine, SITE, tmp_path / "missing.jsonl")


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def floor_hub(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """``floor-hub ARGS`` run in this process (its ``main``), with its output."""

    def run(*args: str) -> Ran:
        code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def test_the_admin_commands_work_on_the_database(
    demo_engine: Engine, db_url: str, tmp_path: Path, floor_hub: Callable[..., Ran]
) -> None:
    imported = floor_hub("import", str(jsonl(tmp_path)), "--db", db_url, "--json")
    assert imported.returncode == 1, imported.stderr  # some orders were rejected
    summary = json.loads(imported.stdout)
    assert (summary["accepted"], summary["rejected"], summary["unchanged"]) == (2, 4, 1)
    registered = floor_hub("register", "hh-42", "--role", "picker", "--zones", "A", "--db", db_url)
    assert registered.returncode == 0 and "registered" in registered.stdout
    allocated = floor_hub("allocate", "--db", db_url)
    assert allocated.returncode == 0, allocated.stderr
    assert len(json.loads(allocated.stdout)["tasks"]) >= 1
    cancelled = floor_hub("cancel", "IMP-4", "--reason", "customer asked", "--db", db_url)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["order"] == "IMP-4"
    again = floor_hub("cancel", "IMP-4", "--reason", "twice", "--db", db_url)
    assert again.returncode == 2 and "already cancelled" in again.stderr
    stats = floor_hub("stats", "--db", db_url, "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["devices"]["hh-42"]["applied"] == 0
    assert figures["orders"]["cancelled"] == 1
    assert sum(figures["orders"].values()) == 22
    assert figures["orders_rejected"] == 4
    assert {"devices", "dead_letters", "orders"} <= set(figures)


def test_commands_refuse_a_database_they_cannot_use(
    tmp_path: Path, floor_hub: Callable[..., Ran]
) -> None:
    missing = floor_hub("stats", "--db", f"sqlite:///{tmp_path}/no/such/dir/hub.db")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello, this is not a database" * 100)
    wrong = floor_hub("stats", "--db", str(not_db))
    assert wrong.returncode == 2 and "floor-hub:" in wrong.stderr
    other_site = floor_hub("stats", "--db", f"sqlite:///{tmp_path}/hub.db", "--site", "dc1")
    assert other_site.returncode == 0
    mismatch = floor_hub("stats", "--db", f"sqlite:///{tmp_path}/hub.db", "--site", "dc2")
    assert mismatch.returncode == 2 and "belongs to site 'dc1'" in mismatch.stderr
    unknown = floor_hub("stats", "--db", "mysql://x@y/z")
    assert unknown.returncode == 2 and "not supported" in unknown.stderr


def test_floor_hub_stats_runs_as_a_command(demo_engine: Engine, db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "stats", "--db", db_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["orders"] == {"validated": 20}
    assert figures["devices"]["hh-01"] == {
        **figures["devices"]["hh-01"],
        "applied": 0,
        "last_seq": 0,
        "duplicates_ignored": 0,
    }
    assert figures["dead_letters"] == 0


def test_demo_orders_out_of_range_or_without_demo_are_refused_and_change_nothing(
    tmp_path: Path, floor_hub: Callable[..., Ran], capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    for value, message in (
        ("-1", "the number of orders must be 0 or more, not -1"),
        ("all", "'all' is not a number of orders"),
    ):
        with pytest.raises(SystemExit) as refused:
            main(["run", "--demo", "--demo-orders", value, "--db", db])
        assert refused.value.code == 2 and message in capsys.readouterr().err
    alone = floor_hub("run", "--demo-orders", "5", "--db", db)
    assert alone.returncode == 2 and "--demo-orders only goes with --demo" in alone.stderr
    assert not (tmp_path / "hub.db").exists()


def test_the_demo_site_loads_with_only_its_first_orders_and_intake_takes_the_rest(
    db_url: str, tmp_path: Path
) -> None:
    site = small_site()
    engine = open_database(db_url, SITE)
    try:
        loaded, _ = load_demo(engine, site, orders=5)
        assert loaded
        figures = run_transaction(engine, hub_stats)
        assert figures["orders"] == {"validated": 5} and "pk-01" in figures["devices"]
        # the rest come through intake, as upstream would send them
        rest = tmp_path / "rest.jsonl"
        rest.write_text(
            "".join(OrderIntake.from_domain(o).model_dump_json() + "\n" for o in site.orders[5:])
        )
        summary = import_orders(engine, SITE, rest).as_dict()
        assert (summary["accepted"], summary["rejected"]) == (len(site.orders) - 5, 0)
        with engine.connect() as conn:
            lines = table_of(OrderLineRow)
            stored = conn.execute(select(lines.c.order_id, lines.c.sku, lines.c.qty)).all()
        assert sorted(stored) == sorted(
            (o.order_id, ln.sku, ln.qty) for o in site.orders for ln in o.lines
        )
    finally:
        engine.dispose()
