"""Totes through the device's services on a real store: totes and carts scanned for a task,
busy and unknown totes refused, puts confirmed by tote scans, where each tote goes, packing
by tote and releasing it, and the hub's word on totes applied to the store."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from floor_app.demo import DemoSite, build_demo_site
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.order import OrderState
from floor_app.domain.picking import PickTask, PutConfirmation, ShortReason, TaskState
from floor_app.domain.totes import SiteTote, ToteBusy, ToteState
from floor_app.services.packing import PackingService, ToteNotHeard
from floor_app.services.picking import PickingService
from floor_app.store import Store
from floor_app.store.seed import load_demo
from sync.device.push_apply import PushApplier
from sync.device.tote_refusals import take_back_refused_tote
from sync.protocol import PickTaskModel, PushMessage, SiteToteModel, TaskAssigned, ToteContents

pytestmark = pytest.mark.integration


@cache
def small_site() -> DemoSite:
    return build_demo_site(sku_count=60, order_count=20)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    load_demo(s, small_site())
    yield s
    s.close()


def types(store: Store) -> list[str]:
    return [r.type for r in store.pending()]


def tote_of(store: Store, code: str) -> SiteTote:
    with store.unit_of_work() as uow:
        tote = uow.totes.get(code)
    assert tote is not None
    return tote


def started(picking: PickingService, task_id: str = "PT-0001") -> PickTask:
    return picking.start(task_id, "alice").task


def scanned(picking: PickingService, task_id: str = "PT-0001") -> PickTask:
    """``task_id`` started with a loose tote for each position."""
    task = started(picking, task_id)
    while task.totes_to_scan():
        task = picking.assign_totes(task_id, picking.free_totes(1)[0], "alice").task
    return task


def hold(store: Store, code: str, order_id: str, state: OrderState | None = None) -> None:
    """``code`` holds ``order_id`` (picked elsewhere), the order in ``state``."""
    with store.unit_of_work() as uow:
        tote = uow.totes.get(code) or SiteTote(code)
        tote.fill(order_id, "PT-OTHER")
        tote.hold("PACK-02")
        uow.totes.save(tote)
        if state is not None:
            order = uow.orders.get(order_id)
            order.state = state
            uow.orders.save(order)
        uow.commit()


def test_totes_and_a_cart_are_scanned_for_the_positions_and_claimed(store: Store) -> None:
    picking = PickingService(store)
    task = started(picking)
    assert [t.tote_id for t in task.totes] == ["", "", "", ""]
    first = picking.assign_totes("PT-0001", "T0061", "alice")
    assert [(t.position, t.tote_id) for t in first.totes] == [(1, "T0061")]
    rest = picking.assign_totes("PT-0001", "cart-02", "alice")  # CART-02: T0007 ...
    assert [(t.position, t.tote_id) for t in rest.totes] == [
        (2, "T0007"),
        (3, "T0008"),
        (4, "T0009"),
    ]
    with pytest.raises(DomainError, match="every tote of task PT-0001 is scanned already"):
        picking.assign_totes("PT-0001", "T0062", "alice")
    claims = [r.payload for r in store.pending() if r.type == "tote.assigned"]
    assert [(c["tote"], c["position"], c["task"]) for c in claims] == [
        ("T0061", 1, "PT-0001"),
        ("T0007", 2, "PT-0001"),
        ("T0008", 3, "PT-0001"),
        ("T0009", 4, "PT-0001"),
    ]
    assert all(r.kind == "claim" for r in store.pending() if r.type == "tote.assigned")
    for tote in rest.task.totes:
        site = tote_of(store, tote.tote_id)
        assert (site.state, site.order_id, site.task_id) == (
            ToteState.FILLING,
            tote.order_id,
            "PT-0001",
        )
    assert picking.free_totes(2) == ["T0062", "T0063"]  # what is left on the stack


def test_codes_that_are_not_free_totes_of_the_site_are_refused(store: Store) -> None:
    picking = PickingService(store)
    started(picking)
    before = store.outbox_stats()[2]
    with pytest.raises(NotFound, match="T9999 is not one of the site's totes"):
        picking.assign_totes("PT-0001", "T9999", "alice")
    with pytest.raises(NotFound, match="CART-77 is not one of the site's carts"):
        picking.assign_totes("PT-0001", "CART-77", "alice")
    with pytest.raises(DomainError, match="is a location code, not a tote or a cart"):
        picking.assign_totes("PT-0001", "A01-01-1A", "alice")
    with store.unit_of_work() as uow:
        tote = uow.totes.get("T0061")
        assert tote is not None
        tote.cart, tote.cart_position = "CART-90", 1  # a cart of one tote
        uow.totes.save(tote)
        uow.commit()
    with pytest.raises(DomainError, match="cart CART-90 carries 1 totes; this task needs 4"):
        picking.assign_totes("PT-0001", "CART-90", "alice")
    hold(store, "T0062", "SO-100003", OrderState.PICKED)
    with pytest.raises(ToteBusy, match="tote T0062 still holds order SO-100003"):
        picking.assign_totes("PT-0001", "T0062", "alice")
    assert store.outbox_stats()[2] == before  # nothing recorded
    # once its order is packed (or cancelled) the tote is free for new work
    hold(store, "T0062", "SO-100003", OrderState.PACKED)
    assert picking.assign_totes("PT-0001", "T0062", "alice").totes[0].tote_id == "T0062"


def test_a_device_that_knows_no_totes_of_the_site_takes_any_tote_code(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.totes.remove(sorted(uow.totes.codes()))
        uow.commit()
    picking = PickingService(store)
    started(picking)
    placed = picking.assign_totes("PT-0001", "T9999", "alice").totes
    assert [t.tote_id for t in placed] == ["T9999"]  # the hub checks it
    assert tote_of(store, "T9999").state is ToteState.FILLING


def test_picks_wait_for_the_totes_and_every_put_for_a_scan_of_its_tote(store: Store) -> None:
    picking = PickingService(store)
    task = started(picking, "PT-0002")
    line = task.ordered_lines()[0]
    with pytest.raises(DomainError, match="has totes still to scan"):
        picking.confirm("PT-0002", line.line_id, 1, "alice")
    task = scanned(picking, "PT-0002")
    first, second = task.ordered_lines()[:2]
    assert first.tote_position != second.tote_position
    task = picking.confirm("PT-0002", first.line_id, first.qty, "alice").task
    assert picking.put_due(task) == task.line(first.line_id)
    with pytest.raises(DomainError, match=r"put of .* into tote .* is not confirmed"):
        picking.confirm("PT-0002", second.line_id, 1, "alice")
    own = task.tote_for(first.tote_position)
    other = task.tote_for(second.tote_position)
    assert own is not None and other is not None
    with pytest.raises(DomainError, match=f"wrong tote: {other.tote_id}"):
        picking.confirm_put("PT-0002", first.line_id, other.tote_id, "alice")
    with pytest.raises(DomainError, match="not a tote"):
        picking.confirm_put("PT-0002", first.line_id, first.location, "alice")
    put = picking.confirm_put("PT-0002", first.line_id, own.tote_id, "alice")
    assert put.event.type == "tote.put" and put.event.payload["tote"] == own.tote_id
    with pytest.raises(DomainError, match="no put of line"):
        picking.confirm_put("PT-0002", first.line_id, own.tote_id, "alice")
    picks = [r.payload for r in store.pending() if r.type == "pick.confirmed"]
    assert {p["tote"] for p in picks} == {own.tote_id}
    *middle, last = task.ordered_lines()[1:]
    for line in middle:
        task = picking.confirm("PT-0002", line.line_id, line.qty, "alice").task
        placed = task.tote_for(line.tote_position)
        assert placed is not None
        picking.confirm_put("PT-0002", line.line_id, placed.tote_id, "alice")
    picking.confirm("PT-0002", last.line_id, last.qty, "alice")
    with pytest.raises(DomainError, match="is not confirmed"):
        picking.complete("PT-0002", "alice")
    tote = task.tote_for(last.tote_position)
    assert tote is not None
    picking.confirm_put("PT-0002", last.line_id, tote.tote_id, "alice")
    assert picking.complete("PT-0002", "alice").task.state is TaskState.DONE


def test_only_the_first_put_into_each_tote_is_scanned_when_the_site_says_so(
    store: Store,
) -> None:
    picking = PickingService(store, put_confirmation=PutConfirmation.FIRST_PUT)
    task = scanned(picking)
    puts = 0
    for line in task.ordered_lines():
        task = picking.confirm("PT-0001", line.line_id, line.qty, "alice").task
        due = picking.put_due(task)
        if due is not None:
            tote = task.tote_for(due.tote_position)
            assert tote is not None
            task = picking.confirm_put("PT-0001", due.line_id, tote.tote_id, "alice").task
            puts += 1
    assert puts == len({ln.tote_position for ln in task.lines}) < len(task.lines)
    assert types(store).count("tote.put") == puts
    picking.complete("PT-0001", "alice")


def pick_all(picking: PickingService, task_id: str, short: str = "") -> PickTask:
    """Pick every line of ``task_id`` (``short``: that line's units all short)."""
    task = scanned(picking, task_id)
    for line in task.ordered_lines():
        if line.line_id == short:
            picking.report_short(task_id, line.line_id, line.qty, ShortReason.EMPTY, "alice")
            continue
        task = picking.confirm(task_id, line.line_id, line.qty, "alice").task
        due = picking.put_due(task)
        if due is not None:
            tote = task.tote_for(due.tote_position)
            assert tote is not None
            task = picking.confirm_put(task_id, due.line_id, tote.tote_id, "alice").task
    return task


def test_the_end_of_a_task_sends_each_tote_to_its_station_or_to_staging(store: Store) -> None:
    picking = PickingService(store, staging="STAGE-02")
    task = scanned(picking, "PT-0002")
    lone = next(
        ln
        for ln in task.ordered_lines()
        if sum(1 for o in task.lines if o.tote_position == ln.tote_position) == 1
    )
    pick_all(picking, "PT-0002", short=lone.line_id)
    done = picking.complete("PT-0002", "alice")
    by_tote = {d.tote: d for d in done.drops}
    empty = task.tote_for(lone.tote_position)
    assert empty is not None
    assert (by_tote[empty.tote_id].units, by_tote[empty.tote_id].destination) == (0, "")
    assert tote_of(store, empty.tote_id).state is ToteState.FREE  # back to the stack
    for tote in task.totes:
        if tote.tote_id == empty.tote_id:
            continue
        with store.unit_of_work() as uow:
            state = uow.orders.get(tote.order_id or "").state
        where = "PACK-01" if state is OrderState.PICKED else "STAGE-02"
        assert by_tote[tote.tote_id].destination == where
        site = tote_of(store, tote.tote_id)
        assert (site.state, site.order_id, site.destination) == (
            ToteState.HOLDING,
            tote.order_id,
            where,
        )


def test_a_station_opens_by_tote_and_packing_releases_it(store: Store) -> None:
    picking = PickingService(store)
    task = pick_all(picking, "PT-0002")
    picking.complete("PT-0002", "alice")
    tote = task.totes[0]
    packing = PackingService(store, "PACK-01")
    assert tote.tote_id in packing.waiting_totes(10)
    assert packing.totes_holding(tote.order_id or "") == [tote.tote_id]
    view = packing.open(tote.tote_id)
    assert view.order.order_id == tote.order_id
    session = view.session.session_id
    for sku, qty in view.session.expected.items():
        for _ in range(qty):
            view, _item = packing.verify(session, view.skus[sku].gtin)
    packing.weigh(session, view.expected_weight_g, "ben")
    assert tote_of(store, tote.tote_id).state is ToteState.FREE
    released = [r.payload for r in store.pending() if r.type == "tote.released"]
    assert released == [
        {"tote": tote.tote_id, "order": tote.order_id, "station": "PACK-01", "user": "ben"}
    ]
    assert tote.tote_id not in packing.waiting_totes(10)


def test_a_tote_the_station_has_not_heard_of_opens_by_its_packing_slip(store: Store) -> None:
    picking = PickingService(store)
    task = pick_all(picking, "PT-0002")
    picking.complete("PT-0002", "alice")
    order_id = task.totes[0].order_id or ""
    packing = PackingService(store, "PACK-01")
    with pytest.raises(ToteNotHeard, match="not heard yet which order tote T0500 holds") as exc:
        packing.open("T0500")
    assert (exc.value.tote, exc.value.order_id) == ("T0500", None)
    assert not packing.tote_known("T0500")
    view = packing.open(order_id, tote="T0500")  # the packing slip, the tote noted
    assert view.order.order_id == order_id
    assert sorted(packing.totes_holding(order_id)) == sorted([task.totes[0].tote_id, "T0500"])
    assert packing.tote_known("T0500")
    hold(store, "T0501", "SO-999999")
    with pytest.raises(ToteNotHeard, match="holds order SO-999999, which this station") as far:
        packing.open("T0501")
    assert (far.value.order_id, far.value.destination) == ("SO-999999", "PACK-02")
    assert "take it to PACK-02" in far.value.hint
    hold(store, "T0502", "SO-100020")  # an order this station has, not as picked
    with pytest.raises(ToteNotHeard, match="holds order SO-100020, which this station"):
        packing.open("T0502")


def push(store: Store, cursor: int, item: object) -> None:
    PushApplier(store).apply(
        PushMessage.model_validate({"device_id": "hh-01", "cursor": cursor, "item": item})
    )


def test_the_hubs_word_on_totes_is_applied_keeping_what_this_device_is_filling(
    store: Store,
) -> None:
    picking = PickingService(store)
    task = scanned(picking)
    mine = task.totes[0].tote_id
    listed = [
        SiteToteModel(tote=mine),  # the hub has not had the claim yet: still free there
        SiteToteModel.model_validate(
            {"tote": "T0200", "state": "holding", "order_id": "SO-100009", "destination": "PACK-02"}
        ),
        SiteToteModel(tote="T2000", cart="CART-50", cart_position=1),
    ]
    push(store, 1, ToteContents(totes=listed, registry=True).model_dump())
    with store.unit_of_work() as uow:
        codes = uow.totes.codes()
    assert codes == {mine, "T0200", "T2000"}  # the site's list: the others are gone
    assert tote_of(store, mine).state is ToteState.FILLING  # kept: its task is open here
    assert tote_of(store, "T0200").order_id == "SO-100009"
    assert tote_of(store, "T2000").cart == "CART-50"
    push(store, 2, ToteContents(totes=[SiteToteModel(tote="T0200")]).model_dump())
    assert tote_of(store, "T0200").state is ToteState.FREE  # packed elsewhere: free again
    # the hub pushes the task again before it heard of the totes: the scans are kept
    pushed = PickTaskModel.from_domain(task).model_dump()
    pushed["version"] = task.version + 1
    for tote in pushed["totes"]:
        tote["tote_id"] = ""
    push(store, 3, TaskAssigned(task=PickTaskModel.model_validate(pushed)).model_dump())
    assert [t.tote_id for t in picking.task("PT-0001").totes] == [t.tote_id for t in task.totes]


def test_the_hubs_word_heard_before_the_site_list_is_loaded_is_kept(tmp_path: Path) -> None:
    fresh = Store.open(tmp_path / "hh-02.db", device_id="hh-02", site="dc1")
    try:
        holding = {"tote": "T0001", "state": "holding", "order_id": "SO-100009"}
        PushApplier(fresh).apply(
            PushMessage.model_validate(
                {
                    "device_id": "hh-02",
                    "cursor": 1,
                    "item": ToteContents(
                        totes=[SiteToteModel.model_validate(holding)]
                    ).model_dump(),
                }
            )
        )
        load_demo(fresh, small_site())  # the site's tote list T0001... arrives second
        assert tote_of(fresh, "T0001").order_id == "SO-100009"
        assert tote_of(fresh, "T0002").state is ToteState.FREE
    finally:
        fresh.close()


def test_a_tote_the_hub_refused_comes_off_its_position_once(store: Store) -> None:
    picking = PickingService(store)
    task = scanned(picking, "PT-0002")
    first = task.ordered_lines()[0]
    task = picking.confirm("PT-0002", first.line_id, first.qty, "alice").task
    tote = task.tote_for(first.tote_position)
    assert tote is not None
    picking.confirm_put("PT-0002", first.line_id, tote.tote_id, "alice")
    claim = next(
        r.seq
        for r in store.pending()
        if r.type == "tote.assigned" and r.payload["tote"] == tote.tote_id
    )
    assert "taken off position" in take_back_refused_tote(store, claim)
    again = picking.task("PT-0002")
    assert [t.position for t in again.totes_to_scan()] == [first.tote_position]
    assert again.line(first.line_id).put_tote == ""
    assert tote_of(store, tote.tote_id).state is ToteState.FREE
    assert take_back_refused_tote(store, claim) == ""  # told twice: nothing more
    with pytest.raises(DomainError, match="has totes still to scan"):
        picking.confirm("PT-0002", task.ordered_lines()[1].line_id, 1, "alice")
    task = picking.assign_totes("PT-0002", "T0300", "alice").task
    assert picking.put_due(task) == task.line(first.line_id)  # its put, into the new tote


def test_a_tote_refused_as_holding_another_order_is_not_offered_again(store: Store) -> None:
    """The hub said the tote still holds another picker's order: the device notes it, so
    the next free tote is offered (the demo hint moves on), until the hub frees it."""
    picking = PickingService(store)
    task = started(picking, "PT-0002")
    code = picking.free_totes(1)[0]
    picking.assign_totes("PT-0002", code, "alice")
    claim = next(
        r.seq for r in store.pending() if r.type == "tote.assigned" and r.payload["tote"] == code
    )
    assert "taken off position" in take_back_refused_tote(store, claim, "SO-100004")
    assert tote_of(store, code).state is ToteState.HOLDING
    assert tote_of(store, code).order_id == "SO-100004"
    assert code not in picking.free_totes(1000)
    assert picking.free_totes(1)[0] != code
    assert picking.task("PT-0002").totes_to_scan()[0].position == task.totes_to_scan()[0].position
