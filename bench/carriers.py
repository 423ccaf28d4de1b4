"""Carrier choice: time per order (parcel estimate and choice) and what is chosen.

``floor-bench carriers --json`` takes the demo site's orders (200 by default), estimates
each parcel from its SKUs and the smallest carton they fit (as the hub does at allocation),
draws a seeded promised date (none, or 1 to 5 days after the ship date) and chooses with
the demo site's carrier rules as if the order had come without a service. It reports the
milliseconds per order (estimate and choice, mean and max), how many orders got a service
on time, late, or none (held), the services chosen, and the cost of the choices against
the cost of the services the demo orders came with (where the rules quote those).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from floor_app.carrier_rules import DEMO_RULES, read_rules
from floor_app.demo import build_demo_site
from floor_app.domain.carriers import NoCarrierService, Shipment, choose_carrier, estimate_parcel

SHIP_DATE = date(2026, 11, 25)


def figures(seed: int, orders: int) -> dict[str, Any]:
    """The benchmark's figures (see the module docstring)."""
    site = build_demo_site(order_count=orders)
    rules = read_rules(DEMO_RULES).to_domain()
    skus = {s.sku: s for s in site.skus}
    rng = random.Random(seed)
    times: list[float] = []
    outcome: Counter[str] = Counter()
    services: Counter[str] = Counter()
    chosen_cost = given_cost = 0.0
    compared = 0
    for order in site.orders:
        days = rng.choice((None, 1, 2, 3, 5))
        promised = SHIP_DATE + timedelta(days=days) if days is not None else None
        start = time.perf_counter()
        weight, dims = estimate_parcel([(skus[ln.sku], ln.qty) for ln in order.lines], site.cartons)
        address = order.ship_to
        shipment = Shipment(weight, dims, address.country, address.postcode, SHIP_DATE, promised)
        try:
            choice = choose_carrier(rules, shipment)
        except NoCarrierService:
            times.append((time.perf_counter() - start) * 1000)
            outcome["no_service"] += 1
            continue
        times.append((time.perf_counter() - start) * 1000)
        outcome["late" if "late" in choice.rule else "on_time"] += 1
        services[choice.name] += 1
        given = choice.quote(order.carrier, order.service)
        if given is not None and given.cost is not None and choice.cost is not None:
            compared += 1
            chosen_cost += choice.cost
            given_cost += given.cost
    return {
        "name": "carriers",
        "seed": seed,
        "orders": len(site.orders),
        "ms_per_order": round(statistics.fmean(times), 3),
        "ms_per_order_max": round(max(times), 3),
        "on_time": outcome["on_time"],
        "late": outcome["late"],
        "no_service": outcome["no_service"],
        "services": dict(sorted(services.items())),
        "compared_with_given": compared,
        "cost_chosen": round(chosen_cost, 2),
        "cost_given": round(given_cost, 2),
        "saving_pct": round(100 * (1 - chosen_cost / given_cost), 1) if given_cost else None,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench carriers", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args(argv)
    if args.orders < 1:
        print("floor-bench carriers: --orders must be positive", file=sys.stderr)
        return 2
    result = figures(args.seed, args.orders)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<22} {value}")
    return 0
