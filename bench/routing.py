"""Routing: exact vs brute force, gain over S-shape, ms per route, batching; or one instance file.

``floor-bench routing --json`` prints one JSON object with, on seeded instances
(uniformly random bays):

* ``ratio_single_block`` / ``ratio_two_block``: mean length of the ``auto`` route over a
  proven optimum (Held-Karp over the layout's shortest walks) for 2 to 10 picks, on a
  10-aisle x 20-bay floor with one block and with two (the demo floor); ``*_max`` the
  worst instance; ``ratios_two_block`` the same mean for every method;
* ``improvement_vs_sshape_30``: per cent less walking than S-shape with 30 lines on the
  demo floor (10 aisles, two blocks), mean over the instances; ``..._single_block`` the
  same on one block; ``..._by_floor`` on other 10-aisle floors; ``mean_length_30`` each
  method's mean length in metres;
* ``ms_per_route_60``: mean milliseconds per ``auto`` route of 60 lines on the demo floor
  (``..._p95``, ``..._max``; ``ms_per_route_60_three_block`` on a three-block floor);
* ``batch_saving_pct``: walking saved by :func:`form_batches` (carts of 6 totes) against
  picking each of 100 orders of 1 to 6 lines alone.

``floor-bench routing --instance FILE --json`` reads a routing instance (see
docs/routing.md) and prints, for every method, one JSON object with the stops in walking
order, the length and the walked path.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from floor_app.domain.batching import form_batches
from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout
from floor_app.domain.routing import (
    RoutingInstance,
    auto_method,
    brute_force_length,
    instance_from_mapping,
    plan_route,
    route_methods,
)

SINGLE = Layout(aisles=10, bays=20)
DEMO = Layout(aisles=10, bays=20, middle_cross_after=(4,))
THREE = Layout(aisles=10, bays=30, middle_cross_after=(4, 9))
#: Other 10-aisle floors for the S-shape comparison (the gain depends on the floor's shape).
TEN_AISLE_FLOORS: dict[str, Layout] = {
    "10x20, one block": SINGLE,
    "10x20, two blocks (demo)": DEMO,
    "10x20, two blocks, depot mid-front": Layout(
        aisles=10, bays=20, middle_cross_after=(4,), depot=(15.0, 0.0)
    ),
    "10x40, two blocks": Layout(aisles=10, bays=40, middle_cross_after=(9,)),
    "10x60, one block": Layout(aisles=10, bays=60),
    "10x60, three blocks": Layout(aisles=10, bays=60, middle_cross_after=(9, 19)),
}


def _stops(rng: random.Random, layout: Layout, n: int) -> list[tuple[int, int]]:
    return [(rng.randint(1, layout.aisles), rng.randint(1, layout.bays)) for _ in range(n)]


def _ratios(rng: random.Random, layout: Layout, count: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {m: [] for m in ("auto", *route_methods())}
    for _ in range(count):
        stops = _stops(rng, layout, rng.randint(2, 10))
        best = brute_force_length(layout, stops)
        out["auto"].append(plan_route(layout, stops).length_m / best)
        for method in route_methods():
            out[method].append(plan_route(layout, stops, method).length_m / best)
    return out


def _improvement(rng: random.Random, layout: Layout, count: int) -> tuple[float, dict[str, float]]:
    lengths: dict[str, list[float]] = {m: [] for m in ("auto", *route_methods())}
    for _ in range(count):
        stops = _stops(rng, layout, 30)
        lengths["auto"].append(plan_route(layout, stops).length_m)
        for method in route_methods():
            lengths[method].append(plan_route(layout, stops, method).length_m)
    means = {m: statistics.fmean(v) for m, v in lengths.items()}
    return 100.0 * (1 - means["auto"] / means["s_shape"]), means


def _gain_over_s_shape(rng: random.Random, layout: Layout, count: int) -> float:
    auto, s_shape = [], []
    for _ in range(count):
        stops = _stops(rng, layout, 30)
        auto.append(plan_route(layout, stops).length_m)
        s_shape.append(plan_route(layout, stops, "s_shape").length_m)
    return 100.0 * (1 - statistics.fmean(auto) / statistics.fmean(s_shape))


def _timing(rng: random.Random, layout: Layout, count: int) -> list[float]:
    plan_route(layout, _stops(rng, layout, 60))  # warm the transition caches
    times = []
    for _ in range(count):
        stops = _stops(rng, layout, 60)
        start = time.perf_counter()
        plan_route(layout, stops)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _batching(rng: random.Random) -> tuple[float, float, int]:
    orders = {
        f"SO-{i:04d}": _stops(rng, DEMO, rng.choice((1, 1, 1, 2, 2, 3, 4, 6))) for i in range(100)
    }
    start = time.perf_counter()
    plan = form_batches(orders, DEMO, totes_per_cart=6)
    return plan.saving_pct, time.perf_counter() - start, len(plan.batches)


def figures(seed: int, instances: int) -> dict[str, Any]:
    """Every figure of the benchmark, measured on instances drawn from ``seed``."""
    rng = random.Random(seed)
    single = _ratios(rng, SINGLE, instances)
    two = _ratios(rng, DEMO, instances)
    improvement, means = _improvement(rng, DEMO, instances)
    improvement_single, _ = _improvement(rng, SINGLE, instances)
    by_floor = {
        name: round(_gain_over_s_shape(rng, layout, max(20, instances // 3)), 2)
        for name, layout in TEN_AISLE_FLOORS.items()
    }
    times = sorted(_timing(rng, DEMO, instances))
    times_three = _timing(rng, THREE, max(10, instances // 5))
    saving, batch_s, batches = _batching(rng)
    return {
        "name": "routing",
        "seed": seed,
        "instances": instances,
        "auto_method_two_block": auto_method(DEMO),
        "ratio_single_block": round(statistics.fmean(single["auto"]), 6),
        "ratio_single_block_max": round(max(single["auto"]), 6),
        "ratio_two_block": round(statistics.fmean(two["auto"]), 6),
        "ratio_two_block_max": round(max(two["auto"]), 6),
        "ratios_two_block": {m: round(statistics.fmean(v), 4) for m, v in two.items()},
        "ratios_single_block": {m: round(statistics.fmean(v), 4) for m, v in single.items()},
        "improvement_vs_sshape_30": round(improvement, 2),
        "improvement_vs_sshape_30_single_block": round(improvement_single, 2),
        "improvement_vs_sshape_30_by_floor": by_floor,
        "mean_length_30": {m: round(v, 2) for m, v in means.items()},
        "ms_per_route_60": round(statistics.fmean(times), 3),
        "ms_per_route_60_p95": round(times[int(0.95 * (len(times) - 1))], 3),
        "ms_per_route_60_max": round(times[-1], 3),
        "ms_per_route_60_three_block": round(statistics.fmean(times_three), 3),
        "batch_saving_pct": round(saving, 2),
        "batch_seconds_100_orders": round(batch_s, 3),
        "batch_count_100_orders": batches,
    }


def _instance_results(instance: RoutingInstance) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for method in ("auto", *route_methods()):
        row: dict[str, Any] = {"name": "routing", "instance": instance.name, "method": method}
        try:
            start = time.perf_counter()
            route = plan_route(instance.layout, instance.stops, method)
            row["ms"] = round((time.perf_counter() - start) * 1000, 3)
        except DomainError as exc:
            row["error"] = str(exc)
            results.append(row)
            continue
        row.update(
            {
                "used": route.method,
                "proven_optimal": route.method == "optimal",
                "length_m": round(route.length_m, 3),
                "stops": [list(instance.stops[i]) for i in route.order],
                "codes": [instance.codes[i] for i in route.order] if any(instance.codes) else [],
                "order": list(route.order),
                "path": [[round(x, 3), round(y, 3)] for x, y in route.path],
            }
        )
        results.append(row)
    return results


def _load_instances(path: Path) -> list[RoutingInstance]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return [
            instance_from_mapping(d, default_name=f"{path.stem}[{i}]") for i, d in enumerate(data)
        ]
    return [instance_from_mapping(data, default_name=path.stem)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench routing", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON objects")
    parser.add_argument("--instance", type=Path, help="a routing instance file (JSON)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--instances", type=int, default=150, help="instances per figure")
    args = parser.parse_args(argv)
    if args.instance is not None:
        try:
            instances = _load_instances(args.instance)
        except OSError as exc:
            print(f"floor-bench routing: cannot read {args.instance}: {exc}", file=sys.stderr)
            return 2
        except UnicodeDecodeError as exc:
            print(
                f"floor-bench routing: {args.instance} is not UTF-8 text "
                f"(byte {exc.start}): save it as UTF-8 JSON",
                file=sys.stderr,
            )
            return 2
        except json.JSONDecodeError as exc:
            print(f"floor-bench routing: {args.instance} is not JSON: {exc}", file=sys.stderr)
            return 2
        except DomainError as exc:
            print(f"floor-bench routing: {args.instance}: {exc}", file=sys.stderr)
            return 2
        rows = [row for inst in instances for row in _instance_results(inst)]
        for row in rows:
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            elif "error" in row:
                print(f"{row['instance']:<16} {row['method']:<13} error: {row['error']}")
            else:
                order = " ".join(f"{a}-{b}" for a, b in row["stops"])
                print(
                    f"{row['instance']:<16} {row['method']:<13} {row['length_m']:>9.2f} m  {order}"
                )
        return 1 if any("error" in r and r["method"] == "auto" for r in rows) else 0
    result = figures(args.seed, args.instances)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<40} {value}")
    return 0
