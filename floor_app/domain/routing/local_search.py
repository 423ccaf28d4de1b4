"""Local search over the layout's shortest walks: 2-opt and Or-opt from the best heuristic.

For layouts with more blocks than the exact method handles quickly. The tour is a
sequence of pick spots; the distance between two spots is the shortest walk on the
network (:meth:`FloorGraph.distance`). Starting from each of the combined, largest-gap,
S-shape and return tours in turn, it applies improving 2-opt moves (reverse a stretch)
and Or-opt moves (move a run of one to three spots elsewhere, either way round) until
none is left, and keeps the shortest result, which is never longer than the best
classic heuristic. Four starts cost a few milliseconds more than one and land much
closer to the optimum on floors of three or more blocks.
"""

from __future__ import annotations

from .geometry import PickPlan
from .heuristics import combined_walk, largest_gap_walk, return_walk, s_shape_walk
from .walk import Walk, walk_spot_sequence

_GAIN = 1e-9


def _two_opt(tour: list[int], dist: list[list[float]]) -> bool:
    n = len(tour)
    improved = False
    for i in range(n - 1):
        a, b = tour[i], tour[i + 1]
        row_a = dist[a]
        row_b = dist[b]
        ab = row_a[b]
        for j in range(i + 2, n):
            c = tour[j]
            d = tour[(j + 1) % n]
            if d == a:
                continue
            delta = row_a[c] + row_b[d] - ab - dist[c][d]
            if delta < -_GAIN:
                tour[i + 1 : j + 1] = tour[i + 1 : j + 1][::-1]
                improved = True
                a, b = tour[i], tour[i + 1]
                row_a, row_b = dist[a], dist[b]
                ab = row_a[b]
    return improved


def _or_opt(tour: list[int], dist: list[list[float]]) -> bool:
    n = len(tour)
    for size in (1, 2, 3):
        for i in range(1, n - size + 1):  # position 0 is the depot and stays put
            seg = tour[i : i + size]
            prev, nxt = tour[i - 1], tour[(i + size) % n]
            removed = dist[prev][seg[0]] + dist[seg[-1]][nxt] - dist[prev][nxt]
            rest = tour[:i] + tour[i + size :]
            for k in range(len(rest)):
                p, q = rest[k], rest[(k + 1) % len(rest)]
                if k == i - 1:
                    continue
                base = dist[p][q]
                fwd = dist[p][seg[0]] + dist[seg[-1]][q] - base
                rev = dist[p][seg[-1]] + dist[seg[0]][q] - base
                if min(fwd, rev) < removed - _GAIN:
                    piece = seg if fwd <= rev else seg[::-1]
                    tour[:] = rest[: k + 1] + piece + rest[k + 1 :]
                    return True
    return False


def improve_tour(tour: list[int], dist: list[list[float]]) -> list[int]:
    """Improve a closed tour (``tour[0]`` is the depot) with 2-opt and Or-opt moves."""
    tour = list(tour)
    if len(tour) < 4:
        return tour
    while True:
        changed = _two_opt(tour, dist)
        if not changed:
            changed = _or_opt(tour, dist)
        if not changed:
            break
    start = tour.index(0)
    return tour[start:] + tour[:start]


def local_search_walk(plan: PickPlan) -> Walk:
    """The shortest of the classic tours, each improved by 2-opt and Or-opt."""
    graph = plan.graph
    places = [graph.depot_spot, *(plan.spot(i) for i in range(len(plan.spots)))]
    dist = [[graph.distance(p, q) for q in places] for p in places]
    best: Walk | None = None
    tried: set[tuple[int, ...]] = set()
    for rule in (combined_walk, largest_gap_walk, s_shape_walk, return_walk):
        seed = rule(plan)
        if best is None or seed.length < best.length:
            best = seed
        if seed.spot_order in tried:
            continue
        tried.add(seed.spot_order)
        tour = improve_tour([0, *(i + 1 for i in seed.spot_order)], dist)
        walk = walk_spot_sequence(plan, [t - 1 for t in tour[1:]])
        if walk.length < best.length - 1e-9:
            best = walk
    assert best is not None
    return best
