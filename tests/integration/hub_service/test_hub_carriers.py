"""Carrier choice on the hub (SQLite and PostgreSQL): chosen at allocation and recorded,
held with the reason when no rule covers the destination, changed by a packer's claim
(applied, or refused when stale), and carrier rule files checked before they are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import small_site
from hub_builders import SITE, apply, envelope, order_row
from sqlalchemy import Engine, select

from floor_app.domain.events import CarrierChanged, HoldReleased
from hub import allocate, hub_stats, run_transaction, take_order, transact
from hub.__main__ import main as hub_main
from hub.carrier_rules import RULES_KEY, read_rules, store_rules
from hub.repositories import load_orders
from hub.site_data import get_meta
from hub.tables import CarrierChoiceRow, ReservationRow, table_of
from sync.protocol import OrderModel, Topics

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
CHOICES = table_of(CarrierChoiceRow)
RESERVATIONS = table_of(ReservationRow)
MONDAY = datetime(2026, 11, 23, 9, 0).timestamp()

RULES = """
currency = "EUR"

[[zones]]
zone = "GB"
country = "GB"

[[zones]]
zone = "EU"
country = "DE"

[[services]]
carrier = "Post"
service = "slow"
max_weight_g = 30000
max_dims_mm = [1000, 1000, 1000]
rates = [{ zone = "GB", transit_days = 5, prices = [[30000, 3.00]] }]

[[services]]
carrier = "Post"
service = "fast"
max_weight_g = 30000
max_dims_mm = [1000, 1000, 1000]
rates = [{ zone = "GB", transit_days = 1, prices = [[30000, 9.00]] }]

