"""The exact packing search against a unit-grid brute force, and packings that are real."""

import random

import pytest

from floor_app.domain.cartonization import (
    PackItem,
    Placement,
    Verdict,
    pack_exact,
    pack_heuristic,
    placement_problems,
)

pytestmark = pytest.mark.unit

Box = tuple[int, int, int]


def grid_fits(units: list[Box], inner: Box) -> bool:
    """Complete search on the unit grid: the first free cell (z, then y, then x) is either
    left empty or is the corner of some unit. Integer sizes make integer positions enough."""
    nx, ny, nz = inner
    cells = [False] * (nx * ny * nz)
    slack = nx * ny * nz - sum(a * b * c for a, b, c in units)
    if slack < 0:
        return False
    shapes = [
        sorted({(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)})
        for a, b, c in units
    ]

    def index(x: int, y: int, z: int) -> int:
        return (z * ny + y) * nx + x

    def free_box(x: int, y: int, z: int, e: Box) -> bool:
        if x + e[0] > nx or y + e[1] > ny or z + e[2] > nz:
            return False
        return not any(
            cells[index(i, j, k)]
            for i in range(x, x + e[0])
            for j in range(y, y + e[1])
            for k in range(z, z + e[2])
        )

    def mark(x: int, y: int, z: int, e: Box, value: bool) -> None:
        for i in range(x, x + e[0]):
            for j in range(y, y + e[1]):
                for k in range(z, z + e[2]):
                    cells[index(i, j, k)] = value

    def search(start: int, left: list[int], slack: int) -> bool:
        if not left:
            return True
        pos = start
        while pos < len(cells) and cells[pos]:
            pos += 1
        if pos == len(cells):
            return False
        x, rest = pos % nx, pos // nx
        y, z = rest % ny, rest // ny
        tried: set[Box] = set()
        for k, unit in enumerate(left):
            if units[unit] in tried:
                continue
            tried.add(units[unit])
            for e in shapes[unit]:
                if free_box(x, y, z, e):
                    mark(x, y, z, e, True)
                    if search(pos + 1, left[:k] + left[k + 1 :], slack):
                        return True
                    mark(x, y, z, e, False)
        if slack > 0:
            cells[pos] = True
            found = search(pos + 1, left, slack - 1)
            cells[pos] = False
            return found
        return False

    return search(0, list(range(len(units))), slack)


def _items(boxes: list[Box]) -> list[PackItem]:
    return [PackItem(f"u{i}", *b) for i, b in enumerate(boxes)]


def test_exact_search_agrees_with_the_grid_brute_force() -> None:
    rng = random.Random(2026)
    packed = impossible = 0
    for _ in range(250):
        boxes = [
            (rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 3))
            for _ in range(rng.randint(2, 4))
        ]
        inner = (rng.randint(2, 4), rng.randint(2, 4), rng.randint(1, 3))
        items = _items(boxes)
        verdict, placements = pack_exact(items, inner)
        truth = grid_fits(boxes, inner)
        assert verdict is (Verdict.PACKED if truth else Verdict.IMPOSSIBLE), (boxes, inner)
        if truth:
            assert placement_problems(items, inner, placements) == []
            packed += 1
        else:
            impossible += 1
    assert packed > 30 and impossible > 30  # both answers were exercised


def test_exact_search_finds_a_packing_the_heuristic_misses() -> None:
    # Found by search: the extreme-point heuristic fails on this one, a packing exists.
    items = _items([(50, 50, 150), (150, 200, 150), (150, 200, 250)])
    inner = (200, 300, 250)
    assert pack_heuristic(items, inner) is None
    verdict, placements = pack_exact(items, inner)
    assert verdict is Verdict.PACKED
    assert placement_problems(items, inner, placements) == []


def test_exact_search_gives_up_after_its_node_budget() -> None:
    items = _items([(3, 3, 3)] * 6)
    verdict, placements = pack_exact(items, (5, 5, 7), node_limit=10)
    assert verdict is Verdict.UNKNOWN and placements == []


def test_heuristic_packings_are_real() -> None:
    rng = random.Random(11)
    for _ in range(200):
        boxes = [
            (rng.randint(20, 300), rng.randint(20, 300), rng.randint(10, 200))
            for _ in range(rng.randint(1, 12))
        ]
        items = _items(boxes)
        inner = (600, 400, 400)
        placements = pack_heuristic(items, inner)
        if placements is not None:
            assert placement_problems(items, inner, placements) == []


def test_placement_check_finds_overlaps_bounds_and_wrong_sizes() -> None:
    items = _items([(2, 2, 2), (2, 2, 2)])
    inner = (4, 2, 2)
    good = [Placement(0, "u0", 0, 0, 0, 2, 2, 2), Placement(1, "u1", 2, 0, 0, 2, 2, 2)]
    assert placement_problems(items, inner, good) == []
    overlapping = [good[0], Placement(1, "u1", 1, 0, 0, 2, 2, 2)]
    assert any("overlap" in p for p in placement_problems(items, inner, overlapping))
    outside = [good[0], Placement(1, "u1", 3, 0, 0, 2, 2, 2)]
    assert any("sticks out" in p for p in placement_problems(items, inner, outside))
    wrong = [good[0], Placement(1, "u1", 2, 0, 0, 2, 2, 1)]
    assert any("placed as" in p for p in placement_problems(items, inner, wrong))
    missing = [good[0]]
    assert placement_problems(items, inner, missing)
