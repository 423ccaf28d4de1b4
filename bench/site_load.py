"""Site load: seconds to check and to load a large site's files into the hub (PostgreSQL).

``floor-bench site-load --json`` writes the files of a site of ``--items`` (50,000) items
with two barcodes each (unit and case: 100,000), ``--locations`` (20,000) locations,
``--stock`` (100,000) opening stock rows (every third item lot-tracked with its lot and
expiry), ``--users`` (200) users with PINs, 2,000 totes and 10 cartons; then, on a
throwaway PostgreSQL schema (``--db`` or ``$FLOOR_BENCH_PG_URL``), measures ``dry_run_s``
(``floor-hub site load --dry-run``: every check, against the empty database, rolled back),
``load_s`` (the load), ``reload_s`` (the same files again: nothing to change) and
``peak_rss_mb`` (this process's peak resident memory). ``--sqlite`` measures on a SQLite
file instead. Goal: ``load_s`` and ``dry_run_s`` under 60 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hub_apply import DEFAULT_PG, throwaway_database
from floor_app.domain.gtin import with_check_digit


def write_site(folder: Path, *, items: int, locations: int, stock: int, users: int) -> None:
    """A large site's files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    aisles = 50
    levels_bins = [(level, b) for level in range(1, 5) for b in "ABCDEFGH"]
    bays = max(1, -(-locations // (aisles * len(levels_bins))))
    if bays > 99:
        raise ValueError("too many locations for two-digit bays")
    (folder / "layout.toml").write_text(f"aisles = {aisles}\nbays = {bays}\n", encoding="utf-8")
    codes: list[str] = []
    with _csv(folder / "locations.csv", ["code", "type"]) as w:
        for aisle in range(1, aisles + 1):
            zone = "ABCDE"[(aisle - 1) // 10]
            for bay in range(1, bays + 1):
                for level, b in levels_bins:
                    if len(codes) == locations:
                        break
                    code = f"{zone}{aisle:02d}-{bay:02d}-{level}{b}"
                    codes.append(code)
                    w.writerow([code, "reserve" if level == 4 else "pick"])
        w.writerow(["PACK-01", "pack"])
    skus = [f"SKU-{n:06d}" for n in range(1, items + 1)]
    with _csv(
        folder / "items.csv",
        [
            "sku",
            "name",
            "name_zh",
            "length_mm",
            "width_mm",
            "height_mm",
            "weight_g",
            "lot_tracked",
            "shelf_life_days",
        ],
    ) as w:
        for n, sku in enumerate(skus):
            lot = n % 3 == 0
            w.writerow(
                [
                    sku,
                    f"Item {n} of the range",
                    f"商品 {n}",
                    100 + n % 200,
                    80,
                    40,
                    50 + n % 900,
                    "yes" if lot else "no",
                    365 if lot else "",
                ]
            )
    with _csv(folder / "barcodes.csv", ["barcode", "sku", "pack_qty"]) as w:
        for n, sku in enumerate(skus):
            unit = with_check_digit(f"50{n:010d}")
            w.writerow([unit, sku, 1])
            w.writerow([with_check_digit(f"1{unit[:-1]}"), sku, 12])
    with _csv(folder / "stock.csv", ["location", "sku", "qty", "lot", "expiry"]) as w:
        for n in range(stock):
            item = n % items
            place = (
                codes[(n * 7919) % len(codes)]
                if n < items
                else codes[(n * 104_729 + 1) % len(codes)]
            )
            lot = item % 3 == 0
            w.writerow(
                [
                    place,
                    skus[item],
                    1 + n % 40,
                    f"L{item % 1000:04d}" if lot else "",
                    f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}" if lot else "",
                ]
            )
    with _csv(folder / "users.csv", ["user_id", "name", "badge", "roles", "pin"]) as w:
        for n in range(users):
            w.writerow(
                [f"user{n:04d}", f"Person {n}", f"B{5000 + n:05d}", "picker", f"{1000 + n:04d}"]
            )
    with _csv(folder / "totes.csv", ["tote"]) as w:
        for n in range(1, 2001):
            w.writerow([f"T{n:04d}"])
    with _csv(
        folder / "cartons.csv",
        ["code", "length_mm", "width_mm", "height_mm", "tare_g", "max_weight_g"],
    ) as w:
        for n in range(1, 11):
            w.writerow([f"BOX-{n}", 150 + 40 * n, 100 + 30 * n, 60 + 20 * n, 80 + 20 * n, 30000])


class _csv:
    def __init__(self, path: Path, header: list[str]) -> None:
        self.file = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.writer.writerow(header)

    def __enter__(self) -> Any:
        return self.writer

    def __exit__(self, *_exc: object) -> None:
        self.file.close()


def _unique_stock(folder: Path) -> int:
    """Drop repeated (location, sku) rows the generator made; how many rows remain."""
    path = folder / "stock.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    seen: set[tuple[str, str]] = set()
    kept = [rows[0]]
    for row in rows[1:]:
        if (row[0], row[1]) not in seen:
            seen.add((row[0], row[1]))
            kept.append(row)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(kept)
    return len(kept) - 1


def measure(db_url: str, folder: Path) -> dict[str, float]:
    """Dry run, load and reload of ``folder`` into the hub database ``db_url``."""
    from hub.setup import open_database
    from hub.site_files import load_site

    engine = open_database(db_url, "bench")
    try:
        start = time.perf_counter()
        dry = load_site(engine, "bench", folder, dry_run=True)
        dry_s = time.perf_counter() - start
        start = time.perf_counter()
        load = load_site(engine, "bench", folder)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        again = load_site(engine, "bench", folder)
        reload_s = time.perf_counter() - start
    finally:
        engine.dispose()
    if not load.changed or again.changed or dry.as_dict()["changes"] != load.as_dict()["changes"]:
        raise RuntimeError("the load did not do what its dry run said, or the reload changed")
    return {
        "dry_run_s": round(dry_s, 2),
        "load_s": round(load_s, 2),
        "reload_s": round(reload_s, 2),
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="floor-bench site-load", description=__doc__)
    p.add_argument("--items", type=int, default=50_000)
    p.add_argument("--locations", type=int, default=20_000)
    p.add_argument("--stock", type=int, default=100_000)
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--db", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made in it)")
    p.add_argument("--sqlite", action="store_true", help="measure on a SQLite file instead")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if min(args.items, args.locations, args.stock, args.users) < 1:
        p.error("--items, --locations, --stock and --users must be at least 1")
    with tempfile.TemporaryDirectory(prefix="floor-site-load-") as tmp:
        folder = Path(tmp) / "site"
        write_site(
            folder, items=args.items, locations=args.locations, stock=args.stock, users=args.users
        )
        stock_rows = _unique_stock(folder)
        try:
            if args.sqlite:
                figures = measure(f"sqlite:///{Path(tmp) / 'hub.db'}", folder)
            else:
                with throwaway_database(args.db) as url:
                    figures = measure(url, folder)
        except Exception as exc:  # the server is not reachable, or the load failed
            print(f"floor-bench site-load: {exc}", file=sys.stderr)
            return 1
    result = {
        "benchmark": "site-load",
        "database": "sqlite" if args.sqlite else "postgresql",
        "items": args.items,
        "barcodes": 2 * args.items,
        "locations": args.locations + 1,
        "stock_rows": stock_rows,
        "users": args.users,
        **figures,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "goal_s": 60,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
