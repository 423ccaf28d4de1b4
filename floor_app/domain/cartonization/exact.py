"""An exact packing search for small orders: every way two units can be kept apart.

Two boxes that do not overlap lie one entirely before the other along at least one axis.
The search gives every unit an orientation and every pair of units such a relation
("a before b along x", and so on). For fixed orientations and relations, the tightest
positions are the longest chains of "before" relations along each axis, so the choice is
feasible exactly when, along each axis, the relations form no cycle and the longest
chain of extents fits the carton. Any real packing satisfies the relations it exhibits,
so searching all of them is complete: when it finds nothing, nothing fits.

Partial choices are pruned as soon as a chain is too long or a cycle appears; the first
pair's relation is fixed to one direction per axis (mirroring a packing keeps it valid).
The search stops after ``node_limit`` nodes and then reports that it does not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from .boxes import Placement
from .items import Extents, PackItem

Matrix = list[list[int]]  # longest start-to-start distance along "before" chains, -1: none

#: Largest order (in units) the exact search is tried on.
EXACT_MAX_UNITS = 6
#: Nodes the exact search may visit (about half a second in CPython) before it gives up.
NODE_LIMIT = 60_000


class Verdict(StrEnum):
    """What the exact search concluded."""

    PACKED = "packed"
    IMPOSSIBLE = "impossible"
    UNKNOWN = "unknown"  # the node limit was reached first


class _Budget(Exception):
    """The node limit was reached."""


def _grow(matrices: list[Matrix]) -> list[Matrix]:
    out = []
    for m in matrices:
        k = len(m)
        new = [[*row, -1] for row in m]
        new.append([-1] * k + [0])
        out.append(new)
    return out


def _add_edge(m: Matrix, u: int, v: int, length_u: int) -> Matrix | None:
    """``m`` with "u before v" added, or None when that closes a cycle."""
    if m[v][u] >= 0:
        return None
    k = len(m)
    new = [row[:] for row in m]
    for a in range(k):
        au = m[a][u]
        if au < 0:
            continue
        base = au + length_u
        row = new[a]
        for b in range(k):
            vb = m[v][b]
            if vb >= 0 and base + vb > row[b]:
                row[b] = base + vb
    return new


def _longest_chain(m: Matrix, lengths: Sequence[int]) -> int:
    k = len(m)
    return max(max(m[a][b] for a in range(k)) + lengths[b] for b in range(k))


def pack_exact(
    units: Sequence[PackItem], inner: Extents, *, node_limit: int = NODE_LIMIT
) -> tuple[Verdict, list[Placement]]:
    """Decide whether ``units`` fit a box of ``inner`` extents, with a packing when they do."""
    if sum(u.volume_mm3 for u in units) > inner[0] * inner[1] * inner[2]:
        return Verdict.IMPOSSIBLE, []
    order = sorted(range(len(units)), key=lambda i: (-units[i].volume_mm3, i))
    choices = [
        [o for o in units[i].orientations() if all(o[d] <= inner[d] for d in range(3))]
        for i in order
    ]
    if any(not c for c in choices):
        return Verdict.IMPOSSIBLE, []
    n = len(order)
    ext: list[Extents] = []
    nodes = 0
    found: list[list[Matrix]] = []

    def relate(j: int, i: int, matrices: list[Matrix]) -> bool:
        nonlocal nodes
        if i == j:
            return place(j + 1, matrices)
        for axis in range(3):
            directions = ((i, j),) if (i, j) == (0, 1) else ((i, j), (j, i))
            for u, v in directions:
                nodes += 1
                if nodes > node_limit:
                    raise _Budget
                new = _add_edge(matrices[axis], u, v, ext[u][axis])
                if new is None:
                    continue
                if _longest_chain(new, [e[axis] for e in ext]) > inner[axis]:
                    continue
                trial = list(matrices)
                trial[axis] = new
                if relate(j, i + 1, trial):
                    return True
        return False

    def place(j: int, matrices: list[Matrix]) -> bool:
        if j == n:
            found.append(matrices)
            return True
        grown = _grow(matrices)
        for o in choices[j]:
            ext.append(o)
            if relate(j, 0, grown):
                return True
            ext.pop()
        return False

    try:
        ok = place(0, [[], [], []])
    except _Budget:
        return Verdict.UNKNOWN, []
    if not ok:
        return Verdict.IMPOSSIBLE, []
    matrices = found[0]
    placements = []
    for k, index in enumerate(order):
        x, y, z = (max(matrices[d][a][k] for a in range(n)) for d in range(3))
        length, width, height = ext[k]
        placements.append(Placement(index, units[index].name, x, y, z, length, width, height))
    return Verdict.PACKED, sorted(placements, key=lambda p: p.item)
