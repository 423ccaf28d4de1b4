"""The supervisor's board and decisions, and the idle lock, on a real store: every device the
hub knows (offline ones too) at 80x24 and 40x16, the footer's keys all on screen, details
on Enter, reason codes and confirmations before anything is decided, and the history."""

from __future__ import annotations

import asyncio
import time

import pytest
from pilot_steps import put_tote, totes_scanned
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from floor_app.context import AppContext, DevicePresenceSource
from floor_app.domain.order import OrderState
from floor_app.domain.picking import ShortReason, TaskState
from floor_app.services.supervision import LocalSupervisorFeed
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.lock import LockScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen
from floor_app.ui.screens.supervisor_home import SupervisorHomeScreen
from sync.device.supervisor_feed import FeedSettings, MqttSupervisorFeed
from sync.mqtt import LinkOptions, parse_broker_url
from sync.protocol import (
    CountDifference,
    DecisionEntry,
    DecisionLog,
    DeviceRoster,
    DeviceStatus,
    Health,
    RosterDevice,
)

pytestmark = pytest.mark.tui


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


text_of = _text


def footer_keys(app: FloorApp) -> list[str]:
    """The keys the footer shows, left to right."""
    keys = sorted(app.screen.query(FooterKey), key=lambda k: k.region.x)
    return [k.key for k in keys]


def _make_exceptions(ctx: AppContext) -> tuple[str, str]:
    picking = ctx.picking
    task = totes_scanned(ctx, "PT-0002")
    line = task.ordered_lines()[0]
    picking.report_short(task.task_id, line.line_id, line.qty, ShortReason.DAMAGED, "alice")
    for ln in task.ordered_lines()[1:]:
        picking.confirm(task.task_id, ln.line_id, ln.qty, "alice")
        picking.confirm_put(task.task_id, ln.line_id, put_tote(task, ln.line_id), "alice")
    picking.complete(task.task_id, "alice")
    assert ctx.packing is not None
    view = ctx.packing.open("T0905")
    ctx.packing.hold(view.session.session_id, "Item missing", "ben")
    return line.order_id, view.order.order_id


def test_views_and_decisions(demo_ctx: AppContext) -> None:
    short_order, held_order = _make_exceptions(demo_ctx)
    picking = demo_ctx.picking
    picking.start("PT-0003", "wangfang")
    assert demo_ctx.supervisor is not None
    assert isinstance(demo_ctx.supervisor, LocalSupervisorFeed)
    demo_ctx.supervisor.clock = lambda: time.time() + 700  # PT-0003 is stalled by now

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B3001", "enter")
            await pilot.pause()
            devices = app.screen.query_one("#devices", DataTable)
            assert devices.row_count == 1 and "hh-01" in str(devices.get_row_at(0)[0])
            await pilot.press("3")
            through = app.screen.query_one("#throughput", DataTable)
            rows = {
                str(through.get_row_at(i)[0]): through.get_row_at(i)
                for i in range(through.row_count)
            }
            assert "alice" in rows and int(rows["alice"][1]) > 0
            await pilot.press("4")
            backlog = app.screen.query_one("#bottlenecks", DataTable)
            stages = [str(backlog.get_row_at(i)[0]) for i in range(backlog.row_count)]
            assert stages[0] == "received" and "held" in stages
            await pilot.press("a")  # no exception selected here: the key does nothing
            await pilot.pause()
            assert isinstance(app.screen, SupervisorHomeScreen)
            await pilot.press("2")
            exc = app.screen.query_one("#exceptions", DataTable)
            kinds = {
                str(exc.get_row_at(i)[1]): str(exc.get_row_at(i)[0]) for i in range(exc.row_count)
            }
            assert kinds == {short_order: "short", held_order: "held", "PT-0003": "stalled"}
            subjects = [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)]
            exc.move_cursor(row=subjects.index(short_order))
            await pilot.pause()
            assert sorted(footer_keys(app)) == ["a", "ctrl+l", "ctrl+q", "enter"]
            await pilot.press("r")  # not for a short: not offered, nothing happens
            await pilot.pause()
            assert isinstance(app.screen, SupervisorHomeScreen)
            await pilot.press("a")  # asks why; Esc: nothing decided
            await pilot.pause()
            assert app.screen.id == "decision-reason" and short_order in text_of(app, ".title")
            await pilot.press("escape")
            await pilot.pause()
            assert all(r.type != "order.short_approved" for r in demo_ctx.store.pending())
            await pilot.press("a", "2")  # stock damaged
            await pilot.pause()
            assert f"Short of {short_order} approved: Stock damaged" in text_of(app, "#message")
            subjects = [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)]
            exc.move_cursor(row=subjects.index(held_order))
            await pilot.pause()
            assert sorted(footer_keys(app)) == ["ctrl+l", "ctrl+q", "enter", "r"]
            await pilot.press("r", "4")  # checked, all fine
            await pilot.pause()
            subjects = [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)]
            exc.move_cursor(row=subjects.index("PT-0003"))
            await pilot.press("t", "2")  # the second picker in the list: asked to confirm
            await pilot.pause()
            assert app.screen.id == "confirm"
            await pilot.press("n")
            await pilot.pause()
            assert exc.row_count == 1
            await pilot.press("t", "2", "enter")
            await pilot.pause()
            assert "given to" in text_of(app, "#message")
            assert exc.row_count == 0
            await pilot.press("5")  # the history: what, why, who
            history = app.screen.query_one("#history", DataTable)
            rows = [[str(c) for c in history.get_row_at(i)] for i in range(history.row_count)]
            assert [r[1:] for r in rows] == [
                ["task given", "PT-0003", "-", "grace"],
                ["hold released", held_order, "Checked, all fine", "grace"],
                ["short approved", short_order, "Stock damaged", "grace"],
            ]
            history.move_cursor(row=2)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.id == "details"
            assert "Reason: Stock damaged" in text_of(app, "#details-lines")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, SupervisorHomeScreen)
        with demo_ctx.store.unit_of_work() as uow:
            assert uow.orders.get(short_order).state is OrderState.PICKED
            assert uow.orders.get(held_order).state is OrderState.PACKING
            task = uow.tasks.get("PT-0003")
        assert task.state is TaskState.ASSIGNED and task.assigned_to != "wangfang"
        claims = [r for r in demo_ctx.store.pending() if r.kind == "claim"]
        assert [(r.type, r.payload.get("reason")) for r in claims][-3:] == [
            ("order.short_approved", "damaged_stock"),
            ("order.released", "checked_ok"),
            ("task.reassigned", None),
        ]

    asyncio.run(scenario())


