"""Supervisor decisions: the kinds, their reason codes, and the decision an event records.

A supervisor's decision where goods or money are at stake (approve a short, release a hold,
accept a weight outside tolerance) carries a **reason code** from a short fixed list per
kind (:data:`DEFAULT_REASONS`; a site may set its own lists, :class:`ReasonCodes`). The code
travels on the event (``reason``, ``weight_override_reason``) to the hub, which records it;
screens show the code's text in the user's language.

:func:`decision_of` reads the decision an event records (None for an event that records
none): the device's exceptions history and the hub's decision records are built from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import DomainError
from .events import (
    CountAcknowledged,
    DomainEvent,
    HoldReleased,
    PackCompleted,
    ShortApproved,
    TaskReassigned,
)


class DecisionKind(StrEnum):
    """What a supervisor decided."""

    APPROVE_SHORT = "approve_short"
    RELEASE_HOLD = "release_hold"
    ACCEPT_WEIGHT = "accept_weight"
    REASSIGN_TASK = "reassign_task"
    ACKNOWLEDGE_COUNT = "acknowledge_count"


#: The kinds that need a reason code.
NEEDS_REASON = (DecisionKind.APPROVE_SHORT, DecisionKind.RELEASE_HOLD, DecisionKind.ACCEPT_WEIGHT)

#: The reason codes of each kind, unless the site sets its own.
DEFAULT_REASONS: Mapping[DecisionKind, tuple[str, ...]] = {
    DecisionKind.APPROVE_SHORT: ("no_stock", "damaged_stock", "customer_agreed", "ship_rest_later"),
    DecisionKind.RELEASE_HOLD: ("item_found", "item_replaced", "customer_confirmed", "checked_ok"),
    DecisionKind.ACCEPT_WEIGHT: (
        "scale_fault",
        "item_weight_wrong",
        "packing_material",
        "contents_checked",
    ),
}

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True, slots=True)
class ReasonCodes:
    """The reason codes a site allows per decision kind (the defaults where not set)."""

    lists: Mapping[DecisionKind, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_REASONS)

    def __post_init__(self) -> None:
        for kind in NEEDS_REASON:
            codes = self.lists.get(kind, ())
            if not codes:
                raise DomainError(f"decision {kind} has no reason codes")
            bad = [c for c in codes if not _CODE.match(c)]
            if bad:
                raise DomainError(
                    f"reason codes of {kind} must be lowercase words (a-z, 0-9, _): "
                    + ", ".join(repr(c) for c in bad)
                )

    def of(self, kind: DecisionKind) -> tuple[str, ...]:
        """The codes of ``kind`` in the order a supervisor is offered them."""
        return tuple(self.lists.get(kind, ()))

    def check(self, kind: DecisionKind, code: str) -> str:
        """``code`` when it is one of ``kind``'s; a :class:`DomainError` otherwise."""
        code = code.strip()
        if not code:
            raise DomainError(f"a decision to {kind.value.replace('_', ' ')} needs a reason")
        if code not in self.of(kind):
            raise DomainError(
                f"{code!r} is not a reason to {kind.value.replace('_', ' ')}",
                hint="choose one of: " + ", ".join(self.of(kind)),
            )
        return code


@dataclass(frozen=True, slots=True)
class Decision:
    """One supervisor decision as the history shows it.

    ``subject`` is the order, task or count it was about; ``reason`` the reason code ("" for
    the kinds that need none); ``detail`` what else matters (a weight, who got the task).
    """

    kind: DecisionKind
    subject: str
    reason: str
    user: str
    detail: str = ""


def decision_of(event: DomainEvent) -> Decision | None:
    """The decision ``event`` records, or None."""
    if isinstance(event, ShortApproved):
        return Decision(DecisionKind.APPROVE_SHORT, event.order, event.reason, event.user)
    if isinstance(event, HoldReleased):
        return Decision(DecisionKind.RELEASE_HOLD, event.order, event.reason, event.user)
    if isinstance(event, PackCompleted) and event.weight_override_by:
        return Decision(
            DecisionKind.ACCEPT_WEIGHT,
            event.order,
            event.weight_override_reason,
            event.weight_override_by,
            f"{event.weight_g} g",
        )
    if isinstance(event, TaskReassigned):
        return Decision(DecisionKind.REASSIGN_TASK, event.task, "", event.user, event.to_user)
    if isinstance(event, CountAcknowledged):
        return Decision(DecisionKind.ACKNOWLEDGE_COUNT, str(event.count_id), "", event.user)
    return None


#: The event types that may record a decision (for reading them back from a log).
DECISION_EVENT_TYPES = (
    ShortApproved.TYPE,
    HoldReleased.TYPE,
    PackCompleted.TYPE,
    TaskReassigned.TYPE,
    CountAcknowledged.TYPE,
)
