"""The classic routing heuristics, for one block and for several.

Each heuristic lists the places a picker passes (pick spots and the aisle ends where the
picker turns); consecutive places are joined by shortest walks (:func:`walk_through`).
All of them see the floor from the depot: the depot's cross aisle is the *front*. With
several blocks they follow Roodbergen and de Koster (2001): walk up the leftmost aisle
with picks to the farthest block with picks, handle that block, then each nearer block in
turn, entering it from its back and leaving it at its front, and return to the depot.

* ``s_shape``: every sub-aisle with picks is walked through; where the count would leave
  the picker at the wrong end, the last one is entered and left from the front.
* ``return``: every aisle with picks is entered from the front and left the same way.
* ``largest_gap``: in a block, the first and last sub-aisles are walked through; the
  others are entered from the back and from the front, leaving out their largest gap.
* ``combined``: in a block, each sub-aisle is either walked through or entered and left
  from the side the picker is on, whichever a small dynamic programme finds shorter for
  the whole block.
"""

from __future__ import annotations

from collections.abc import Callable

from .geometry import PickPlan, Spot
from .walk import Walk, walk_through

FRONT, BACK = 0, 1
Waypoint = tuple[Spot, int]


class _Frame:
    """The plan seen from the depot: cross aisles and blocks numbered from the depot side."""

    def __init__(self, plan: PickPlan) -> None:
        graph = plan.graph
        self.plan = plan
        count = graph.cross_count
        self.flip = count > 1 and graph.depot_cross == count - 1
        top = graph.cross_ys[-1]
        self._top = top
        #: Frame coordinate of each cross aisle, front (depot side) first.
        self.ys = sorted(self.fy(y) for y in graph.cross_ys)
        self.cells: dict[tuple[int, int], list[int]] = {}
        blocks = count - 1
        for (col, block), spots in plan.cells.items():
            fb = blocks - 1 - block if self.flip else block
            ordered = sorted(spots, key=lambda i: self.fy(plan.spots[i].y))
            self.cells[(col, fb)] = ordered
        self.x = graph.column_x
        self.waypoints: list[Waypoint] = []

    def fy(self, y: float) -> float:
        """Frame coordinate of a real ``y`` (its own inverse)."""
        return self._top - y if self.flip else y

    def depth(self, spot: int) -> float:
        """Frame coordinate of a pick spot."""
        return self.fy(self.plan.spots[spot].y)

    def at(self, col: int, cross: int) -> None:
        """Pass the crossing of column ``col`` and frame cross aisle ``cross``."""
        self.waypoints.append(((self.x[col], self.fy(self.ys[cross]), True), -1))

    def pick(self, spots: list[int]) -> None:
        """Pass these pick spots in this order."""
        self.waypoints.extend((self.plan.spot(i), i) for i in spots)

    def columns_in(self, block: int, here: int, entry: int) -> list[int]:
        """Columns with picks left in ``block``, from the end nearer ``here``."""
        cols = sorted(c for (c, b), s in self.cells.items() if b == block and s)
        if (
            entry == BACK
            and cols
            and abs(self.x[here] - self.x[cols[-1]]) < abs(self.x[here] - self.x[cols[0]])
        ):
            cols.reverse()
        return cols

    def take(self, col: int, block: int) -> list[int]:
        """The spots left in (col, block), front to back; they count as picked from now on."""
        return self.cells.pop((col, block), [])

    def split_at_largest_gap(self, spots: list[int], block: int) -> tuple[list[int], list[int]]:
        """(spots below the largest gap, spots above it), counting the gaps to both ends."""
        marks = [self.ys[block], *(self.depth(i) for i in spots), self.ys[block + 1]]
        cut = max(range(len(marks) - 1), key=lambda k: marks[k + 1] - marks[k])
        return spots[:cut], spots[cut:]


BlockRule = Callable[[_Frame, int, int, int], int]


def _blockwise(plan: PickPlan, rule: BlockRule) -> Walk:
    """Up the left pick aisle to the farthest block, then ``rule`` block by block to the front."""
    frame = _Frame(plan)
    farthest = max(b for (_, b) in frame.cells)
    left = min(c for (c, _) in frame.cells)
    frame.at(left, 0)
    for block in range(farthest):
        frame.pick(frame.take(left, block))
    if farthest > 0:
        frame.at(left, farthest)
    here = rule(frame, farthest, left, FRONT)
    for block in range(farthest - 1, -1, -1):
        here = rule(frame, block, here, BACK)
    return walk_through(plan, frame.waypoints)


