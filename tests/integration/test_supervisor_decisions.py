"""Supervisor decisions on a real store: a short approved or a hold released only with one
of the site's reason codes, a weight outside tolerance accepted only with a supervisor's
badge and a reason; each is recorded with who and when and listed in the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from floor_app.bootstrap import build_context
from floor_app.context import AppContext
from floor_app.domain.decisions import DecisionKind
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import ShortReason
from floor_app.services.errors import AccessDenied
from floor_app.services.packing import WeightMismatch
from floor_app.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    settings = load_settings(
        None,
        store={"data_dir": str(tmp_path)},
        sync={"enabled": False},
        supervisor={"reasons": {"release_hold": ["qa_passed", "item_found"]}},
    )
    ctx = build_context(settings, demo=True)
    yield ctx
    ctx.close()


def test_decisions_need_a_reason_code_and_are_the_history(ctx: AppContext) -> None:
    feed = ctx.supervisor
    assert feed is not None
    picking = ctx.picking
    task = picking.start("PT-0002", "alice").task
    while task.totes_to_scan():
        task = picking.assign_totes(task.task_id, picking.free_totes(1)[0], "alice").task
    first, *rest = task.ordered_lines()
    picking.report_short(task.task_id, first.line_id, first.qty, ShortReason.DAMAGED, "alice")
    for line in rest:
        task = picking.confirm(task.task_id, line.line_id, line.qty, "alice").task
        if picking.put_due(task) is not None:
            tote = task.tote_for(line.tote_position)
            assert tote is not None
            picking.confirm_put(task.task_id, line.line_id, tote.tote_id, "alice")
    picking.complete(task.task_id, "alice")
    short = first.order_id
    with pytest.raises(DomainError, match="needs a reason"):
        feed.approve_short(short, "grace", "")
    with pytest.raises(DomainError, match="is not a reason to approve short"):
        feed.approve_short(short, "grace", "because")
    assert all(r.type != "order.short_approved" for r in ctx.store.pending())
    feed.approve_short(short, "grace", "no_stock")

    view = ctx.packing.open("T0905")
    ctx.packing.hold(view.session.session_id, "Item missing", "ben")
    held = view.order.order_id
    assert feed.reasons(DecisionKind.RELEASE_HOLD) == ("qa_passed", "item_found")  # the site's
    with pytest.raises(DomainError, match="'checked_ok' is not a reason"):
        feed.release_hold(held, "grace", "checked_ok")
    feed.release_hold(held, "grace", "qa_passed")

    history = feed.history()
    assert [
        (r.decision.kind, r.decision.subject, r.decision.reason, r.decision.user) for r in history
    ] == [
        (DecisionKind.RELEASE_HOLD, held, "qa_passed", "grace"),
        (DecisionKind.APPROVE_SHORT, short, "no_stock", "grace"),
    ]
    assert all(r.device_id == "hh-01" and r.at > 0 for r in history)


def test_a_weight_outside_tolerance_needs_a_supervisors_badge_and_a_reason(
    ctx: AppContext,
) -> None:
    packing = ctx.packing
    view = packing.open("T0901")
    for sku, qty in view.session.expected.items():
        for _ in range(qty):
            view, _ = packing.verify(view.session.session_id, view.skus[sku].gtin)
    session = view.session.session_id
    off = view.expected_weight_g + 500
    with pytest.raises(WeightMismatch):
        packing.weigh(session, off, "ben")
    with pytest.raises(AccessDenied, match="not an active supervisor"):
        packing.weigh(session, off, "ben", override_badge="B2001", override_reason="scale_fault")
    with pytest.raises(DomainError, match="needs a reason"):
        packing.weigh(session, off, "ben", override_badge="B3001")
    with pytest.raises(DomainError, match="is not a reason to accept weight"):
        packing.weigh(session, off, "ben", override_badge="B3001", override_reason="qa_passed")
    assert all(r.type != "pack.completed" for r in ctx.store.pending())
    assert packing.supervisor("b3001") == "grace"
    packing.weigh(session, off, "ben", override_badge="B3001", override_reason="contents_checked")
    [event] = [r for r in ctx.store.pending() if r.type == "pack.completed"]
    assert (event.payload["weight_override_by"], event.payload["weight_override_reason"]) == (
        "grace",
        "contents_checked",
    )
    assert ctx.supervisor is not None
    [record] = ctx.supervisor.history()
    assert (record.decision.kind, record.decision.detail) == (
        DecisionKind.ACCEPT_WEIGHT,
        f"{off} g",
    )
