"""A proven optimum for small pick lists: Held-Karp over the layout's shortest walks.

Used by tests and the routing benchmark to check the exact method. It solves the
travelling-salesman problem on the distinct pick spots plus the depot with the distances
of :meth:`FloorGraph.distance`, which is the true shortest tour on the walking network.
Time and memory grow as 2^n: keep n (distinct spots) at 12 or below.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..layout import Layout
from .errors import RoutingError
from .geometry import FloorGraph, PickPlan, StopLike

MAX_SPOTS = 13


def brute_force_length(layout: Layout, stops: Sequence[StopLike]) -> float:
    """The length in metres of a shortest tour through ``stops`` from the depot and back."""
    graph = FloorGraph(layout)
    plan = PickPlan(graph, stops)
    n = len(plan.spots)
    if n > MAX_SPOTS:
        raise RoutingError(f"brute force is for at most {MAX_SPOTS} spots, got {n}")
    places = [graph.depot_spot, *(plan.spot(i) for i in range(n))]
    dist = [[graph.distance(p, q) for q in places] for p in places]
    inf = float("inf")
    full = (1 << n) - 1
    best = [[inf] * n for _ in range(1 << n)]
    for j in range(n):
        best[1 << j][j] = dist[0][j + 1]
    for mask in range(1, full + 1):
        row = best[mask]
        for j in range(n):
            here = row[j]
            if here == inf:
                continue
            from_j = dist[j + 1]
            free = full & ~mask
            while free:
                low = free & -free
                k = low.bit_length() - 1
                cand = here + from_j[k + 1]
                target = best[mask | low]
                if cand < target[k]:
                    target[k] = cand
                free ^= low
    tour = min(best[full][j] + dist[j + 1][0] for j in range(n))
    return tour + 2 * graph.depot_stub
