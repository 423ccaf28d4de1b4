"""Receiving through the hub, on SQLite and PostgreSQL, on the example site loaded from its
own files: notices imported from CSV and JSON, counted by a device's events (good units at
the dock, damaged ones in quarantine), closed with the reasons of the variances, put away
by the tasks the close made, the receipt's status retained for upstream at every step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from hub_builders import SITE, apply, envelope, stock
from sqlalchemy import Engine, select

from floor_app.domain.events import (
    DomainEvent,
    ReceiptClosed,
    ReceiptCounted,
    ReceiptVarianceExplained,
    StockMoved,
    StockTaskClosed,
)
from floor_app.domain.stockwork import StockTaskState
from hub import transact
from hub.database import run_transaction
from hub.lots import trace_serial
from hub.outbound import pending_outbox
from hub.receiving.files import read_notices
from hub.receiving.receipts import import_notices, load
from hub.site_data import register_device
from hub.site_files import load_site
from hub.site_files.csvfile import Problems
from hub.stock import candidates
from hub.stock_tasks import load_stock_tasks, open_tasks
from hub.stock_tasks import save as save_tasks
from hub.tables import StockRow, table_of
from sync.protocol import PushMessage, ReceiptNotice, ReceiptStatus, Topics

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "site-example"
NOTICES = ROOT / "config" / "notices-example"
STOCK = table_of(StockRow)
DEVICE = "hh-01"


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Engine:
    run_transaction(engine, lambda c: register_device(c, DEVICE, "picker"))
    load_site(engine, SITE, EXAMPLE)
    return engine


def import_file(engine: Engine, path: Path) -> tuple[Any, Problems]:
    problems = Problems()
    found = read_notices(path, problems)
    assert not problems, [str(p) for p in problems.items]
    result, _ = transact(
        engine,
        Topics(SITE),
        lambda c, out: import_notices(c, out, found, path.name, problems, 1000.0),
    )
    return result, problems


def outbox(engine: Engine) -> list[Any]:
    return run_transaction(engine, lambda c: pending_outbox(c, float("inf"), limit=10_000))


def statuses(engine: Engine, receipt_id: str) -> list[ReceiptStatus]:
    return [
        ReceiptStatus.model_validate_json(m.payload)
        for m in outbox(engine)
        if m.topic == Topics(SITE).receipt_status(receipt_id)
    ]


def count(receipt: str, sku: str, qty: int, **kw: Any) -> ReceiptCounted:
    base: dict[str, Any] = {
        "reference": "",
        "supplier": "",
        "condition": "good",
        "location": "DOCK-01",
        "user": "amara",
    }
    return ReceiptCounted(receipt=receipt, sku=sku, qty=qty, **{**base, **kw})


def send(engine: Engine, events: list[DomainEvent], first: int = 1) -> list[tuple[str, str]]:
    records = [envelope(DEVICE, n, e) for n, e in enumerate(events, start=first)]
    result = apply(engine, DEVICE, records)
    return [(o.kind, o.note or o.reason) for _seq, o in result.outcomes]


def test_notices_import_push_and_import_again_unchanged(site: Engine) -> None:
    result, _ = import_file(site, NOTICES / "asn-2041.csv")
    assert result.created == ["ASN-2041"]
    receipt_id = result.receipt_ids["ASN-2041"]
    stored = run_transaction(site, lambda c: load(c, receipt_id))
    assert stored is not None
    lines = [(ln.sku, ln.expected, ln.lot, ln.expiry, ln.sscc) for ln in stored.receipt.lines]
    assert lines == [
        ("COF-BN-1K", 12, "L2412C", "2029-12-01", "003506032100000017"),  # 2 cases of 6
        ("TEA-EB-80", 12, "L2412D", "2029-11-15", "003506032100000017"),
        ("BWL-CR-15", 24, "", "", "003506032100000024"),
    ]
    pushed = [
        PushMessage.model_validate_json(m.payload).item
        for m in outbox(site)
        if m.topic == Topics(SITE).push(DEVICE)
    ]
    notices = [i for i in pushed if isinstance(i, ReceiptNotice)]
    assert [(n.reference, n.state.value, len(n.lines)) for n in notices] == [
        ("ASN-2041", "expected", 3)
    ]
    again, _ = import_file(site, NOTICES / "asn-2041.csv")
    assert again.unchanged == ["ASN-2041"] and not again.created and not again.updated
    json_result, _ = import_file(site, NOTICES / "asn-2042.json")
    assert json_result.created == ["ASN-2042"]
    bowls = run_transaction(site, lambda c: load(c, json_result.receipt_ids["ASN-2042"]))
    assert bowls is not None and bowls.receipt.lines[0].expected == 24  # a case of 24


def test_count_close_put_away(site: Engine) -> None:
    result, _ = import_file(site, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    outcomes = send(
        site,
        [
            count(rid, "COF-BN-1K", 12, lot="L2412C", expiry="2029-12-01"),
            count(rid, "TEA-EB-80", 10, lot="L2412D", expiry="2029-11-15"),
            count(
                rid,
                "TEA-EB-80",
                1,
                lot="L2412D",
                expiry="2029-11-15",
                condition="damaged",
                location="QUAR-01",
            ),
            count(rid, "BWL-CR-15", 25),
            count(rid, "BWL-CR-15", -1),  # one counted too many, taken back
        ],
    )
    assert [k for k, _ in outcomes] == ["applied"] * 5, outcomes
    assert stock(site, "DOCK-01", "COF-BN-1K")[0] == 12
    assert stock(site, "QUAR-01", "TEA-EB-80")[0] == 1
    # units at the dock are on hand but never promised to an order
    places = run_transaction(site, lambda c: candidates(c, "BWL-CR-15"))
    assert "DOCK-01" not in [loc for loc, _ in places]
    receiving = statuses(site, rid)[-1]
    assert receiving.state.value == "receiving"
    assert [(ln.sku, ln.received, ln.damaged) for ln in receiving.lines] == [
        ("COF-BN-1K", 12, 0),
        ("TEA-EB-80", 10, 1),
        ("BWL-CR-15", 24, 0),
    ]
    closing = [
        ReceiptVarianceExplained(
            receipt=rid, sku="TEA-EB-80", expected=12, received=10, reason="damaged", user="amara"
        ),
        ReceiptClosed(receipt=rid, user="amara"),
    ]
    outcomes = send(site, closing, first=6)
    assert [k for k, _ in outcomes] == ["applied", "applied"], outcomes
    tasks = run_transaction(site, lambda c: open_tasks(c))
    made = sorted(
        (t.task.sku, t.task.from_location, t.task.to_location, t.task.qty, t.task.lot)
        for t in tasks
        if t.origin == "receipt"
    )
    # the coffee and tea faces have room but hold other lots (one lot per location): their
    # units go to empty reserve locations, one each; the bowls' face has room for all 24
    coffee = [m for m in made if m[0] == "COF-BN-1K"]
    assert len(coffee) == 1 and coffee[0][3] == 12 and coffee[0][2] not in ("", "A01-04-1A")
    tea = [m for m in made if m[0] == "TEA-EB-80"]
    assert tea[0][2] != coffee[0][2]
    assert len(tea) == 1 and tea[0][3] == 10 and tea[0][2] not in ("", "A01-01-1A")
    assert [m[2:4] for m in made if m[0] == "BWL-CR-15"] == [("A02-04-1A", 24)]
    assert all(m[1] == "DOCK-01" for m in made)
    closed = statuses(site, rid)[-1]
    assert closed.state.value == "closed" and closed.closed_by == "amara"
    assert {ln.sku: ln.reason for ln in closed.lines}["TEA-EB-80"] == "damaged"
    # put every task away: the stock leaves the dock with its lot and expiry
    moves = [
        StockMoved(
            task=t.task_id,
            sku=t.task.sku,
            from_location=t.task.from_location,
            to_location=t.task.to_location,
            qty=t.task.qty,
            reason="putaway",
            user="amara",
            lot=t.task.lot,
        )
        for t in sorted(tasks, key=lambda t: t.task_id)
        if t.origin == "receipt"
    ]
    outcomes = send(site, list(moves), first=8)
    assert [k for k, _ in outcomes] == ["applied"] * len(moves), outcomes
    assert stock(site, "DOCK-01", "COF-BN-1K")[0] == 0
    tea_home = tea[0][2]
    with site.connect() as conn:
        row = conn.execute(
            select(STOCK).where(STOCK.c.location == tea_home).where(STOCK.c.sku == "TEA-EB-80")
        ).one()
    assert (row.qty, row.lot, row.expiry) == (10, "L2412D", "2029-11-15")
    done = statuses(site, rid)[-1]
    assert done.state.value == "put_away"
    assert [(ln.sku, ln.put_away) for ln in done.lines] == [
        ("COF-BN-1K", 12),
        ("TEA-EB-80", 10),
        ("BWL-CR-15", 24),
    ]


def test_refused_counts_change_nothing(site: Engine) -> None:
    result, _ = import_file(site, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    outcomes = send(
        site,
        [
            count(rid, "COF-BN-1K", 6),  # lot-tracked without its lot
            count(rid, "BWL-CR-15", 6, location="A01-01-1A"),  # good units not at a dock
            count(rid, "BWL-CR-15", 1, condition="damaged"),  # damaged units not in quarantine
            count("R-999999", "BWL-CR-15", 6),  # no such receipt, and no delivery named
            count(rid, "BWL-CR-15", -1),  # nothing counted to take back
            count(rid, "NOPE-1", 1),
        ],
    )
    assert [k for k, _ in outcomes] == ["rejected"] * 6, outcomes
    assert "lot" in outcomes[0][1] and "dock" in outcomes[1][1]
    with site.connect() as conn:
        assert conn.execute(select(STOCK).where(STOCK.c.location == "DOCK-01")).first() is None
    stored = run_transaction(site, lambda c: load(c, rid))
    assert stored is not None and stored.receipt.state.value == "expected"


def test_blind_receipt_and_serials(site: Engine) -> None:
    serial = "SN-CHG-9001"
    outcomes = send(
        site,
        [
            count("BL-1", "CHG-USB-65", 1, reference="DN-7781", supplier="Volt", serial=serial),
            count("BL-1", "CHG-USB-65", 1, reference="DN-7781", serial=serial),  # seen twice
            count("BL-1", "CHG-USB-65", 2, reference="DN-7781", serial="SN-CHG-9002"),
            ReceiptClosed(receipt="BL-1", user="amara"),
        ],
    )
    assert [k for k, _ in outcomes] == ["applied", "rejected", "rejected", "applied"], outcomes
    stored = run_transaction(site, lambda c: load(c, "BL-1"))
    assert stored is not None
    r = stored.receipt
    assert (r.kind.value, r.reference, r.supplier, r.state.value) == (
        "blind",
        "DN-7781",
        "Volt",
        "closed",
    )
    tasks = [t for t in run_transaction(site, lambda c: open_tasks(c)) if t.origin_ref == "BL-1"]
    assert [(t.task.sku, t.task.qty) for t in tasks] == [("CHG-USB-65", 1)]

    # leased to the handheld, the unit cannot be found at the dock: its task is closed short,
    # and the receipt waits for it no more
    def lease(conn: Any) -> None:
        (rec,) = load_stock_tasks(conn, [tasks[0].task_id], lock=True).values()
        rec.task.move_to(StockTaskState.ASSIGNED)
        save_tasks(conn, [rec], now=1000.0)

    run_transaction(site, lease)
    closing = StockTaskClosed(task=tasks[0].task_id, reason="not_found", user="amara")
    assert send(site, [closing], first=5) == [("applied", ANY)]
    done = run_transaction(site, lambda c: load(c, "BL-1"))
    assert done is not None and done.receipt.state.value == "put_away"
    assert (done.to_put_away, done.put_away) == (0, 0)


def test_a_notice_being_counted_cannot_change(site: Engine, tmp_path: Path) -> None:
    result, _ = import_file(site, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    send(site, [count(rid, "BWL-CR-15", 1)])
    changed = tmp_path / "asn-2041.csv"
    shutil.copy(NOTICES / "asn-2041.csv", changed)
    text = changed.read_text(encoding="utf-8").replace(",24,,,", ",30,,,")
    changed.write_text(text, encoding="utf-8")
    problems = Problems()
    found = read_notices(changed, problems)
    with pytest.raises(AssertionError):
        transact(
            site,
            Topics(SITE),
            lambda c, out: _import_or_fail(c, out, found, changed.name, problems),
        )
    assert any("counting has started" in str(p) for p in problems.items)
    stored = run_transaction(site, lambda c: load(c, rid))
    assert stored is not None and stored.receipt.lines[2].expected == 24


def _import_or_fail(c: Any, out: Any, found: Any, name: str, problems: Problems) -> None:
    import_notices(c, out, found, name, problems, 1000.0)
    assert not problems  # the command rolls back on any problem


def test_the_receive_command(
    site: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.__main__ import main

    url = site.url.render_as_string(hide_password=False)
    assert main(["receive", "import", str(NOTICES / "asn-2041.csv"), "--db", url, "--dry-run"]) == 0
    assert "would create 1" in capsys.readouterr().out
    assert main(["receive", "list", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"receipts": []}  # the dry run kept nothing
    assert main(["receive", "import", str(NOTICES / "asn-2041.csv"), "--db", url]) == 0
    capsys.readouterr()
    assert main(["receive", "show", "ASN-2041", "--db", url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "expected" and len(shown["lines"]) == 3
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,gtin,qty,expiry,sscc\n"
        "ASN-9,15060321000304,2,,\n"  # wrong check digit
        "ASN-9,5060321001105,-3,,\n"
        "ASN-9,5060321001105,2,2029-02-30,\n"
        "ASN-9,5060321001105,2,,003506032100000018\n",
        encoding="utf-8",
    )
    assert main(["receive", "import", str(bad), "--db", url, "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4", "5"]
    assert main(["stats", "--db", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["receipts"] == {"expected": 1}
    assert main(["receive", "cancel", shown["receipt_id"], "--db", url]) == 0
    assert main(["receive", "list", "--db", url, "--state", "cancelled", "--json"]) == 0
    capsys.readouterr()


@pytest.fixture
def site2(engine: Engine, tmp_path: Path) -> Engine:
    """The example site with a second dock and the coffee's pick face empty."""
    folder = tmp_path / "site2"
    shutil.copytree(EXAMPLE, folder)
    with (folder / "locations.csv").open("a", encoding="utf-8") as f:
        f.write("DOCK-02,dock,S,,,,-4,18\n")
    stock_csv = folder / "stock.csv"
    rows = stock_csv.read_text(encoding="utf-8").splitlines()
    stock_csv.write_text(
        "\n".join(r for r in rows if not r.startswith("A01-04-1A,")) + "\n", encoding="utf-8"
    )
    run_transaction(engine, lambda c: register_device(c, DEVICE, "picker"))
    load_site(engine, SITE, folder)
    return engine


