"""Totes as the site's physical, reusable containers: what each holds and when it is free.

Tote codes (``T0001`` ...) are site data: a tote is used again and again. A picker fills
the totes (or the cart of totes) they scan at the start of a task, one order per tote; at
the end of the task each tote holds its order until the order is packed, and packing
releases it. A :class:`SiteTote` is one tote as a device or the hub knows it.

The rule: a tote still holding an order that is not packed yet is refused for new work,
naming the order (:class:`ToteBusy`). Totes may stand on a cart (``CART-01``): scanning
the cart names its totes in cart order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .codes import CART_RE, TOTE_RE
from .errors import DomainError
from .order import OrderState
from .picking import PickTask


class ToteState(StrEnum):
    """Where a tote is in its round: free, on a cart being filled, or holding a picked order."""

    FREE = "free"
    FILLING = "filling"
    HOLDING = "holding"


#: An order in one of these states no longer needs its tote: packed (the goods are in a
#: parcel), beyond, or cancelled (the goods are put away).
DONE_WITH_TOTE = frozenset(
    {OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED, OrderState.CANCELLED}
)


class ToteBusy(DomainError):
    """A tote still holds an order that is not packed: it cannot take new work."""

    def __init__(self, tote: str, order_id: str) -> None:
        super().__init__(
            f"tote {tote} still holds order {order_id}, not packed yet",
            hint="put it aside for packing and take an empty tote",
            code="tote.busy",
            params={"tote": tote, "order": order_id},
        )
        self.tote = tote
        self.order_id = order_id


@dataclass(slots=True)
class SiteTote:
    """One tote of the site: its code, the cart it stands on (if any) and what it holds.

    ``order_id`` is the order whose goods it holds (or is being filled with, by
    ``task_id``); ``destination`` is where it goes once picked (a pack station, or a
    staging location for an order that is short).
    """

    code: str
    state: ToteState = ToteState.FREE
    order_id: str | None = None
    task_id: str | None = None
    destination: str = ""
    cart: str = ""
    cart_position: int = 0

    def holds_unpacked(self, order_state: OrderState | None = None) -> bool:
        """True when the tote holds an order not yet packed (``order_state``: that order's
        state where it is known; an order done with its tote frees the tote)."""
        if self.state is ToteState.FREE or self.order_id is None:
            return False
        return order_state not in DONE_WITH_TOTE

    def check_free_for(
        self, order_id: str, task_id: str, order_state: OrderState | None = None
    ) -> None:
        """Raise :class:`ToteBusy` unless the tote may take ``order_id`` on ``task_id``: it
        is free, holds an order done with it, or holds that very order (its other units,
        picked on another task, may go in with them)."""
        if not self.holds_unpacked(order_state):
            return
        if self.order_id == order_id:
            return
        raise ToteBusy(self.code, self.order_id or "?")

    def fill(self, order_id: str, task_id: str) -> None:
        """The tote goes on a cart for ``order_id`` of ``task_id``."""
        self.state = ToteState.FILLING
        self.order_id = order_id
        self.task_id = task_id
        self.destination = ""

    def hold(self, destination: str) -> None:
        """The task is done: the tote holds its order on the way to ``destination``."""
        self.state = ToteState.HOLDING
        self.destination = destination

    def release(self) -> None:
        """The tote is empty again (its order packed, or nothing was put in it)."""
        self.state = ToteState.FREE
        self.order_id = None
        self.task_id = None
        self.destination = ""


def expand_tote_codes(entries: Iterable[str]) -> list[str]:
    """Tote codes from a list of codes and ranges (``"T0001-T0240"``), in order, each once.

    Raises :class:`DomainError` naming the first entry that is not a tote code or a range
    of them.
    """
    out: dict[str, None] = {}
    for entry in entries:
        text = entry.strip().upper()
        first, _, last = text.partition("-")
        if not TOTE_RE.match(first) or (last and not TOTE_RE.match(last)):
            raise DomainError(
                f"{entry!r} is not a tote code (T and four digits) or a range T0001-T0240"
            )
        low = int(first[1:])
        high = int(last[1:]) if last else low
        if high < low:
            raise DomainError(f"tote range {entry!r} runs backwards")
        for n in range(low, high + 1):
            out[f"T{n:04d}"] = None
    return list(out)


def check_cart(cart: str, totes: Sequence[str]) -> None:
    """Raise :class:`DomainError` unless ``cart`` is a cart code carrying tote codes."""
    if not CART_RE.match(cart):
        raise DomainError(f"{cart!r} is not a cart code (CART-01 ...)")
    if not totes:
        raise DomainError(f"cart {cart} carries no totes")
    if len(set(totes)) != len(totes):
        raise DomainError(f"cart {cart} names a tote twice")


def site_totes(codes: Iterable[str], carts: Mapping[str, Sequence[str]]) -> list[SiteTote]:
    """The site's totes (all free) from its tote codes and its carts (cart -> its totes in
    order). Raises :class:`DomainError` for a cart naming a tote that is not one of
    ``codes`` or standing on two carts."""
    totes = {code: SiteTote(code) for code in codes}
    for cart, on_it in sorted(carts.items()):
        check_cart(cart, on_it)
        for position, code in enumerate(on_it, start=1):
            tote = totes.get(code)
            if tote is None:
                raise DomainError(f"cart {cart} names {code}, which is not one of the site's totes")
            if tote.cart:
                raise DomainError(f"tote {code} stands on two carts: {tote.cart} and {cart}")
            tote.cart, tote.cart_position = cart, position
    return list(totes.values())


@dataclass(frozen=True, slots=True)
class ToteDrop:
    """Where a tote goes at the end of a task: its order and destination (``units`` put in
    it; a tote with none goes back to the stack and its order is "")."""

    tote: str
    position: int
    order_id: str
    destination: str
    units: int


def destination_of(order_state: OrderState | None, pack_station: str, staging: str) -> str:
    """Where a picked tote of an order in ``order_state`` goes: to its pack station when the
    order is picked (or the station is all that is known), to ``staging`` when it is short
    or held (waiting for a supervisor) or no station is named."""
    if order_state in (OrderState.SHORT, OrderState.HELD, OrderState.PICKING):
        return staging
    return pack_station or staging


def drops_of(
    task: PickTask, order_state: Callable[[str], OrderState | None], staging: str
) -> list[ToteDrop]:
    """Where each tote of ``task`` goes now that it is done, by cart position: a tote with
    units to its order's destination (:func:`destination_of`), an empty one back to the
    stack."""
    units: dict[int, int] = {}
    for line in task.lines:
        units[line.tote_position] = units.get(line.tote_position, 0) + line.picked
    out: list[ToteDrop] = []
    for tote in sorted(task.totes, key=lambda t: t.position):
        put = units.get(tote.position, 0)
        if put <= 0 or tote.order_id is None:
            out.append(ToteDrop(tote.tote_id, tote.position, "", "", 0))
            continue
        where = destination_of(order_state(tote.order_id), tote.destination, staging)
        out.append(ToteDrop(tote.tote_id, tote.position, tote.order_id, where, put))
    return out
