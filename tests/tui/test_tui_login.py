"""Login and the role home screens, driven by key presses at 80x24 and at handheld size 40x16."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import context_from_seed
from textual.widgets import DataTable, Static

from floor_app.context import AppContext
from floor_app.domain.users import Role
from floor_app.ui.app import FloorApp
from floor_app.ui.screens.guard_dialogs import QuitScreen
from floor_app.ui.screens.login import LoginScreen
from floor_app.ui.screens.packer_home import PackerHomeScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen
from floor_app.ui.screens.supervisor_home import SupervisorHomeScreen

pytestmark = pytest.mark.tui
SIZES = [(80, 24), (40, 16)]


def _text(app: FloorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


@pytest.mark.parametrize("size", SIZES)
def test_badge_login_shows_the_pickers_tasks(demo_ctx: AppContext, size: tuple[int, int]) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=size) as pilot:
            assert isinstance(app.screen, LoginScreen)
            assert "hh-01" in _text(app, "#status-header")
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert app.role == "picker" and app.user_id == "alice"
            table = app.screen.query_one("#tasks", DataTable)
            assert table.row_count == 6
            header = _text(app, "#status-header")
            # the login event waits to sync: "outbox 1", or "↑1" on a narrow screen
            assert "Alice" in header and ("outbox 1" if size[0] >= 60 else "↑1") in header

    asyncio.run(scenario())


def test_unknown_and_disabled_badges_are_refused(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B7777", "enter")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            assert "not known" in _text(app, "#message")
            await pilot.press(*"B1999", "enter")
            await pilot.pause()
            assert "disabled" in _text(app, "#message")
            await pilot.press(*"hello", "enter")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            assert demo_ctx.store.outbox_stats()[0] == 0  # nothing was recorded

    asyncio.run(scenario())


def test_user_with_two_roles_chooses_by_digit(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1003", "enter")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            await pilot.press("2")
            await pilot.pause()
            assert isinstance(app.screen, PackerHomeScreen)
            assert app.role == "packer"
            records = demo_ctx.store.pending()
            assert [r.payload["role"] for r in records] == ["packer"]

    asyncio.run(scenario())


def test_pin_login_and_forced_role(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx, role=Role.SUPERVISOR)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f2", *"grace", "enter", *"0000", "enter")
            await pilot.pause()
            assert "wrong" in _text(app, "#message")
            await pilot.press(*"1234", "enter")
            await pilot.pause()
            assert isinstance(app.screen, SupervisorHomeScreen)
            table = app.screen.query_one("#bottlenecks", DataTable)
            assert table.row_count > 5

    asyncio.run(scenario())


def test_chinese_login_and_logout(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx, language="zh")
        async with app.run_test(size=(40, 16)) as pilot:
            assert "请扫描工牌" in _text(app, "#login-prompt")
            await pilot.press(*"B1002", "enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert "王芳" in _text(app, "#status-header")
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            types = [r.type for r in demo_ctx.store.pending()]
            assert types == ["user.logged_in", "user.logged_out"]

    asyncio.run(scenario())


def test_the_language_of_the_user_logging_in_applies_to_the_app_keys_too(
    demo_ctx: AppContext,
) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx, language="en")
        async with app.run_test(size=(80, 24)) as pilot:
            quit_key = app._bindings.key_to_bindings["ctrl+q"][0]
            assert quit_key.description == "Quit"
            await pilot.press(*"B1002", "enter")  # 王芳 reads Chinese
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            assert app._bindings.key_to_bindings["ctrl+q"][0].description == "退出"
            await pilot.press("ctrl+l")
            await pilot.pause()
            await pilot.press(*"B1001", "enter")  # Alice reads English
            await pilot.pause()
            assert app._bindings.key_to_bindings["ctrl+q"][0].description == "Quit"

    asyncio.run(scenario())


def test_packer_scans_an_order_and_a_wrong_code(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            await pilot.press(*"SO-100001", "enter")
            await pilot.pause()
            assert "not picked yet" in _text(app, "#message")
            await pilot.press(*"A01-01-1A", "enter")
            await pilot.pause()
            assert "not a tote or an order" in _text(app, "#message")
            await pilot.press(*"T0901", "enter")
            await pilot.pause()
            assert app.screen.query_one("#lines", DataTable).row_count >= 1

    asyncio.run(scenario())


def test_ctrl_q_asks_first_then_quits(demo_ctx: AppContext) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert isinstance(app.screen, QuitScreen)  # nothing ends on one key
            await pilot.press("ctrl+q", "enter")  # again, or a scanner's Enter: still asking
            await pilot.pause()
            assert isinstance(app.screen, QuitScreen) and app.is_running
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            await pilot.press("ctrl+q", "y")
            await pilot.pause()
        assert app.return_code in (0, None)
        assert not app.is_running

    asyncio.run(scenario())


def test_in_kiosk_mode_only_a_supervisors_badge_quits(seeded_store: Path, tmp_path: Path) -> None:
    ctx = context_from_seed(seeded_store, tmp_path, kiosk=True)

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")  # a picker at work
            await pilot.pause()
            await pilot.press("ctrl+q", "y")
            await pilot.pause()
            assert isinstance(app.screen, QuitScreen) and app.is_running  # y is not enough
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            shown = str(app.screen.query_one("#message", Static).render())
            assert "not a supervisor" in shown and app.is_running
            await pilot.press(*"B3001", "enter")  # the supervisor's badge
            await pilot.pause()
        assert not app.is_running

    asyncio.run(scenario())
    ctx.close()


def test_picker_enter_starts_the_first_task_with_its_totes_then_its_first_stop(
    demo_ctx: AppContext,
) -> None:
    async def scenario() -> None:
        app = FloorApp(demo_ctx)
        async with app.run_test(size=(40, 16)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            task = demo_ctx.picking.task("PT-0001")
            assert task.state.value == "in_progress"
            assert "empty tote for tote 1" in _text(app, "#prompt")
            await pilot.press(*"CART-01", "enter")  # one cart: a tote for every position
            await pilot.pause()
            first = task.ordered_lines()[0]
            assert first.location in _text(app, "#prompt")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)

    asyncio.run(scenario())
