"""Order batching: orders grouped onto carts so that one tour picks a whole cart.

A cart carries ``totes_per_cart`` totes; every order gets its own tote(s): one, or with
``max_units_per_tote`` as many as its units need. Two methods build batches and the one
with less total travel wins:

* **savings** (Clarke and Wright, as used for batching by de Koster et al. 1999): start
  with every order alone; repeatedly merge the two batches whose merged tour saves the
  most walking against their two tours, while the cart has room;
* **seed**: start a batch with the unbatched order whose own tour is longest, then add
  the order that lengthens the batch's tour least, until the cart is full.

Tour lengths are those of :func:`~floor_app.domain.routing.plan_route` (``auto``: exact
on up to three blocks). To keep this fast for waves of hundreds of orders, only the
``CANDIDATES`` most promising partners per batch (by a cheap estimate of the extra aisles
and width a merge adds) are measured with real tours. The plan reports total travel, the
travel if each order were picked alone, and the saving.

An order that needs more totes than a cart has, has no stops, or names a stop outside the
layout is not batched; it is listed in :attr:`BatchPlan.rejected` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import DomainError
from .layout import Layout
from .routing import Route, StopLike, plan_route
from .routing.geometry import FloorGraph
from .routing.planner import floor_graph

#: Partners measured with real tours per batch (the rest are judged by the cheap estimate).
CANDIDATES = 12


class BatchingError(DomainError):
    """Batches cannot be formed at all (no orders, no cart capacity, duplicate ids)."""


@dataclass(frozen=True, slots=True)
class BatchOrder:
    """An order to batch: its id, where its lines are picked, and its units (0: one per stop)."""

    order_id: str
    stops: tuple[StopLike, ...]
    units: int = 0

    @property
    def unit_count(self) -> int:
        """Units to pick: ``units`` when given, else one per stop."""
        return self.units if self.units > 0 else len(self.stops)


@dataclass(frozen=True, slots=True)
class Batch:
    """Orders picked in one tour onto one cart.

    ``totes`` gives each order's cart positions (1-based); ``picks`` lists (order id, stop)
    in walking order; ``route`` is the tour.
    """

    batch_id: str
    order_ids: tuple[str, ...]
    totes: dict[str, tuple[int, ...]]
    picks: tuple[tuple[str, StopLike], ...]
    route: Route

    @property
    def length_m(self) -> float:
        """Length of this batch's tour in metres."""
        return self.route.length_m


@dataclass(frozen=True, slots=True)
class RejectedOrder:
    """An order left out of every batch, and why."""

    order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """Batches for a wave of orders, with the travel they save."""

    batches: tuple[Batch, ...]
    travel_m: float
    separate_travel_m: float
    method: str
    rejected: tuple[RejectedOrder, ...] = ()

    @property
    def saving_m(self) -> float:
        """Metres saved against picking each order in its own tour."""
        return self.separate_travel_m - self.travel_m

    @property
    def saving_pct(self) -> float:
        """The saving as a percentage of the travel with each order alone."""
        if self.separate_travel_m <= 0:
            return 0.0
        return 100.0 * self.saving_m / self.separate_travel_m


@dataclass(frozen=True, slots=True)
class _Group:
    """A batch under construction: its orders, totes, tour length and footprint."""

    members: tuple[int, ...]
    totes: int
    length: float
    cells: frozenset[tuple[int, int]]  # (aisle, block) sub-aisles with picks
    xmin: float
    xmax: float


