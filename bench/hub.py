"""Hub: events applied per second on PostgreSQL by 100 simulated devices, one transaction a batch.

``floor-bench hub --json`` prints one JSON object with ``hub_pg_events_per_s``: 100 devices
(``--devices``) each work through 20 orders (pick every line, pack, print and confirm the
label: about 5 events per order), their events cut into batches of ``--batch`` (100) and
applied by ``--workers`` (2) hub worker processes, each batch in one transaction through
:func:`hub.apply_batch` (inbox, order states, stock, labels, outbox), in a throwaway
schema of the local PostgreSQL (``--db`` or ``$FLOOR_BENCH_PG_URL``). ``--sweep`` adds the
rate for batches of 1, 10 and 500 events; ``--sqlite`` the rate on a SQLite file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.hub_apply import DEFAULT_PG, ApplyRate, measure_apply_rate


def _figures(rate: ApplyRate) -> dict[str, Any]:
    return {
        "events_per_s": round(rate.events_per_s, 1),
        "events": rate.events,
        "batches": rate.batches,
        "seconds": round(rate.seconds, 3),
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="floor-bench hub", description=__doc__)
    p.add_argument("--devices", type=int, default=100)
    p.add_argument("--orders-per-device", type=int, default=20)
    p.add_argument("--batch", type=int, default=100, help="events per batch (transaction)")
    p.add_argument("--workers", type=int, default=2, help="hub workers applying at once")
    p.add_argument("--threads", action="store_true", help="workers as threads, not processes")
    p.add_argument("--db", default=DEFAULT_PG, help="PostgreSQL URL (a schema is made in it)")
    p.add_argument("--sweep", action="store_true", help="also batches of 1, 10 and 500")
    p.add_argument("--sqlite", action="store_true", help="also measure on a SQLite file")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.devices < 1 or args.batch < 1 or args.workers < 1 or args.orders_per_device < 1:
        p.error("--devices, --batch, --workers and --orders-per-device must be at least 1")

    def run(db: str, batch: int, workers: int) -> ApplyRate:
        return measure_apply_rate(
            devices=args.devices,
            db_url=db,
            orders_per_device=args.orders_per_device,
            batch_size=batch,
            workers=workers,
            processes=not args.threads,
        )

    try:
        main_rate = run(args.db, args.batch, args.workers)
    except Exception as exc:  # the server is not reachable ...
        print(json.dumps({"name": "hub", "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    result: dict[str, Any] = {
        "name": "hub",
        "hub_pg_events_per_s": round(main_rate.events_per_s, 1),
        "devices": args.devices,
        "batch_events": args.batch,
        "workers": args.workers,
        "worker_kind": "threads" if args.threads else "processes",
        **{k: v for k, v in _figures(main_rate).items() if k != "events_per_s"},
    }
    if args.sweep:
        result["by_batch"] = {
            str(size): _figures(run(args.db, size, args.workers)) for size in (1, 10, 500)
        }
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="floor-bench-hub-") as tmp:
            rate = run(f"sqlite:///{Path(tmp) / 'hub.db'}", args.batch, 1)
        result["hub_sqlite_events_per_s"] = round(rate.events_per_s, 1)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