def test_idle_lock_keeps_the_work_and_opens_with_a_badge(demo_ctx: AppContext) -> None:
    demo_ctx.settings = demo_ctx.settings.model_copy(
        update={"ui": demo_ctx.settings.ui.model_copy(update={"idle_lock_s": 60})}
    )

    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            app.check_idle_lock(time.monotonic() + 61)
            await pilot.pause()
            assert isinstance(app.screen, LockScreen)
            await pilot.press(*"B1999", "enter")  # a disabled user
            await pilot.pause()
            assert "disabled" in _text(app, "#message")
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.user_id == "alice"
            app.check_idle_lock(time.monotonic() + 61)
            await pilot.pause()
            await pilot.press(*"B1002", "enter")  # another picker takes over
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.user_id == "wangfang"
            types = [r.type for r in demo_ctx.store.pending()]
            assert types == ["user.logged_in", "user.logged_out", "user.logged_in"]

    asyncio.run(scenario())


class SiteFeed(MqttSupervisorFeed):
    """The site's feed as the hub and the devices fill it, without a broker: the test
    hands it the retained messages a broker would."""

    def follow(self) -> None:
        self.followed = True


def site_feed(ctx: AppContext) -> SiteFeed:
    feed = SiteFeed(
        ctx.store,
        DevicePresenceSource(ctx),
        FeedSettings(link=LinkOptions(parse_broker_url("mqtt://127.0.0.1:1")), site="dc1"),
        clock=ctx.clock,
    )
    now = time.time()
    feed.apply_roster(
        DeviceRoster(
            devices=[
                RosterDevice(device_id="hh-02", role="picker", state="online", seen_at=now),
                RosterDevice(
                    device_id="hh-03",
                    role="picker",
                    state="offline",
                    seen_at=now - 900,
                    reason="connection lost",
                ),
                RosterDevice(device_id="pk-01", role="packer", station="PACK-01"),
                RosterDevice(device_id="sv-01", role="supervisor", state="offline", seen_at=now),
            ],
            at=now,
        )
    )
    feed.apply_status(
        "hh-02",
        DeviceStatus(
            device_id="hh-02",
            state="online",
            epoch=2,
            at=now,
            health=Health(
                devices={"scanner": "ready", "printer": "paper_out"},
                outbox_depth=3,
                oldest_unsent_age_s=40,
                user="alice",
                battery_pct=64,
            ),
        ),
    )
    feed.apply_count_difference(
        "7",
        CountDifference(
            count_id=7,
            task_id="ST-000002",
            location="A01-01-2A",
            sku="SKU-00001",
            expected=43,
            counted=37,
            user="bob",
            reason="recount",
            at=now - 60,
        ),
    )
    feed.apply_decisions(
        DecisionLog(
            decisions=[
                DecisionEntry(
                    event_id="01OVERRIDE",
                    kind="accept_weight",
                    subject="SO-100007",
                    reason="scale_fault",
                    user="grace",
                    detail="1240 g",
                    device_id="pk-01",
                    at=now - 120,
                )
            ],
            at=now,
        )
    )
    return feed


