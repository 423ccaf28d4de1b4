"""Supervisor decisions: reason codes per kind (the floor's, or a site's own), and the
decision each event records."""

from __future__ import annotations

import pytest

from floor_app.domain.decisions import (
    DEFAULT_REASONS,
    Decision,
    DecisionKind,
    ReasonCodes,
    decision_of,
)
from floor_app.domain.errors import DomainError
from floor_app.domain.events import (
    CountAcknowledged,
    HoldReleased,
    PackCompleted,
    PickConfirmed,
    ShortApproved,
    TaskReassigned,
)

pytestmark = pytest.mark.unit


def test_every_decision_that_costs_goods_has_a_short_list_of_codes() -> None:
    codes = ReasonCodes()
    for kind in (DecisionKind.APPROVE_SHORT, DecisionKind.RELEASE_HOLD, DecisionKind.ACCEPT_WEIGHT):
        assert 2 <= len(codes.of(kind)) <= 9  # one digit each in the dialog
    assert codes.check(DecisionKind.ACCEPT_WEIGHT, " scale_fault ") == "scale_fault"
    with pytest.raises(DomainError, match="to accept weight needs a reason"):
        codes.check(DecisionKind.ACCEPT_WEIGHT, "")
    with pytest.raises(DomainError, match="'item_found' is not a reason to accept weight") as err:
        codes.check(DecisionKind.ACCEPT_WEIGHT, "item_found")
    assert "scale_fault" in err.value.hint


def test_a_site_sets_its_own_codes_and_bad_lists_are_refused() -> None:
    own = ReasonCodes({**DEFAULT_REASONS, DecisionKind.RELEASE_HOLD: ("qa_passed",)})
    assert own.check(DecisionKind.RELEASE_HOLD, "qa_passed") == "qa_passed"
    with pytest.raises(DomainError, match="no reason codes"):
        ReasonCodes({**DEFAULT_REASONS, DecisionKind.APPROVE_SHORT: ()})
    with pytest.raises(DomainError, match="lowercase words"):
        ReasonCodes({**DEFAULT_REASONS, DecisionKind.APPROVE_SHORT: ("No Stock",)})


def test_the_decision_each_event_records() -> None:
    weighed = PackCompleted("SO-1", "PACK-01", "CTN-M", 1240, "ben", "grace", "scale_fault")
    assert decision_of(weighed) == Decision(
        DecisionKind.ACCEPT_WEIGHT, "SO-1", "scale_fault", "grace", "1240 g"
    )
    assert decision_of(PackCompleted("SO-1", "PACK-01", "CTN-M", 590, "ben")) is None
    assert decision_of(ShortApproved("SO-2", "grace", 4, "no_stock")) == Decision(
        DecisionKind.APPROVE_SHORT, "SO-2", "no_stock", "grace"
    )
    assert decision_of(HoldReleased("SO-3", "grace", 7, "checked_ok")) == Decision(
        DecisionKind.RELEASE_HOLD, "SO-3", "checked_ok", "grace"
    )
    assert decision_of(TaskReassigned("PT-1", "bob", "grace", 2)) == Decision(
        DecisionKind.REASSIGN_TASK, "PT-1", "", "grace", "bob"
    )
    assert decision_of(CountAcknowledged(7, "grace")) == Decision(
        DecisionKind.ACKNOWLEDGE_COUNT, "7", "", "grace"
    )
    pick = PickConfirmed("PT-1", "L1", "SO-1", "SKU-1", "A01-01-1A", 1, 1, "alice")
    assert decision_of(pick) is None