[[services]]
carrier = "Van"
service = "big"
max_weight_g = 30000
max_dims_mm = [1000, 1000, 1000]
rates = [
  { zone = "GB", transit_days = 2, prices = [[30000, 7.50]] },
  { zone = "EU", transit_days = 3, prices = [[30000, 12.00]] },
]
"""


def rules_file(tmp_path: Path, text: str = RULES, name: str = "carriers.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def use_rules(engine: Engine, path: Path) -> None:
    rules = read_rules(path)
    run_transaction(engine, lambda c: store_rules(c, rules))


def intake(engine: Engine, order_id: str, country: str, postcode: str, **extra: Any) -> None:
    sku = small_site().skus[0].sku
    data = {
        "order_id": order_id,
        "lines": [{"line_no": 1, "sku": sku, "qty": 1}],
        "ship_to": {
            "name": "Ada Lovelace",
            "lines": ["1 Test Street"],
            "city": "Town",
            "postcode": postcode,
            "country": country,
        },
        **extra,
    }
    result, _ = transact(
        engine, TOPICS, lambda c, out: take_order(c, out, data, source="test", now=MONDAY)
    )
    assert result.accepted, result.reasons


def choices(engine: Engine, order_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(CHOICES).where(CHOICES.c.order_id == order_id).order_by(CHOICES.c.id)
            )
        )


def statuses(messages: list[Any], order_id: str) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in messages if m.topic == TOPICS.order_status(order_id)]


def test_allocation_gives_the_cheapest_service_that_arrives_in_time_and_records_it(
    demo_engine: Engine, tmp_path: Path
) -> None:
    use_rules(demo_engine, rules_file(tmp_path))
    intake(demo_engine, "SO-C1", "GB", "SW1A 1AA")
    intake(demo_engine, "SO-C2", "GB", "SW1A 1AA", promised_date="2026-11-25")
    intake(demo_engine, "SO-C3", "DE", "10115")
    allocate(demo_engine, SITE, now=MONDAY)
    got = {o: order_row(demo_engine, o) for o in ("SO-C1", "SO-C2", "SO-C3")}
    assert {o: (r.carrier, r.service) for o, r in got.items()} == {
        "SO-C1": ("Post", "slow"),  # cheapest
        "SO-C2": ("Van", "big"),  # cheapest that arrives by Wednesday
        "SO-C3": ("Van", "big"),  # the only service of zone EU
    }
    assert got["SO-C2"].promised_date == "2026-11-25"
    row = choices(demo_engine, "SO-C2")
    assert len(row) == 1
    assert (row[0].carrier, row[0].service, row[0].cost, row[0].chosen_by) == (
        "Van",
        "big",
        7.5,
        "hub",
    )
    assert row[0].rule == "cheapest of 2 services"
    assert "to zone GB by 2026-11-25" in row[0].reason
    # the choice travels with the order: what a pack station gets in its snapshot
    with demo_engine.connect() as conn:
        rec = load_orders(conn, ["SO-C2"])["SO-C2"]
    snapshot = OrderModel.from_domain(rec.order)
    assert snapshot.carrier_choice is not None
    assert (snapshot.carrier, snapshot.service, snapshot.carrier_choice.cost) == ("Van", "big", 7.5)
    assert [(q.carrier, q.service, q.late) for q in snapshot.carrier_choice.options] == [
        ("Van", "big", False),
        ("Post", "fast", False),
        ("Post", "slow", True),
    ]
    assert snapshot.promised_date == "2026-11-25"


def test_a_service_given_with_the_order_is_kept_and_quoted(demo_engine: Engine) -> None:
    given = order_row(demo_engine, "SO-100001")
    allocate(demo_engine, SITE, now=MONDAY)
    row = order_row(demo_engine, "SO-100001")
    assert (row.carrier, row.service) == (given.carrier, given.service)
    choice = json.loads(row.carrier_choice)
    assert choice["rule"] == "given with the order" and choice["chosen_by"] == "hub"
    assert [c.rule for c in choices(demo_engine, "SO-100001")] == ["given with the order"]


def test_no_rule_for_the_destination_holds_the_order_with_the_reason_until_a_rule_exists(
    demo_engine: Engine, tmp_path: Path
) -> None:
    use_rules(demo_engine, rules_file(tmp_path))
    intake(demo_engine, "SO-FR1", "FR", "75001")
    report = allocate(demo_engine, SITE, now=MONDAY)
    row = order_row(demo_engine, "SO-FR1")
    assert (row.state, row.carrier, row.service, row.carrier_choice) == ("held", "", "", "")
    assert row.hold_reason.startswith(
        "no carrier service for destination FR 75001: no zone of the carrier rules covers it"
    )
    assert "add a zone for FR to carriers.toml" in row.hold_reason
    assert report.held == {"SO-FR1": row.hold_reason}
    published = statuses(report.messages, "SO-FR1")
    assert published[-1]["state"] == "held" and "FR 75001" in published[-1]["reason"]
    with demo_engine.connect() as conn:
        assert not list(
            conn.execute(select(RESERVATIONS).where(RESERVATIONS.c.order_id == "SO-FR1"))
        )
        assert hub_stats(conn)["carriers"]["held_no_service"] == 1
    assert choices(demo_engine, "SO-FR1") == []
    # a rule for France, the supervisor releases, the next pass chooses
    use_rules(demo_engine, rules_file(tmp_path, RULES.replace('country = "DE"', 'country = "FR"')))
    release = HoldReleased(order="SO-FR1", user="grace", order_version=row.version)
    assert apply(demo_engine, "sv-01", [envelope("sv-01", 1, release)]).outcomes[0][1].kind == (
        "applied"
    )
    allocate(demo_engine, SITE, now=MONDAY)
    row = order_row(demo_engine, "SO-FR1")
    assert (row.state, row.carrier, row.service) == ("allocated", "Van", "big")
    with demo_engine.connect() as conn:
        assert hub_stats(conn)["carriers"]["held_no_service"] == 0


def test_a_packers_carrier_change_is_applied_recorded_and_published(
    demo_engine: Engine, tmp_path: Path
) -> None:
    use_rules(demo_engine, rules_file(tmp_path))
    intake(demo_engine, "SO-C1", "GB", "SW1A 1AA")
    allocate(demo_engine, SITE, now=MONDAY)
    version = order_row(demo_engine, "SO-C1").version
    change = CarrierChanged(
        order="SO-C1",
        carrier="Post",
        service="fast",
        reason="customer upgraded",
        user="ben",
        order_version=version,
    )
    result = apply(demo_engine, "pk-01", [envelope("pk-01", 1, change, order_version=version)])
    assert result.outcomes[0][1].kind == "applied"
    row = order_row(demo_engine, "SO-C1")
    assert (row.carrier, row.service, row.version) == ("Post", "fast", version)
    choice = json.loads(row.carrier_choice)
    assert (choice["chosen_by"], choice["cost"]) == ("ben", 9.0)
    assert choice["rule"] == "changed by ben: customer upgraded"
    assert len(choice["options"]) == 3  # the quotes stay for the next change
    rows = choices(demo_engine, "SO-C1")
    assert [(r.carrier, r.service, r.chosen_by, r.rule) for r in rows] == [
        ("Post", "slow", "hub", "cheapest of 3 services"),
        ("Post", "fast", "ben", "changed"),
    ]
    assert rows[1].reason == "customer upgraded" and rows[1].cost == 9.0
    published = statuses(result.messages, "SO-C1")
    assert published[-1]["reason"] == "carrier Post fast chosen by ben: customer upgraded"
    with demo_engine.connect() as conn:
        assert hub_stats(conn)["carriers"]["changed_by_users"] == 1


def test_a_stale_or_impossible_carrier_change_is_refused_and_changes_nothing(
    demo_engine: Engine, tmp_path: Path
) -> None:
    use_rules(demo_engine, rules_file(tmp_path))
    intake(demo_engine, "SO-C1", "GB", "SW1A 1AA")
    seen = order_row(demo_engine, "SO-C1").version
    allocate(demo_engine, SITE, now=MONDAY)  # the hub changed the order since
    stale = CarrierChanged(
        order="SO-C1",
        carrier="Van",
        service="big",
        reason="big box",
        user="ben",
        order_version=seen,
    )
    result = apply(demo_engine, "pk-01", [envelope("pk-01", 1, stale, order_version=seen)])
    outcome = result.outcomes[0][1]
    assert outcome.kind == "refused" and "changed since this device saw it" in outcome.note
    # the device is sent the hub's view, so it shows the hub's service again
    pushed = [
        json.loads(m.payload)["item"] for m in result.messages if m.topic == TOPICS.push("pk-01")
    ]
    assert pushed[-1]["kind"] == "order.snapshot"
    assert (pushed[-1]["order"]["carrier"], pushed[-1]["order"]["service"]) == ("Post", "slow")
    current = order_row(demo_engine, "SO-C1").version
    unknown = CarrierChanged(
        order="SO-C1", carrier="Mule", service="slow", reason="x", user="ben", order_version=current
    )
    blank = CarrierChanged(
        order="SO-C1", carrier="Van", service="big", reason=" ", user="ben", order_version=current
    )
    ghost = CarrierChanged(
        order="SO-NONE", carrier="Van", service="big", reason="x", user="ben", order_version=1
    )
    result = apply(
        demo_engine,
        "pk-01",
        [envelope("pk-01", n, ev) for n, ev in ((2, unknown), (3, blank), (4, ghost))],
    )
    notes = [o.note for _, o in result.outcomes]
    assert [o.kind for _, o in result.outcomes] == ["refused"] * 3
    assert notes[0] == (
        "Mule slow is not a carrier service of this site (known: Post slow, Post fast, Van big)"
    )
    assert notes[1] == "a carrier change needs a reason"
    assert notes[2] == "order SO-NONE is not known to the hub"
    row = order_row(demo_engine, "SO-C1")
    assert (row.carrier, row.service) == ("Post", "slow")
    assert [r.chosen_by for r in choices(demo_engine, "SO-C1")] == ["hub"]


def test_an_order_with_a_promised_date_that_is_not_a_date_is_rejected(demo_engine: Engine) -> None:
    data = {
        "order_id": "SO-BADDATE",
        "lines": [{"line_no": 1, "sku": small_site().skus[0].sku, "qty": 1}],
        "ship_to": {"name": "A", "lines": ["1 St"], "city": "C", "postcode": "1", "country": "GB"},
        "promised_date": "next week",
    }
    result, _ = transact(demo_engine, TOPICS, lambda c, out: take_order(c, out, data, source="t"))
    assert not result.accepted
    assert result.reasons[0].startswith("promised_date: Input should be a valid date")


BAD_FILES = {
    "undefined zone": (
        RULES.replace('{ zone = "EU", transit_days = 3', '{ zone = "MARS", transit_days = 3'),
        "service Van big rates zone MARS, which no [[zones]] defines",
    ),
    "bands not ascending": (
        RULES.replace("prices = [[30000, 3.00]]", "prices = [[30000, 3.00], [1000, 1.00]]"),
        "price bands must go up in weight, got [30000, 1000]",
    ),
    "service twice": (
        RULES.replace('service = "fast"', 'service = "slow"'),
        "service Post slow is defined twice",
    ),
    "negative weight": (
        RULES.replace("max_weight_g = 30000", "max_weight_g = -1", 1),
        "services.0.max_weight_g: Input should be greater than 0",
    ),
    "no zones": ("[[services]]\n", "zones: Field required"),
    "not toml": ("zones = [", "is not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_carrier_rules_file_is_named_with_each_problem_and_changes_nothing(
    case: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = rules_file(tmp_path, name="good.toml")
    assert hub_main(["carriers", str(good), "--db", db_url]) == 0
    assert "3 services" in capsys.readouterr().out
    text, problem = BAD_FILES[case]
    bad = rules_file(tmp_path, text, name="bad.toml")
    assert hub_main(["carriers", str(bad), "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and problem in err
    assert "the rules in use did not change" in err
    assert hub_main(["carriers", "--db", db_url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == read_rules(good).model_dump(mode="json")


def test_no_carrier_rules_loaded_says_how_to_load_them(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hub_main(["carriers", "--db", db_url]) == 1
    assert "no carrier rules loaded: floor-hub carriers FILE" in capsys.readouterr().out


def test_the_demo_site_has_carrier_rules(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        stored = get_meta(conn, RULES_KEY)
    assert stored is not None
    assert {s["carrier"] for s in json.loads(stored)["services"]} >= {"DHL", "Royal Mail"}
    assert date(2026, 11, 23).weekday() == 0  # MONDAY above is a Monday


def test_floor_hub_carriers_as_a_process_loads_rules_and_allocation_holds_what_they_miss(
    demo_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", *args, "--db", db_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    loaded = hub("carriers", str(rules_file(tmp_path)))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 zones, 3 services" in loaded.stdout
    bad = hub("carriers", str(rules_file(tmp_path, "zones = [", name="bad.toml")))
    assert bad.returncode == 2 and "is not valid TOML" in bad.stderr
    intake(demo_engine, "SO-FR1", "FR", "75001")
    allocated = hub("allocate")
    assert allocated.returncode == 0, allocated.stderr
    held = json.loads(allocated.stdout)["held"]
    assert list(held) == ["SO-FR1"] and "FR 75001" in held["SO-FR1"]
    stats = hub("stats", "--json")
    assert json.loads(stats.stdout)["carriers"]["held_no_service"] == 1
