"""The exact method: a dynamic programme over the columns of the floor.

This is Ratliff and Rosenthal's algorithm (1983) generalised from one block to any number
of blocks, which for two blocks is the programme of Roodbergen and de Koster (2001).

A shortest tour is a connected multigraph on the walking network in which every vertex
has even degree and every pick spot is touched. Such a multigraph uses each cross-aisle
segment between two neighbouring columns 0, 1 or 2 times, and each *sub-aisle* (one
aisle inside one block) in one of six ways: not at all, once through, twice through,
in and back from the front up to its last pick, in and back from the back, or in and back
from both ends leaving out the largest gap between picks. Sweeping the columns from left
to right, the state is, for each cross-aisle vertex of the current column, whether it is
in the tour, the parity of its degree so far, and which of these vertices are already
connected by the part of the tour to the left. Two partial tours with the same state can
be completed in exactly the same ways, so keeping the cheapest one per state is exact.

Each column is handled in stages: first the cross-aisle segments arriving from the left
(a component that no longer reaches the current column is lost for good, so such choices
are refused), then each block's sub-aisle in turn. A state whose tour is one component
with all degrees even is a finished tour once every pick spot and the depot lie at or to
the left of the current column. Transitions depend only on the state and the choice, so
they are computed once per process and cached.

The number of states grows quickly with the number of cross aisles (the vertices per
column), and not with the number of picks: one to three blocks take milliseconds, four
tens of milliseconds, five about a second; more are refused.
The optimal tour is walked as an Euler circuit of the chosen multigraph from the depot.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from .errors import RoutingError
from .geometry import PickPlan, Point
from .walk import Walk, finish

# How a sub-aisle is used: (degree added at its front vertex, at its back vertex, whether
# the two ends are joined through it).
NONE, PASS, DOUBLE, FRONT, BACK, GAP = range(6)
_EFFECT: dict[int, tuple[int, int, bool]] = {
    NONE: (0, 0, False),
    PASS: (1, 1, True),
    DOUBLE: (2, 2, True),
    FRONT: (2, 0, False),
    BACK: (0, 2, False),
    GAP: (2, 2, False),
}

#: Most blocks for which ``auto`` uses the exact method: at most a few ms for 60 lines.
MAX_EXACT_BLOCKS = 3

#: Most blocks the exact method accepts at all (about a second for five blocks, and each
#: further block multiplies the time by about twenty).
EXACT_BLOCK_LIMIT = 5

State = tuple[int, ...]  # per cross-aisle vertex: 0 = not in the tour, else 1 + 2*comp + parity
_INF = float("inf")


def _decode(state: State) -> tuple[list[int], list[int]]:
    comps = [(e - 1) >> 1 if e else -1 for e in state]
    parity = [(e - 1) & 1 if e else 0 for e in state]
    return comps, parity


def _encode(comps: list[int], parity: list[int]) -> State:
    labels: dict[int, int] = {}
    out: list[int] = []
    for comp, par in zip(comps, parity, strict=True):
        if comp < 0:
            out.append(0)
        else:
            label = labels.setdefault(comp, len(labels))
            out.append(1 + 2 * label + par)
    return tuple(out)


@lru_cache(maxsize=65536)
def _across(state: State, required: int) -> tuple[tuple[int, tuple[int, ...], State], ...]:
    """Every way to arrive at the next column: (segments walked, copies per cross aisle, state).

    ``required`` is a bit mask of vertices of the new column that must be in the tour.
    """
    comps, parity = _decode(state)
    choices: list[tuple[int, ...]] = []
    for e, par in zip(state, parity, strict=True):
        if not e:
            choices.append((0,))
        elif par:
            choices.append((1,))
        else:
            choices.append((0, 2))
    alive = {c for c in comps if c >= 0}
    out: list[tuple[int, tuple[int, ...], State]] = []
    for copies in itertools.product(*choices):
        new_comps = [comps[v] if h else -1 for v, h in enumerate(copies)]
        if {c for c in new_comps if c >= 0} != alive:
            continue  # a part of the tour would be cut off from everything to its right
        new_parity = [h & 1 for h in copies]
        fresh = len(state) + 1
        for v in range(len(state)):
            if required >> v & 1 and new_comps[v] < 0:
                new_comps[v] = fresh
                fresh += 1
        out.append((sum(copies), copies, _encode(new_comps, new_parity)))
    return tuple(out)


@lru_cache(maxsize=65536)
def _along(state: State, block: int, kind: int) -> State:
    """The state after using the sub-aisle of ``block`` in the current column as ``kind``."""
    comps, parity = _decode(state)
    fresh = len(state) + 1
    add_front, add_back, joins = _EFFECT[kind]
    for vertex, add in ((block, add_front), (block + 1, add_back)):
        if add:
            if comps[vertex] < 0:
                comps[vertex] = fresh
                fresh += 1
                parity[vertex] = add & 1
            else:
                parity[vertex] ^= add & 1
    if joins:
        keep, drop = comps[block], comps[block + 1]
        if keep != drop:
            comps = [keep if c == drop else c for c in comps]
    return _encode(comps, parity)


def _closed(state: State) -> bool:
    """One component, every degree even: a finished tour."""
    return any(state) and all(e in (0, 1) for e in state)


def _options(plan: PickPlan, column: int, block: int) -> list[tuple[int, float]]:
    graph = plan.graph
    if graph.column_aisle[column] == 0:
        return [(NONE, 0.0)]
    front, back = graph.cross_ys[block], graph.cross_ys[block + 1]
    length = back - front
    ys = [plan.spots[i].y for i in plan.cells.get((column, block), ())]
    if not ys:
        return [(NONE, 0.0), (PASS, length), (DOUBLE, 2 * length)]
    options = [
        (PASS, length),
        (DOUBLE, 2 * length),
        (FRONT, 2 * (ys[-1] - front)),
        (BACK, 2 * (back - ys[0])),
    ]
    if len(ys) >= 2:
        gap = max(b - a for a, b in itertools.pairwise(ys))
        options.append((GAP, 2 * (length - gap)))
    return options


def _sweep_range(plan: PickPlan) -> tuple[int, int, int]:
    """(first column to sweep, last column to sweep, last column holding something needed).

    Only the columns from the leftmost to the rightmost pick spot or depot are needed,
    plus one aisle beside the depot's column when that column is an outer one without an
    aisle: pushing every part of a tour beyond an aisle back onto that aisle keeps the
    tour valid and makes it no longer.
    """
    graph = plan.graph
    used = [graph.depot_column, *(s.column for s in plan.spots)]
    lo, hi = min(used), max(used)
    last_needed = hi
    if graph.column_aisle[lo] == 0 and lo > 0:
        lo -= 1
    if graph.column_aisle[hi] == 0 and hi < len(graph.column_x) - 1:
        hi += 1
    return lo, hi, last_needed


def optimal_walk(plan: PickPlan) -> Walk:
    """A shortest tour through every spot of ``plan`` from the depot and back."""
    graph = plan.graph
    if graph.layout.blocks > EXACT_BLOCK_LIMIT:
        raise RoutingError(
            f"the exact method handles at most {EXACT_BLOCK_LIMIT} blocks, "
            f"this layout has {graph.layout.blocks}",
            hint="use method auto or local_search",
        )
    cross = graph.cross_count
    required = [0] * len(graph.column_x)
    required[graph.depot_column] |= 1 << graph.depot_cross
    first, last, last_needed = _sweep_range(plan)

    # Each stage maps state -> (cost, previous state, choice); kept for the walk back.
    stages: list[tuple[str, int, int, dict[State, tuple[State, object]]]] = []
    start: State = tuple(1 if required[first] >> v & 1 else 0 for v in range(cross))
    costs: dict[State, float] = {start: 0.0}
    best = (_INF, start, -1)
    for col in range(first, last + 1):
        if col > first:
            step = graph.column_x[col] - graph.column_x[col - 1]
            nxt: dict[State, float] = {}
            back: dict[State, tuple[State, object]] = {}
            for state, cost in costs.items():
                for walked, copies, new in _across(state, required[col]):
                    c = cost + walked * step
                    if c < nxt.get(new, _INF):
                        nxt[new] = c
                        back[new] = (state, copies)
            costs = nxt
            stages.append(("across", col, 0, back))
        for block in range(cross - 1):
            options = _options(plan, col, block)
            if len(options) == 1 and options[0][0] == NONE:
                continue
            nxt = {}
            back = {}
            for state, cost in costs.items():
                for kind, length in options:
                    new = _along(state, block, kind)
                    c = cost + length
                    if c < nxt.get(new, _INF):
                        nxt[new] = c
                        back[new] = (state, kind)
            costs = nxt
            stages.append(("along", col, block, back))
        if col >= last_needed:
            for state, cost in costs.items():
                if cost < best[0] and _closed(state):
                    best = (cost, state, len(stages))
    total, state, upto = best
    if total == _INF:
        raise RoutingError("internal error: the exact method found no tour")
    choices: list[tuple[str, int, int, object]] = []
    for stage, col, block, back in reversed(stages[:upto]):
        state, choice = back[state]
        choices.append((stage, col, block, choice))
    return _euler_walk(plan, choices)


def _heading(x: float, y: float, to_x: float, to_y: float) -> int:
    """Preference of a step: away from the depot side (up), right, down, left."""
    if to_y > y:
        return 0
    if to_x > x:
        return 1
    if to_y < y:
        return 2
    return 3


def _euler_walk(plan: PickPlan, choices: list[tuple[str, int, int, object]]) -> Walk:
    """Build the chosen multigraph and walk it as an Euler circuit from the depot."""
    graph = plan.graph
    nodes: dict[tuple[int, int, float], int] = {}  # (column, kind 0=cross/1=pick, y) -> id
    coords: list[Point] = []
    spot_of: list[int] = []

    def node(col: int, y: float, spot: int = -1) -> int:
        key = (col, 0 if spot < 0 else 1, y)
        if key not in nodes:
            nodes[key] = len(coords)
            coords.append((graph.column_x[col], y))
            spot_of.append(spot)
        return nodes[key]

    edges: list[tuple[int, int]] = []

    def chain(col: int, ys: list[tuple[float, int]], times: int) -> None:
        ids = [node(col, y, spot) for y, spot in ys]
        for a, b in itertools.pairwise(ids):
            edges.extend([(a, b)] * times)

    for kind, col, block, choice in choices:
        if kind == "across":
            assert isinstance(choice, tuple)
            for vertex, copies in enumerate(choice):
                y = graph.cross_ys[vertex]
                edges.extend([(node(col - 1, y), node(col, y))] * copies)
            continue
        front, back = graph.cross_ys[block], graph.cross_ys[block + 1]
        picks = [(plan.spots[i].y, i) for i in plan.cells.get((col, block), ())]
        if choice == PASS:
            chain(col, [(front, -1), *picks, (back, -1)], 1)
        elif choice == DOUBLE:
            chain(col, [(front, -1), *picks, (back, -1)], 2)
        elif choice == FRONT:
            chain(col, [(front, -1), *picks], 2)
        elif choice == BACK:
            chain(col, [*picks, (back, -1)], 2)
        elif choice == GAP:
            ys = [y for y, _ in picks]
            cut = max(range(1, len(ys)), key=lambda k: ys[k] - ys[k - 1])
            chain(col, [(front, -1), *picks[:cut]], 2)
            chain(col, [*picks[cut:], (back, -1)], 2)

    start = node(graph.depot_column, graph.cross_ys[graph.depot_cross])
    adjacency: list[list[tuple[int, int]]] = [[] for _ in coords]
    for e, (a, b) in enumerate(edges):
        adjacency[a].append((b, e))
        adjacency[b].append((a, e))
    # Every Euler circuit has the same length; trying edges into aisles first and then
    # rightwards makes the walk sweep the floor the way pickers expect.
    for v, adj in enumerate(adjacency):
        x, y = coords[v]
        adj.sort(key=lambda item: _heading(x, y, *coords[item[0]]))
    used = [False] * len(edges)
    pointer = [0] * len(coords)
    stack = [start]
    circuit: list[int] = []
    while stack:
        v = stack[-1]
        adj = adjacency[v]
        while pointer[v] < len(adj) and used[adj[pointer[v]][1]]:
            pointer[v] += 1
        if pointer[v] == len(adj):
            circuit.append(stack.pop())
        else:
            u, e = adj[pointer[v]]
            used[e] = True
            stack.append(u)
    circuit.reverse()
    order: list[int] = []
    seen: set[int] = set()
    for v in circuit:
        spot = spot_of[v]
        if spot >= 0 and spot not in seen:
            seen.add(spot)
            order.append(spot)
    points = [graph.depot_point, *(coords[v] for v in circuit), graph.depot_point]
    return finish(plan, points, order)