def keys_fit(app: FloorApp, width: int) -> None:
    """Every key of the footer is on the screen, none cut."""
    keys = list(app.screen.query(FooterKey))
    assert keys
    for key in keys:
        assert key.region.width > 0 and key.region.right <= width, (key.key, key.region)


@pytest.mark.parametrize(
    ("size", "language"), [((80, 24), "en"), ((40, 16), "en"), ((40, 16), "zh")]
)
def test_the_board_lists_every_device_the_hub_knows(
    demo_ctx: AppContext, size: tuple[int, int], language: str
) -> None:
    feed = site_feed(demo_ctx)
    demo_ctx.supervisor = feed
    width = size[0]

    async def scenario() -> None:
        app = FloorApp(demo_ctx, language=language)
        async with app.run_test(size=size) as pilot:
            await pilot.press(
                *("B3002" if language == "zh" else "B3001"), "enter"
            )  # zhangmin reads Chinese
            await pilot.pause()
            assert app.tr.language == language
            assert feed.followed  # the board asked the feed to follow the site
            devices = app.screen.query_one("#devices", DataTable)
            names = [str(devices.get_row_at(i)[0]) for i in range(devices.row_count)]
            assert names == ["● hh-01", "● hh-02", "○ hh-03", "○ pk-01", "○ sv-01"]
            assert len(devices.columns) == (6 if width >= 60 else 4)
            assert sum(c.get_render_width(devices) for c in devices.columns.values()) <= width
            hh02 = [str(c) for c in devices.get_row_at(1)]
            assert hh02[1] == "alice" and hh02[-1] in ("✗1", "scan✓ prin✗")
            keys_fit(app, width)
            devices.move_cursor(row=3)  # pk-01: registered, never came online
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.id == "details"
            details = text_of(app, "#details-lines")
            never = "从未" if language == "zh" else "never"
            assert never in details and "PACK-01" in details
            await pilot.press("escape")
            devices.move_cursor(row=1)
            await pilot.press("enter")
            await pilot.pause()
            details = text_of(app, "#details-lines")
            assert "paper_out" in details and "64%" in details and "3" in details
            await pilot.press("escape", "2")
            await pilot.pause()
            keys_fit(app, width)
            exc = app.screen.query_one("#exceptions", DataTable)
            assert [str(exc.get_row_at(i)[1]) for i in range(exc.row_count)] == [
                "A01-01-2A SKU-00001"
            ]
            assert sorted(footer_keys(app)) == ["ctrl+l", "ctrl+q", "enter", "k"]
            await pilot.press("k")  # asks first; n: nothing
            await pilot.pause()
            assert app.screen.id == "confirm"
            await pilot.press("n")
            await pilot.pause()
            assert exc.row_count == 1
            assert all(r.type != "count.acknowledged" for r in demo_ctx.store.pending())
            await pilot.press("k", "y")
            await pilot.pause()
            assert exc.row_count == 0
            for view in "345":
                await pilot.press(view)
                await pilot.pause()
                keys_fit(app, width)
            history = app.screen.query_one("#history", DataTable)
            rows = [[str(c) for c in history.get_row_at(i)] for i in range(history.row_count)]
            weighed = "接受重量" if language == "zh" else "weight accepted"
            assert [r[1:3] for r in rows][-1] == [weighed, "SO-100007"]
            history.move_cursor(row=len(rows) - 1)
            await pilot.press("enter")
            await pilot.pause()
            details = text_of(app, "#details-lines")
            assert "pk-01" in details and "1240 g" in details and "grace" in details
            assert ("秤不准" if language == "zh" else "The scale is off") in details
        acknowledged = [r for r in demo_ctx.store.pending() if r.type == "count.acknowledged"]
        assert [r.payload["count_id"] for r in acknowledged] == [7]

    asyncio.run(scenario())