def _s_shape_block(frame: _Frame, block: int, here: int, entry: int) -> int:
    cols = frame.columns_in(block, here, entry)
    side = entry
    for k, col in enumerate(cols):
        spots = frame.take(col, block)
        if side == FRONT:
            frame.at(col, block)
            frame.pick(spots)
            if k == len(cols) - 1:
                frame.at(col, block)  # the last one: in and back out to the front
            else:
                frame.at(col, block + 1)
                side = BACK
        else:
            frame.at(col, block + 1)
            frame.pick(spots[::-1])
            frame.at(col, block)
            side = FRONT
        here = col
    return here


def _largest_gap_block(frame: _Frame, block: int, here: int, entry: int) -> int:
    cols = frame.columns_in(block, here, entry)
    if not cols:
        return here
    if len(cols) == 1:
        col = cols[0]
        spots = frame.take(col, block)
        if entry == FRONT:
            frame.at(col, block)
            frame.pick(spots)
            frame.at(col, block)
        else:
            frame.at(col, block + 1)
            frame.pick(spots[::-1])
            frame.at(col, block)
        return col
    if entry == FRONT:
        first, middle, last = cols[0], cols[1:-1], cols[-1]
        frame.at(first, block)
        frame.pick(frame.take(first, block))
        frame.at(first, block + 1)
    else:
        middle, last = cols[:-1], cols[-1]
    lower: dict[int, list[int]] = {}
    for col in middle:
        below, above = frame.split_at_largest_gap(frame.take(col, block), block)
        lower[col] = below
        if above:
            frame.at(col, block + 1)
            frame.pick(above[::-1])
            frame.at(col, block + 1)
    frame.at(last, block + 1)
    frame.pick(frame.take(last, block)[::-1])
    frame.at(last, block)
    here = last
    for col in reversed(middle):
        if lower[col]:
            frame.at(col, block)
            frame.pick(lower[col])
            frame.at(col, block)
            here = col
    return here


def _combined_block(frame: _Frame, block: int, here: int, entry: int) -> int:
    cols = frame.columns_in(block, here, entry)
    if not cols:
        return here
    length = frame.ys[block + 1] - frame.ys[block]
    reach = {}
    for col in cols:
        depths = [frame.depth(i) for i in frame.cells[(col, block)]]
        reach[col] = (2 * (depths[-1] - frame.ys[block]), 2 * (frame.ys[block + 1] - depths[0]))
    # cost[side] after each column, with the choice that led there: (previous side, through?)
    inf = float("inf")
    cost = [inf, inf]
    cost[entry] = 0.0
    prev_x = frame.x[here]
    trail: list[list[tuple[int, bool]]] = []
    for col in cols:
        move = abs(frame.x[col] - prev_x)
        new = [inf, inf]
        how: list[tuple[int, bool]] = [(FRONT, False), (FRONT, False)]
        for side in (FRONT, BACK):
            if cost[side] == inf:
                continue
            through = cost[side] + move + length
            if through < new[1 - side]:
                new[1 - side] = through
                how[1 - side] = (side, True)
            back = cost[side] + move + reach[col][side]
            if back < new[side]:
                new[side] = back
                how[side] = (side, False)
        cost = new
        trail.append(how)
        prev_x = frame.x[col]
    side = FRONT if cost[FRONT] <= cost[BACK] + length else BACK
    plan: list[tuple[int, bool]] = []
    for how in reversed(trail):
        came_from, through = how[side]
        plan.append((came_from, through))
        side = came_from
    plan.reverse()
    side = entry
    for col, (came_from, through) in zip(cols, plan, strict=True):
        spots = frame.take(col, block)
        cross_in = block if came_from == FRONT else block + 1
        frame.at(col, cross_in)
        frame.pick(spots if came_from == FRONT else spots[::-1])
        if through:
            side = 1 - came_from
            frame.at(col, block + 1 if came_from == FRONT else block)
        else:
            side = came_from
            frame.at(col, cross_in)
    if side == BACK:
        frame.at(cols[-1], block)  # down the last aisle again to leave at the front
    return cols[-1]


def s_shape_walk(plan: PickPlan) -> Walk:
    """S-shape (traversal) routing."""
    return _blockwise(plan, _s_shape_block)


def largest_gap_walk(plan: PickPlan) -> Walk:
    """Largest-gap routing."""
    return _blockwise(plan, _largest_gap_block)


def combined_walk(plan: PickPlan) -> Walk:
    """Combined routing: traverse or return per sub-aisle, chosen per block."""
    return _blockwise(plan, _combined_block)


def return_walk(plan: PickPlan) -> Walk:
    """Return routing: each aisle with picks entered and left from the front."""
    frame = _Frame(plan)
    for col in sorted({c for (c, _) in frame.cells}):
        spots = [i for b in range(len(frame.ys) - 1) for i in frame.cells.get((col, b), [])]
        frame.at(col, 0)
        frame.pick(spots)
        frame.at(col, 0)
    return walk_through(plan, frame.waypoints)
