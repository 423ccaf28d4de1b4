"""Orders and the order state machine, the one place it is written.

Every allowed transition is listed in :data:`TRANSITIONS`; any other raises
:class:`IllegalTransition` with the reason. ``held`` remembers the state it came from and
can only be released back to it (or cancelled). Each transition bumps ``version``, which
devices send with their claims so the hub can refuse stale ones.

Facts move an order forward along :data:`STAGES` (:func:`forward`, :meth:`Order.advance`,
used by the hub); a confirmed pick on a device moves it as :func:`after_pick` says (the
device's fast SQL path writes the states it returns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .carriers import CarrierChoice
from .errors import DomainError, IllegalTransition, QuantityError


class OrderState(StrEnum):
    """Where an order is in its life."""

    RECEIVED = "received"
    VALIDATED = "validated"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PICKED = "picked"
    PACKING = "packing"
    PACKED = "packed"
    LABELLED = "labelled"
    SHIPPED = "shipped"
    HELD = "held"
    SHORT = "short"
    CANCELLED = "cancelled"


S = OrderState

#: Every allowed move, and nothing else. HELD is handled by :meth:`Order.hold` and
#: :meth:`Order.release`; it may be entered from any state listed here with HELD.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.HELD, S.CANCELLED}),
    S.VALIDATED: frozenset({S.ALLOCATED, S.HELD, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PICKING, S.VALIDATED, S.HELD, S.CANCELLED}),
    S.PICKING: frozenset({S.PICKED, S.SHORT, S.HELD, S.CANCELLED}),
    S.SHORT: frozenset({S.PICKING, S.ALLOCATED, S.PICKED, S.HELD, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKING, S.HELD, S.CANCELLED}),
    S.PACKING: frozenset({S.PACKED, S.HELD, S.CANCELLED}),
    S.PACKED: frozenset({S.LABELLED, S.PACKING, S.HELD, S.CANCELLED}),
    S.LABELLED: frozenset({S.SHIPPED, S.PACKED, S.HELD, S.CANCELLED}),
    S.SHIPPED: frozenset(),
    S.CANCELLED: frozenset(),
    S.HELD: frozenset({S.CANCELLED}),  # plus release to the state it was held from
}

TERMINAL = frozenset({S.SHIPPED, S.CANCELLED})

#: The happy path, in order: facts move orders along it; the supervisor's stage views.
STAGES: tuple[OrderState, ...] = (
    S.RECEIVED,
    S.VALIDATED,
    S.ALLOCATED,
    S.PICKING,
    S.PICKED,
    S.PACKING,
    S.PACKED,
    S.LABELLED,
    S.SHIPPED,
)


def check_transition(
    current: OrderState, target: OrderState, held_from: OrderState | None = None
) -> None:
    """Raise :class:`IllegalTransition` unless ``current`` -> ``target`` is allowed."""
    if current is S.HELD and target is not S.CANCELLED:
        if held_from is None or target is not held_from:
            raise IllegalTransition(
                f"a held order can only be released to {held_from or 'its earlier state'} "
                f"or cancelled, not moved to {target}",
                code="order.held_transition",
                params={
                    "held_from": held_from.value if held_from else "",
                    "to_order_state": target.value,
                },
            )
        return
    if target not in TRANSITIONS[current]:
        states = {"order_state": current.value, "to_order_state": target.value}
        if current in TERMINAL:
            reason = f"order is {current}; nothing can change it any more"
            raise IllegalTransition(reason, code="order.finished", params=states)
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        reason = f"cannot go from {current} to {target}; from {current} only: {allowed}"
        raise IllegalTransition(reason, code="order.transition", params=states)


def forward(current: OrderState, target: OrderState) -> tuple[OrderState, ...]:
    """The states a fact moves an order through on its way to ``target``, in order.

    Only forward along :data:`STAGES`: nothing when the order is already at or past
    ``target``, held or finished, or when ``target`` is not a stage. ``short`` stands where
    ``picking`` does and may resume it.
    """
    if target not in STAGES or current is target or current in TERMINAL or current is S.HELD:
        return ()
    if current is S.SHORT and target is S.PICKING:
        return (S.PICKING,)
    here = STAGES.index(S.PICKING if current is S.SHORT else current)
    return STAGES[here + 1 : STAGES.index(target) + 1]


#: The states a confirmed pick moves a device's order on from: a short order waits for a
#: supervisor, and a pick moves no held, finished or later order.
MOVED_BY_PICKS = frozenset({S.ALLOCATED, S.PICKING})


def after_pick(current: OrderState, *, nothing_open: bool) -> tuple[OrderState, ...]:
    """The states a confirmed pick moves a device's order through: an allocated order starts
    ``picking``, and is ``picked`` once no unit is open (each picked or reported short)."""
    if current not in MOVED_BY_PICKS:
        return ()
    return forward(current, S.PICKED if nothing_open else S.PICKING)


@dataclass(frozen=True, slots=True)
class Address:
    """A ship-to address. Chinese addresses keep their own order in ``lines``."""

    name: str
    lines: tuple[str, ...]
    city: str
    postcode: str
    country: str
    phone: str = ""
    region: str = ""

    def missing_fields(self) -> list[str]:
        """Names of required fields that are empty (for intake validation)."""
        missing = [
            f for f in ("name", "city", "postcode", "country") if not getattr(self, f).strip()
        ]
        if not any(line.strip() for line in self.lines):
            missing.append("lines")
        return missing

    def as_label_lines(self) -> list[str]:
        """The address as printed on a label, top to bottom."""
        out = [self.name, *[ln for ln in self.lines if ln]]
        city = " ".join(p for p in (self.postcode, self.city, self.region) if p)
        out.append(city)
        out.append(self.country)
        return out


@dataclass(frozen=True, slots=True)
class TracedUnits:
    """Units picked for an order line of one lot (``qty``), or the one unit with ``serial``:
    what the packing slip lists for a recall."""

    line_no: int
    lot: str = ""
    serial: str = ""
    qty: int = 1


@dataclass(slots=True)
class OrderLine:
    """One line of an order: a SKU and how many; ``picked`` and ``packed`` count up."""

    line_no: int
    sku: str
    qty: int
    picked: int = 0
    packed: int = 0
    short: int = 0

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise QuantityError(f"line {self.line_no}: quantity must be positive, got {self.qty}")

    @property
    def open_to_pick(self) -> int:
        """Units still to pick (not picked and not reported short)."""
        return self.qty - self.picked - self.short


@dataclass(slots=True)
class Order:
    """A customer order as the floor sees it."""

    order_id: str
    lines: list[OrderLine]
    ship_to: Address
    priority: int = 5
    carrier: str = ""
    service: str = ""
    state: OrderState = OrderState.RECEIVED
    version: int = 1
    held_from: OrderState | None = None
    hold_reason: str = ""
    channel: str = ""
    #: The date the customer was promised delivery by (ISO ``YYYY-MM-DD``, "" when none).
    promised_date: str = ""
    #: How the carrier service was chosen, with the other services quoted (None: not yet).
    carrier_choice: CarrierChoice | None = None
    #: lots and serials picked for its lines (from the hub once the order is picked)
    traced: list[TracedUnits] = field(default_factory=list)
    history: list[tuple[OrderState, OrderState, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.lines:
            raise DomainError(f"order {self.order_id} has no lines")
        seen: set[int] = set()
        for line in self.lines:
            if line.line_no in seen:
                raise DomainError(f"order {self.order_id}: line {line.line_no} appears twice")
            seen.add(line.line_no)

    def transition(self, target: OrderState, reason: str = "") -> None:
        """Move to ``target`` or raise :class:`IllegalTransition` naming why not."""
        try:
            check_transition(self.state, target, self.held_from)
        except IllegalTransition as exc:
            raise IllegalTransition(
                f"order {self.order_id}: {exc.reason}",
                code=exc.code,
                params={**exc.params, "order": self.order_id},
            ) from None
        if target is S.HELD:
            self.held_from = self.state
            self.hold_reason = reason
        elif self.state is S.HELD:
            self.held_from = None
            self.hold_reason = ""
        self.history.append((self.state, target, reason))
        self.state = target
        self.version += 1

    def advance(self, target: OrderState, reason: str = "") -> list[OrderState]:
        """Move forward to ``target`` through every stage in between (:func:`forward`).

        Returns the states entered: empty when the order is already at or past ``target``,
        held or finished (a fact about it is recorded, it does not move the order).
        """
        steps = forward(self.state, target)
        for step in steps:
            self.transition(step, reason)
        return list(steps)

    def hold(self, reason: str) -> None:
        """Put the order on hold with a reason (a missing item, a customer call ...)."""
        if not reason:
            raise DomainError("a hold needs a reason", code="order.hold_reason")
        self.transition(S.HELD, reason)

    def release(self) -> None:
        """Release a hold back to the state the order was held from."""
        if self.state is not S.HELD or self.held_from is None:
            raise IllegalTransition(
                f"order {self.order_id} is {self.state}, not held",
                code="order.not_held",
                params={"order": self.order_id, "order_state": self.state.value},
            )
        self.transition(self.held_from, "released")

    def cancel(self, reason: str) -> None:
        """Cancel the order."""
        self.transition(S.CANCELLED, reason)

    def set_carrier(self, choice: CarrierChoice) -> None:
        """Ship with ``choice``'s service (a choice of the hub or a user's change)."""
        self.carrier = choice.carrier
        self.service = choice.service
        self.carrier_choice = choice

    def line(self, line_no: int) -> OrderLine:
        """The line with ``line_no``."""
        for ln in self.lines:
            if ln.line_no == line_no:
                return ln
        raise DomainError(f"order {self.order_id} has no line {line_no}")

    @property
    def total_units(self) -> int:
        """Units ordered over all lines."""
        return sum(ln.qty for ln in self.lines)

    @property
    def is_fully_picked(self) -> bool:
        """True when every line is picked or reported short."""
        return all(ln.open_to_pick == 0 for ln in self.lines)

    @property
    def is_picked_clean(self) -> bool:
        """True when every unit is picked and none is short (the order can go to packing)."""
        return all(ln.open_to_pick <= 0 for ln in self.lines) and not any(
            ln.short for ln in self.lines
        )
