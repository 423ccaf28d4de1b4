"""``floor-hub site load`` and ``export`` on SQLite and PostgreSQL: the example site loads
cleanly and comes back identically; a load is one transaction (any bad row and nothing
changes); loading twice changes nothing; what still holds stock is not removed; every change
is a version of the site's reference data on each registered device's push stream."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from floor_app.domain.gtin import with_check_digit
from floor_app.domain.users import pin_matches
from floor_app.store import Store
from hub.database import run_transaction
from hub.outbound import pending_outbox
from hub.site_data import register_device
from hub.site_files import SiteFileError, export_site, load_site
from hub.tables import SerialRow, SkuRow, StockLedgerRow, StockRow, UserRow, table_of
from sync.device import PushApplier
from sync.protocol import PushMessage, RosterUpdate, SiteReference

SITE = "dc1"
EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "site-example"
SKUS, STOCK, USERS = table_of(SkuRow), table_of(StockRow), table_of(UserRow)
LEDGER, SERIALS = table_of(StockLedgerRow), table_of(SerialRow)

Rows = list[dict[str, str]]


def copy_site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    shutil.copytree(EXAMPLE, folder)
    return folder


def edit(folder: Path, name: str, change: Callable[[Rows], Rows]) -> None:
    """Rewrite the CSV file ``name`` with ``change`` applied to its rows."""
    path = folder / name
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(change(rows))


def count(engine: Engine, table: object) -> int:
    return run_transaction(
        engine,
        lambda c: int(c.execute(select(func.count()).select_from(table)).scalar_one()),  # type: ignore[arg-type]
    )


def pushes(engine: Engine) -> list[PushMessage]:
    messages = run_transaction(engine, lambda c: pending_outbox(c, float("inf"), limit=100_000))
    return [
        PushMessage.model_validate_json(m.payload) for m in messages if m.topic.endswith("/push")
    ]


def parts_of(messages: list[PushMessage]) -> list[SiteReference]:
    return [m.item for m in messages if isinstance(m.item, SiteReference)]


def test_the_example_site_loads_and_exports_identically(engine: Engine, tmp_path: Path) -> None:
    report = load_site(engine, SITE, EXAMPLE)
    assert report.version == 1
    assert {k: v.added for k, v in report.changes.items() if v.added} == {
        "barcodes": 56,
        "items": 24,
        "locations": 150,
        "users": 6,
        "cartons": 4,
        "pick_faces": 24,
        "totes": 40,
        "stock": 48,
        "serials": 18,
    }
    out = tmp_path / "export"
    written = export_site(engine, out)
    assert written["items.csv"] == 24 and written["stock.csv"] == 48
    for name in sorted(p.name for p in EXAMPLE.iterdir()):
        if name != "users.csv":
            assert (out / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
    # users leave with their PIN's argon2 hash, never the PIN
    with (EXAMPLE / "users.csv").open(encoding="utf-8") as f:
        given = {r["user_id"]: r for r in csv.DictReader(f)}
    with (out / "users.csv").open(encoding="utf-8") as f:
        exported = {r["user_id"]: r for r in csv.DictReader(f)}
    assert set(given) == set(exported)
    for uid, row in exported.items():
        assert "pin" not in row and row["pin_hash"].startswith("$argon2id$")
        assert pin_matches(uid, row["pin_hash"], given[uid]["pin"])
        assert {k: row[k] for k in ("name", "badge", "roles", "language", "active")} == {
            k: given[uid][k] for k in ("name", "badge", "roles", "language", "active")
        }
    # the export loads back without a change, and exports to the same bytes again
    again = load_site(engine, SITE, out)
    assert not again.changed and again.version == 1
    second = tmp_path / "second"
    export_site(engine, second)
    for path in sorted(out.iterdir()):
        assert (second / path.name).read_bytes() == path.read_bytes(), path.name
    # lots, expiry and serials came in with the opening stock
    rows = run_transaction(
        engine,
        lambda c: c.execute(
            select(STOCK.c.lot, STOCK.c.expiry).where(STOCK.c.location == "A01-01-1A")
        ).one(),
    )
    assert tuple(rows) == ("L2400A", "2029-02-01")
    assert count(engine, SERIALS) == 18


def test_loading_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    register_device_now(engine, "hh-01")
    load_site(engine, SITE, EXAMPLE)
    before = (len(pushes(engine)), count(engine, LEDGER), _hashes(engine))
    report = load_site(engine, SITE, EXAMPLE)
    assert not report.changed and report.version == 1
    assert report.as_dict()["changes"] == {}
    assert (len(pushes(engine)), count(engine, LEDGER), _hashes(engine)) == before


def test_a_dry_run_checks_against_the_hub_and_changes_nothing(engine: Engine) -> None:
    dry = load_site(engine, SITE, EXAMPLE, dry_run=True)
    assert dry.dry_run and dry.version == 1 and dry.changes["items"].added == 24
    assert count(engine, SKUS) == 0 and count(engine, STOCK) == 0
    real = load_site(engine, SITE, EXAMPLE)
    assert {k: vars(v) for k, v in real.changes.items()} == {
        k: vars(v) for k, v in dry.changes.items()
    }


def test_any_bad_row_and_nothing_is_loaded(engine: Engine, tmp_path: Path) -> None:
    folder = copy_site(tmp_path)
    edit(
        folder,
        "stock.csv",
        lambda rows: [*rows, {**rows[0], "location": "Z09-09-9Z", "lot": "L1"}],
    )
    edit(folder, "users.csv", lambda rows: [*rows, {**rows[0], "user_id": "twin"}])
    edit(
        folder,
        "barcodes.csv",
        lambda rows: [*rows, {**rows[0], "sku": "NO-SUCH-SKU", "barcode": "4006381333931"}],
    )
    with pytest.raises(SiteFileError) as caught:
        load_site(engine, SITE, folder)
    problems = [str(p) for p in caught.value.problems]
    assert "stock.csv:50: location: no location Z09-09-9Z" in problems
    assert "users.csv:8: badge: B2101 is also on line 2" in problems
    assert "barcodes.csv:58: sku: no item NO-SUCH-SKU in items.csv" in problems
    assert "nothing was loaded" in str(caught.value)
    for table in (SKUS, STOCK, USERS, LEDGER):
        assert count(engine, table) == 0


def test_an_item_or_location_that_holds_stock_is_not_removed(
    engine: Engine, tmp_path: Path
) -> None:
    load_site(engine, SITE, EXAMPLE)
    folder = copy_site(tmp_path)
    gone = "UMB-FD-BLK"
    for name in ("items.csv", "barcodes.csv", "pick_faces.csv", "stock.csv"):
        edit(folder, name, lambda rows: [r for r in rows if r["sku"] != gone])
    with pytest.raises(SiteFileError) as caught:
        load_site(engine, SITE, folder)
    assert [str(p) for p in caught.value.problems] == [
        f"items.csv: sku: {gone} is not in the file but holds 80 units of {gone} at "
        "A02-10-3A; count or move them out first",
        f"items.csv: sku: {gone} is not in the file but holds 20 units of {gone} at "
        "B03-08-2A; count or move them out first",
    ]
    assert count(engine, SKUS) == 24
    # counted out (a load of zero), the item goes
    empty = copy_site(tmp_path / "zero")
    edit(
        empty,
        "stock.csv",
        lambda rows: [{**r, "qty": "0"} if r["sku"] == gone else r for r in rows],
    )
    assert load_site(engine, SITE, empty).changes["stock"].changed == 2
    report = load_site(engine, SITE, folder)
    assert report.changes["items"].removed == 1 and report.version == 3
    assert count(engine, SKUS) == 23
    # a location holding stock stays
    places = copy_site(tmp_path / "places")
    edit(places, "locations.csv", lambda rows: [r for r in rows if r["code"] != "A01-01-1A"])
    with pytest.raises(SiteFileError, match="A01-01-1A is not in the file but holds 12 units"):
        load_site(engine, SITE, places)


def test_users_left_out_are_kept_inactive_with_their_badge(engine: Engine, tmp_path: Path) -> None:
    load_site(engine, SITE, EXAMPLE)
    folder = copy_site(tmp_path)
    edit(folder, "users.csv", lambda rows: [r for r in rows if r["user_id"] != "amara"])
    assert load_site(engine, SITE, folder).changes["users"].changed == 1
    active = run_transaction(
        engine,
        lambda c: c.execute(select(USERS.c.active).where(USERS.c.user_id == "amara")).scalar(),
    )
    assert active is False
    edit(
        folder,
        "users.csv",
        lambda rows: [*rows, {**rows[0], "user_id": "newbie", "badge": "B2101"}],
    )
    with pytest.raises(SiteFileError, match="B2101 is user amara's in the hub"):
        load_site(engine, SITE, folder)


def test_a_pin_is_hashed_once_and_rehashed_only_when_it_changes(
    engine: Engine, tmp_path: Path
) -> None:
    load_site(engine, SITE, EXAMPLE)
    first = _hashes(engine)
    folder = copy_site(tmp_path)
    edit(
        folder,
        "users.csv",
        lambda rows: [{**r, "pin": "9999"} if r["user_id"] == "tom" else r for r in rows],
    )
    report = load_site(engine, SITE, folder)
    assert report.changes["users"].changed == 1
    second = _hashes(engine)
    assert {u for u in first if first[u] != second[u]} == {"tom"}
    assert pin_matches("tom", second["tom"], "9999")


def test_each_version_reaches_every_registered_device(engine: Engine, tmp_path: Path) -> None:
    register_device_now(engine, "hh-01")
    register_device_now(engine, "pk-01", role="packer")
    load_site(engine, SITE, EXAMPLE)
    first = [p for p in pushes(engine) if p.device_id == "hh-01"]
    parts = parts_of(first)
    assert {p.version for p in parts} == {1}
    assert sum(len(p.items) for p in parts) == 24
    assert sum(len(p.locations) for p in parts) == 150
    roster = [p.item for p in first if isinstance(p.item, RosterUpdate)]
    assert sum(len(r.users) for r in roster) == 6
    honey = next(i for p in parts for i in p.items if i.sku == "HON-WF-340")
    assert [(b.gtin, b.pack_qty) for b in honey.barcodes] == [
        ("05060321000504", 1),
        ("15060321000501", 6),
        ("25060321000508", 24),
    ]
    assert honey.lot_tracked and honey.shelf_life_days == 730
    # a change of one item's name is version 2 with just that item
    folder = copy_site(tmp_path)
    edit(
        folder,
        "items.csv",
        lambda rows: [
            {**r, "name": "Heather honey, 340 g jar"} if r["sku"] == "HON-WF-340" else r
            for r in rows
        ],
    )
    seen = len(pushes(engine))
    assert load_site(engine, SITE, folder).version == 2
    news = [p for p in pushes(engine)[seen:] if p.device_id == "pk-01"]
    assert [p.item.kind for p in news] == ["site.reference"]
    (item,) = parts_of(news)
    assert item.version == 2 and [i.description for i in item.items] == ["Heather honey, 340 g jar"]


def test_a_device_registered_later_gets_the_whole_site(engine: Engine) -> None:
    from hub.outbound import transact
    from hub.site_files import send_reference
    from sync.protocol import Topics

    load_site(engine, SITE, EXAMPLE)
    seen = len(pushes(engine))

    def work(conn: object, out: object) -> int:
        register_device(conn, "hh-09", "picker")  # type: ignore[arg-type]
        return send_reference(conn, out, "hh-09")  # type: ignore[arg-type]

    parts, _ = transact(engine, Topics(SITE), work)
    news = pushes(engine)[seen:]
    assert parts == 3 and {p.device_id for p in news} == {"hh-09"}  # items, locations, cartons
    reference = parts_of(news)
    assert [(r.part, r.parts) for r in reference] == [(1, 3), (2, 3), (3, 3)]
    assert sum(len(r.items) for r in reference) == 24
    assert sum(len(r.cartons) for r in reference) == 4


def device_after_pushes(engine: Engine, tmp_path: Path) -> Store:
    """A new store of hh-01 that applied every push the hub has for it, in order."""
    store = Store.open(tmp_path / "hh.db", device_id="hh-01", site=SITE)
    applier = PushApplier(store)
    for message in sorted(
        (p for p in pushes(engine) if p.device_id == "hh-01"), key=lambda p: p.cursor
    ):
        assert applier.apply(message).applied
    return store


def register_device_now(engine: Engine, device: str, role: str = "picker") -> None:
    run_transaction(engine, lambda c: register_device(c, device, role))


def _hashes(engine: Engine) -> dict[str, str]:
    return run_transaction(
        engine,
        lambda c: {
            r.user_id: r.pin_hash for r in c.execute(select(USERS.c.user_id, USERS.c.pin_hash))
        },
    )


def test_the_cli_reports_problems_with_file_line_and_column(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.__main__ import main

    url = str(engine.url.render_as_string(hide_password=False))
    folder = copy_site(tmp_path)
    edit(folder, "stock.csv", lambda rows: [{**rows[0], "qty": "-1"}, *rows[1:]])
    assert main(["site", "load", str(folder), "--db", url, "--json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["loaded"] is False
    assert answer["problems"] == ["stock.csv:2: qty: Input should be greater than or equal to 0"]
    assert main(["site", "load", str(EXAMPLE), "--db", url, "--dry-run"]) == 0
    assert "would change (version 1 after the load)" in capsys.readouterr().out
    assert count(engine, SKUS) == 0
    assert main(["site", "load", str(EXAMPLE), "--db", url]) == 0
    assert main(["site", "export", str(tmp_path / "out"), "--db", url, "--json"]) == 0
    exported = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert exported["files"]["locations.csv"] == 150


def test_badges_and_main_barcodes_may_swap_and_devices_follow(
    engine: Engine, tmp_path: Path
) -> None:
    register_device_now(engine, "hh-01")
    load_site(engine, SITE, EXAMPLE)
    folder = copy_site(tmp_path)
    swap = {"B2101": "B2102", "B2102": "B2101"}
    edit(
        folder,
        "users.csv",
        lambda rows: [{**r, "badge": swap.get(r["badge"], r["badge"])} for r in rows],
    )
    # the tea's unit barcode becomes the green tea's and the other way round
    tea, green = "5060321000108", "5060321000207"
    moved = {tea: "TEA-GR-40", green: "TEA-EB-80"}
    edit(
        folder,
        "barcodes.csv",
        lambda rows: [{**r, "sku": moved.get(r["barcode"], r["sku"])} for r in rows],
    )
    report = load_site(engine, SITE, folder)
    assert report.changes["users"].changed == 2 and report.changes["items"].changed == 2
    badges = run_transaction(
        engine, lambda c: dict(c.execute(select(USERS.c.user_id, USERS.c.badge)).all())
    )
    assert (badges["amara"], badges["li.wei"]) == ("B2102", "B2101")
    # a device applies the version as it comes, in order
    store = device_after_pushes(engine, tmp_path)
    with store.unit_of_work() as uow:
        assert uow.catalogue.sku_by_gtin("0" + tea).sku == "TEA-GR-40"
        assert uow.catalogue.sku("TEA-EB-80").gtin == "0" + green
        amara = uow.users.by_badge("B2102")
        assert amara is not None and amara.user_id == "amara"
    assert store.meta("site_version") == "2"
    store.close()


def test_a_renamed_item_keeps_its_barcode_on_the_devices(engine: Engine, tmp_path: Path) -> None:
    register_device_now(engine, "hh-01")
    load_site(engine, SITE, EXAMPLE)
    folder = copy_site(tmp_path)
    for name in ("items.csv", "barcodes.csv", "pick_faces.csv", "stock.csv"):
        edit(
            folder,
            name,
            lambda rows: [
                {**r, "sku": "UMB-FOLD-BLK"} if r["sku"] == "UMB-FD-BLK" else r for r in rows
            ],
        )
    empty = copy_site(tmp_path / "zero")
    edit(
        empty,
        "stock.csv",
        lambda rows: [{**r, "qty": "0"} if r["sku"] == "UMB-FD-BLK" else r for r in rows],
    )
    load_site(engine, SITE, empty)
    edit(folder, "stock.csv", lambda rows: [r for r in rows if r["sku"] != "UMB-FOLD-BLK"])
    assert load_site(engine, SITE, folder).changes["items"].added == 1
    store = device_after_pushes(engine, tmp_path)
    with store.unit_of_work() as uow:
        assert uow.catalogue.sku_by_gtin("05060321002201").sku == "UMB-FOLD-BLK"
    assert store.meta("site_version") == "3"
    store.close()


def test_what_a_file_leaves_out_is_kept_or_refused_with_the_reason(
    engine: Engine, tmp_path: Path
) -> None:
    load_site(engine, SITE, EXAMPLE)
    hashes = _hashes(engine)
    folder = copy_site(tmp_path)
    # a users.csv without PINs keeps everyone's PIN; repeated roles are one role
    edit(
        folder,
        "users.csv",
        lambda rows: [{**r, "pin": "", "roles": r["roles"] + " " + r["roles"]} for r in rows],
    )
    assert not load_site(engine, SITE, folder).changed
    assert _hashes(engine) == hashes
    # a header alone would remove every user: refused
    (folder / "users.csv").write_text("user_id,name,badge,roles\n", encoding="utf-8")
    with pytest.raises(SiteFileError, match=r"users\.csv: a header and no rows"):
        load_site(engine, SITE, folder)
    # the lot of units promised to orders does not change under their pick lists
    run_transaction(
        engine,
        lambda c: c.execute(
            STOCK.update().where(STOCK.c.location == "A01-01-1A").values(reserved=2)
        ),
    )
    lots = copy_site(tmp_path / "lots")
    edit(
        lots,
        "stock.csv",
        lambda rows: [{**r, "lot": "L9"} if r["location"] == "A01-01-1A" else r for r in rows],
    )
    with pytest.raises(SiteFileError, match="2 units of lot L2400A here are promised"):
        load_site(engine, SITE, lots)


def test_limits_devices_depend_on_are_checked_at_load(tmp_path: Path, engine: Engine) -> None:
    folder = copy_site(tmp_path)
    extra = [
        {"barcode": with_check_digit(f"5060322{n:05d}"), "sku": "PEN-GL-BLK", "pack_qty": "1"}
        for n in range(101)
    ]
    edit(folder, "barcodes.csv", lambda rows: [*rows, *extra])
    (folder / "layout.toml").write_text(
        "aisles = 4\nbays = 12\naisle_pitch_m = 40000\n", encoding="utf-8"
    )
    with pytest.raises(SiteFileError) as caught:
        load_site(engine, SITE, folder)
    problems = [str(p) for p in caught.value.problems]
    assert any("PEN-GL-BLK has more than 100 barcodes" in p for p in problems)
    assert any("m from the depot (are the layout's sizes in metres?)" in p for p in problems)