def test_a_take_back_is_refused_where_nothing_was_counted(site2: Engine) -> None:
    result, _ = import_file(site2, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    outcomes = send(
        site2,
        [
            count(rid, "BWL-CR-15", 24),
            count(rid, "BWL-CR-15", -4, location="DOCK-02"),  # counted at DOCK-01, not here
            count(rid, "BWL-CR-15", -4, condition="damaged", location="QUAR-01"),
            count(rid, "BWL-CR-15", -4),
        ],
    )
    assert [k for k, _ in outcomes] == ["applied", "rejected", "rejected", "applied"], outcomes
    assert "only 0 good x BWL-CR-15 were counted at DOCK-02" in outcomes[1][1]
    with site2.connect() as conn:
        assert conn.execute(select(STOCK).where(STOCK.c.location == "DOCK-02")).first() is None
    assert stock(site2, "DOCK-01", "BWL-CR-15")[0] == 20


def test_importing_again_after_counting_changes_nothing(site2: Engine) -> None:
    result, _ = import_file(site2, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    # the bowls' line had no lot: the first count gives it one
    assert send(site2, [count(rid, "BWL-CR-15", 2, lot="B7")]) == [("applied", ANY)]
    again, _ = import_file(site2, NOTICES / "asn-2041.csv")
    assert again.unchanged == ["ASN-2041"] and not again.updated and not again.created


def test_two_lots_never_share_an_empty_pick_face(site2: Engine) -> None:
    outcomes = send(
        site2,
        [
            count("BL-9", "COF-BN-1K", 3, reference="DN-9", lot="LA", expiry="2030-01-01"),
            count("BL-9", "COF-BN-1K", 3, reference="DN-9", lot="LB", expiry="2030-02-01"),
            ReceiptClosed(receipt="BL-9", user="amara"),
        ],
    )
    assert [k for k, _ in outcomes] == ["applied"] * 3, outcomes
    tasks = [t.task for t in run_transaction(site2, lambda c: open_tasks(c))]
    to = {t.lot: t.to_location for t in tasks if t.sku == "COF-BN-1K"}
    assert to["LA"] == "A01-04-1A"  # the empty face takes the first lot, below its max
    assert to["LB"] not in ("", "A01-04-1A")  # the second goes to reserve, not on top of it


def test_a_bad_receipt_id_or_an_oversized_line_is_refused_with_the_reason(
    site2: Engine, tmp_path: Path
) -> None:
    outcomes = send(site2, [count("BL/1", "BWL-CR-15", 1, reference="DN-1")])
    assert outcomes[0][0] == "rejected" and "receipt id" in outcomes[0][1]
    big = tmp_path / "big.csv"
    big.write_text("reference,gtin,qty\nASN-BIG,15060321000303,1000000\n", encoding="utf-8")
    problems = Problems()
    found = read_notices(big, problems)
    transact(
        site2,
        Topics(SITE),
        lambda c, out: import_notices(c, out, found, big.name, problems, 1000.0),
    )
    assert [str(p) for p in problems.items] == [
        "big.csv:2: qty: 1000000 x 6 units of 15060321000303 is more than the 1000000 one "
        "line holds"
    ]


def test_units_counted_after_another_handheld_closed_the_receipt_are_kept(site: Engine) -> None:
    result, _ = import_file(site, NOTICES / "asn-2041.csv")
    rid = result.receipt_ids["ASN-2041"]
    outcomes = send(
        site,
        [
            count(rid, "BWL-CR-15", 24),
            ReceiptVarianceExplained(
                receipt=rid, sku="COF-BN-1K", expected=12, received=0, reason="to_follow", user="a"
            ),
            ReceiptClosed(receipt=rid, user="amara"),
            # a second handheld, offline until now, counted the tea at the same time
            count(rid, "TEA-EB-80", 12, lot="L2412D", expiry="2029-11-15"),
            count(rid, "TEA-EB-80", -2, lot="L2412D"),  # a take-back after the close: refused
        ],
    )
    assert [k for k, _ in outcomes] == ["applied"] * 4 + ["rejected"], outcomes
    stored = run_transaction(site, lambda c: load(c, rid))
    assert stored is not None and stored.receipt.state.value == "closed"
    assert stored.to_put_away == 36
    tasks = [t.task for t in run_transaction(site, lambda c: open_tasks(c)) if t.origin_ref == rid]
    assert sorted((t.sku, t.qty, t.lot) for t in tasks) == [
        ("BWL-CR-15", 24, ""),
        ("TEA-EB-80", 12, "L2412D"),
    ]
    assert stock(site, "DOCK-01", "TEA-EB-80")[0] == 12


def test_a_serial_unit_put_away_is_traced_where_it_was_put(site: Engine) -> None:
    outcomes = send(
        site,
        [
            count("BL-5", "CHG-USB-65", 1, reference="DN-5", serial="SN-A1"),
            count("BL-5", "CHG-USB-65", 1, reference="DN-5", serial="SN-A2"),
            ReceiptClosed(receipt="BL-5", user="amara"),
        ],
    )
    assert [k for k, _ in outcomes] == ["applied"] * 3, outcomes
    (task,) = [
        t.task for t in run_transaction(site, lambda c: open_tasks(c)) if t.origin_ref == "BL-5"
    ]
    to = task.to_location or "B03-04-3A"

    def moved(serial: str) -> StockMoved:
        return StockMoved(
            task=task.task_id,
            sku="CHG-USB-65",
            from_location="DOCK-01",
            to_location=to,
            qty=1,
            reason="putaway",
            user="amara",
            serial=serial,
        )

    outcomes = send(site, [moved("SN-ZZ"), moved("SN-A2"), moved("SN-A2")], first=4)
    # a serial the hub never received, then the unit, then the same unit again
    assert [k for k, _ in outcomes] == ["rejected", "applied", "rejected"], outcomes
    found = run_transaction(site, lambda c: trace_serial(c, "SN-A2"))
    assert [(u["location"], u["state"]) for u in found["units"]] == [(to, "in_stock")]
    assert [(r["reference"], r["good"]) for r in found["received"]] == [("DN-5", 1)]
    still = run_transaction(site, lambda c: trace_serial(c, "SN-A1"))
    assert [u["location"] for u in still["units"]] == ["DOCK-01"]