class _Wave:
    """The accepted orders of one call, with cached tour lengths and footprints."""

    def __init__(self, layout: Layout, orders: list[BatchOrder], needs: list[int]) -> None:
        self.layout = layout
        self.graph: FloorGraph = floor_graph(layout)
        self.orders = orders
        self.needs = needs
        self.lengths: dict[frozenset[int], float] = {}
        self.sub_aisle_m = (self.graph.cross_ys[-1] - self.graph.cross_ys[0]) / layout.blocks

    def stops(self, members: Sequence[int]) -> list[StopLike]:
        return [s for m in members for s in self.orders[m].stops]

    def length(self, members: Sequence[int]) -> float:
        key = frozenset(members)
        if key not in self.lengths:
            self.lengths[key] = plan_route(self.layout, self.stops(members)).length_m
        return self.lengths[key]

    def single(self, index: int) -> _Group:
        cells: set[tuple[int, int]] = set()
        xs: list[float] = []
        for stop in self.orders[index].stops:
            aisle, bay = self.graph.resolve(stop)
            cells.add((aisle, self.layout.block_of((bay - 1) // 2)))
            xs.append(self.graph.aisle_xs[aisle - 1])
        return _Group(
            (index,), self.needs[index], self.length([index]), frozenset(cells), min(xs), max(xs)
        )

    def merge(self, a: _Group, b: _Group) -> _Group:
        members = a.members + b.members
        return _Group(
            members,
            a.totes + b.totes,
            self.length(members),
            a.cells | b.cells,
            min(a.xmin, b.xmin),
            max(a.xmax, b.xmax),
        )

    def estimate(self, a: _Group, b: _Group) -> float:
        """A cheap guess of the extra walking a merge adds: new sub-aisles and width."""
        new_cells = len(a.cells | b.cells) - max(len(a.cells), len(b.cells))
        span = max(a.xmax, b.xmax) - min(a.xmin, b.xmin)
        wider = span - max(a.xmax - a.xmin, b.xmax - b.xmin)
        return new_cells * self.sub_aisle_m + 2 * wider


def _partners(wave: _Wave, group: _Group, others: Sequence[_Group], cart: int) -> list[_Group]:
    fitting = [o for o in others if o is not group and group.totes + o.totes <= cart]
    fitting.sort(key=lambda o: (wave.estimate(group, o), o.members))
    return fitting[:CANDIDATES]


def _savings(wave: _Wave, singles: list[_Group], cart: int) -> list[_Group]:
    """Clarke-Wright savings: merge the pair that saves most while the cart has room."""
    alive: dict[tuple[int, ...], _Group] = {g.members: g for g in singles}
    pairs: dict[tuple[tuple[int, ...], tuple[int, ...]], float] = {}

    def add_pairs(group: _Group) -> None:
        for other in _partners(wave, group, list(alive.values()), cart):
            key = (min(group.members, other.members), max(group.members, other.members))
            if key not in pairs:
                merged = group.members + other.members
                saving = group.length + other.length - wave.length(merged)
                if saving >= -1e-9:  # only a heuristic router can make a merge longer
                    pairs[key] = saving

    for group in singles:
        add_pairs(group)
    while True:
        if not pairs:
            for group in list(alive.values()):
                add_pairs(group)
            if not pairs:
                break
        (ka, kb), _ = max(pairs.items(), key=lambda kv: (kv[1], [-i for i in kv[0][0]]))
        merged = wave.merge(alive.pop(ka), alive.pop(kb))
        pairs = {k: v for k, v in pairs.items() if not ({ka, kb} & set(k))}
        alive[merged.members] = merged
        add_pairs(merged)
    return list(alive.values())


def _seed(wave: _Wave, singles: list[_Group], cart: int) -> list[_Group]:
    """Seed batching: longest single tour first, then the cheapest order to add, until full."""
    free = sorted(singles, key=lambda g: (-g.length, g.members))
    groups: list[_Group] = []
    while free:
        group = free.pop(0)
        while True:
            options = _partners(wave, group, free, cart)
            if not options:
                break
            best = min(
                options,
                key=lambda o: (wave.length(group.members + o.members) - group.length, o.members),
            )
            free.remove(best)
            group = wave.merge(group, best)
        groups.append(group)
    return groups


def _batch(batch_id: str, group: _Group, wave: _Wave) -> Batch:
    owners = [m for m in group.members for _ in wave.orders[m].stops]
    route = plan_route(wave.layout, wave.stops(group.members))
    first_seen: dict[int, int] = {}
    for step, index in enumerate(route.order):
        first_seen.setdefault(owners[index], step)
    members = sorted(group.members, key=lambda m: first_seen[m])
    totes: dict[str, tuple[int, ...]] = {}
    position = 1
    for m in members:
        totes[wave.orders[m].order_id] = tuple(range(position, position + wave.needs[m]))
        position += wave.needs[m]
    picks = tuple(
        (wave.orders[owners[i]].order_id, stop)
        for i, stop in zip(route.order, route.stops, strict=True)
    )
    return Batch(batch_id, tuple(wave.orders[m].order_id for m in members), totes, picks, route)


def _normalise(
    orders: Mapping[str, Sequence[StopLike]] | Sequence[BatchOrder],
) -> list[BatchOrder]:
    if isinstance(orders, Mapping):
        items = [BatchOrder(str(k), tuple(v)) for k, v in orders.items()]
    else:
        items = []
        for o in orders:
            if not isinstance(o, BatchOrder):
                raise BatchingError(f"expected BatchOrder items, got {type(o).__name__}")
            items.append(o)
    seen: set[str] = set()
    for o in items:
        if o.order_id in seen:
            raise BatchingError(f"order {o.order_id} is listed twice")
        seen.add(o.order_id)
    return items


def _stop_problem(layout: Layout, order: BatchOrder) -> str:
    if not order.stops:
        return "the order has nothing to pick"
    graph = floor_graph(layout)
    for stop in order.stops:
        try:
            graph.resolve(stop)
        except DomainError as exc:
            return exc.reason
    return ""


def form_batches(
    orders: Mapping[str, Sequence[StopLike]] | Sequence[BatchOrder],
    layout: Layout,
    *,
    totes_per_cart: int,
    max_units_per_tote: int | None = None,
) -> BatchPlan:
    """Batch ``orders`` (order id -> stops, or :class:`BatchOrder` items) onto carts.

    Raises :class:`BatchingError` when there are no orders, an order id repeats, or the
    capacities are not positive; orders that cannot be batched are in ``rejected``.
    """
    if isinstance(totes_per_cart, bool) or not isinstance(totes_per_cart, int):
        raise BatchingError(f"totes_per_cart must be a whole number, got {totes_per_cart!r}")
    if totes_per_cart < 1:
        raise BatchingError(f"a cart needs at least one tote, got {totes_per_cart}")
    if max_units_per_tote is not None and max_units_per_tote < 1:
        raise BatchingError(f"max_units_per_tote must be at least 1, got {max_units_per_tote}")
    items = _normalise(orders)
    if not items:
        raise BatchingError("there are no orders to batch")
    accepted: list[BatchOrder] = []
    needs: list[int] = []
    rejected: list[RejectedOrder] = []
    for order in items:
        problem = _stop_problem(layout, order)
        totes = 1
        if not problem and max_units_per_tote is not None:
            totes = max(1, math.ceil(order.unit_count / max_units_per_tote))
            if totes > totes_per_cart:
                problem = (
                    f"{order.unit_count} units need {totes} totes of {max_units_per_tote}, "
                    f"a cart holds {totes_per_cart}"
                )
        if problem:
            rejected.append(RejectedOrder(order.order_id, problem))
        else:
            accepted.append(order)
            needs.append(totes)
    if not accepted:
        return BatchPlan((), 0.0, 0.0, "none", tuple(rejected))
    wave = _Wave(layout, accepted, needs)
    singles = [wave.single(i) for i in range(len(accepted))]
    separate = sum(g.length for g in singles)
    plans = {
        "savings": _savings(wave, singles, totes_per_cart),
        "seed": _seed(wave, singles, totes_per_cart),
    }
    method, groups = min(plans.items(), key=lambda kv: (sum(g.length for g in kv[1]), kv[0]))
    batches = tuple(_batch(f"B{n:03d}", group, wave) for n, group in enumerate(groups, 1))
    travel = sum(b.length_m for b in batches)
    return BatchPlan(batches, travel, separate, method, tuple(rejected))
