"""Cartons: fill rate, and how often the chosen carton is the smallest feasible (exhaustive check).

``floor-bench cartons --json`` draws seeded orders from the demo site's SKUs (1 to 6
units, quantities included) and chooses a carton from a range of eight sizes with
:func:`~floor_app.domain.cartonization.choose_carton`. It prints one JSON object with:

* ``fill_rate``: mean volume of the units over the chosen carton's inner volume, for the
  orders that fit one carton;
* ``smallest_feasible_rate``: for orders of at most ``--small`` units (4), the share
  where the chosen carton is the smallest carton the units really fit in, found by this
  benchmark's own exhaustive search (every orientation of every unit and every way of
  keeping each pair apart, with no pruning shared with the library); ``undecided`` counts
  orders where that search ran out of its time budget (they are left out);
* ``heuristic_only_smallest_rate``: the same with the extreme-point heuristic alone (no
  exact stage), to show what the exact stage adds;
* ``placements_verified_rate``: share of chosen packings that pass this benchmark's own
  bounds and overlap check (must be 1.0);
* ``split_orders``, ``ms_per_choice`` (mean) and ``ms_per_choice_max``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from floor_app.demo.site import build_demo_site
from floor_app.domain.cartonization import (
    PackItem,
    Placement,
    Verdict,
    choose_carton,
    expand_items,
    pack_into,
)
from floor_app.domain.packing import Carton
from floor_app.domain.sku import Dimensions, Sku

Box = tuple[int, int, int]

CARTONS: tuple[Carton, ...] = tuple(
    Carton(code, Dimensions(*dims), tare_g=tare, max_weight_g=limit, cost=cost)
    for code, dims, tare, limit, cost in (
        ("C1", (200, 150, 100), 80, 5_000, 0.30),
        ("C2", (250, 200, 100), 100, 6_000, 0.38),
        ("C3", (300, 200, 150), 130, 8_000, 0.48),
        ("C4", (300, 250, 150), 150, 10_000, 0.55),
        ("C5", (350, 250, 200), 190, 12_000, 0.68),
        ("C6", (400, 300, 250), 250, 20_000, 0.90),
        ("C7", (500, 350, 300), 330, 25_000, 1.20),
        ("C8", (600, 400, 400), 450, 30_000, 1.60),
    )
)


class _OutOfTime(Exception):
    """The exhaustive search used up its time budget."""


def _chain_ok(edges: list[tuple[int, int]], lengths: Sequence[int], limit: int) -> bool:
    """No cycle, and every chain of "before" edges fits ``limit`` (Bellman-Ford style)."""
    n = len(lengths)
    start = [0] * n
    for _ in range(n + 1):
        changed = False
        for a, b in edges:
            if start[a] + lengths[a] > start[b]:
                start[b] = start[a] + lengths[a]
                changed = True
        if not changed:
            return all(start[i] + lengths[i] <= limit for i in range(n))
    return False  # still changing after n rounds: a cycle


def exhaustive_fit(units: Sequence[Box], inner: Box, deadline: float) -> bool:
    """True when the boxes fit ``inner`` in some orientations and positions.

    Complete: any two boxes that do not overlap are apart along some axis, so some
    choice of orientations and one "before" relation per pair describes any packing,
    and such a choice is feasible exactly when along each axis the relations have no
    cycle and the longest chain fits.
    """
    if sum(a * b * c for a, b, c in units) > inner[0] * inner[1] * inner[2]:
        return False
    options: list[list[Box]] = [
        sorted(
            {
                (o[0], o[1], o[2])
                for o in itertools.permutations(u)
                if all(o[d] <= inner[d] for d in range(3))
            }
        )
        for u in units
    ]
    if any(not o for o in options):
        return False
    pairs = list(itertools.combinations(range(len(units)), 2))

    def search(k: int, ext: tuple[Box, ...], edges: list[list[tuple[int, int]]]) -> bool:
        if time.monotonic() > deadline:
            raise _OutOfTime
        if k == len(pairs):
            return True
        i, j = pairs[k]
        for axis in range(3):
            for edge in ((i, j), (j, i)):
                trial = edges[axis] + [edge]
                if _chain_ok(trial, [e[axis] for e in ext], inner[axis]):
                    new = list(edges)
                    new[axis] = trial
                    if search(k + 1, ext, new):
                        return True
        return False

    return any(search(0, ext, [[], [], []]) for ext in itertools.product(*options))


def _verified(units: Sequence[PackItem], carton: Carton, placements: Sequence[Placement]) -> bool:
    inner = (carton.inner.length_mm, carton.inner.width_mm, carton.inner.height_mm)
    if sorted(p.item for p in placements) != list(range(len(units))):
        return False
    for p in placements:
        ext = (p.length_mm, p.width_mm, p.height_mm)
        if sorted(ext) != sorted(units[p.item].extents):
            return False
        if min(p.x, p.y, p.z) < 0 or any(
            c + e > lim for c, e, lim in zip((p.x, p.y, p.z), ext, inner, strict=True)
        ):
            return False
    for a, b in itertools.combinations(placements, 2):
        a_lo, b_lo = (a.x, a.y, a.z), (b.x, b.y, b.z)
        a_hi = (a.x + a.length_mm, a.y + a.width_mm, a.z + a.height_mm)
        b_hi = (b.x + b.length_mm, b.y + b.width_mm, b.z + b.height_mm)
        if all(a_lo[d] < b_hi[d] and b_lo[d] < a_hi[d] for d in range(3)):
            return False
    return True


def _truth(units: Sequence[PackItem], budget_s: float) -> str | None:
    """Code of the smallest carton the units fit (weight included); None if undecided."""
    weight = sum(u.weight_g for u in units)
    boxes = [u.extents for u in units]
    for carton in sorted(CARTONS, key=lambda c: c.volume_mm3):
        if weight + carton.tare_g > carton.max_weight_g:
            continue
        inner = (carton.inner.length_mm, carton.inner.width_mm, carton.inner.height_mm)
        try:
            if exhaustive_fit(boxes, inner, time.monotonic() + budget_s):
                return carton.code
        except _OutOfTime:
            return None
    return "none"


def _heuristic_smallest(units: Sequence[PackItem]) -> str:
    for carton in sorted(CARTONS, key=lambda c: c.volume_mm3):
        if pack_into(units, carton, exact=False)[0] is Verdict.PACKED:
            return carton.code
    return "none"


def figures(seed: int, orders: int, small: int, budget_s: float) -> dict[str, Any]:
    """Every figure of the benchmark on ``orders`` seeded orders."""
    rng = random.Random(seed)
    skus: list[Sku] = build_demo_site().skus
    fills: list[float] = []
    times: list[float] = []
    verified = 0
    chosen_count = 0
    splits = 0
    small_total = small_right = heuristic_right = undecided = 0
    for _ in range(orders):
        lines = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 25, 18, 12, 8, 7))[0]
        items: list[tuple[Sku, int]] = []
        while sum(q for _, q in items) < lines:
            items.append((rng.choice(skus), rng.choices((1, 2), weights=(85, 15))[0]))
        start = time.perf_counter()
        choice = choose_carton(items, CARTONS)
        times.append((time.perf_counter() - start) * 1000)
        units = expand_items(items)
        if choice.carton is None:
            splits += 1
        else:
            chosen_count += 1
            fills.append(choice.fill_rate)
            verified += _verified(units, choice.carton, choice.placements)
        if len(units) <= small:
            truth = _truth(units, budget_s)
            if truth is None:
                undecided += 1
                continue
            small_total += 1
            got = choice.carton.code if choice.carton is not None else "none"
            small_right += got == truth
            heuristic_right += _heuristic_smallest(units) == truth
    return {
        "name": "cartons",
        "seed": seed,
        "orders": orders,
        "cartons": [c.code for c in CARTONS],
        "fill_rate": round(statistics.fmean(fills), 4),
        "smallest_feasible_rate": round(small_right / small_total, 4) if small_total else None,
        "small_orders_checked": small_total,
        "small_max_units": small,
        "undecided": undecided,
        "heuristic_only_smallest_rate": round(heuristic_right / small_total, 4)
        if small_total
        else None,
        "placements_verified_rate": round(verified / chosen_count, 4) if chosen_count else None,
        "split_orders": splits,
        "ms_per_choice": round(statistics.fmean(times), 3),
        "ms_per_choice_max": round(max(times), 3),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench cartons", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--small", type=int, default=4, help="most units for the exhaustive check")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds per exhaustive check")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.small < 1 or args.budget <= 0:
        print(
            "floor-bench cartons: --orders, --small and --budget must be positive", file=sys.stderr
        )
        return 2
    result = figures(args.seed, args.orders, args.small, args.budget)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0
