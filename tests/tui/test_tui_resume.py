"""Resume: after a restart (``kill -9`` in a real terminal), a power loss or the idle lock,
the user's login lands on the task and the step in progress; the task in progress heads
the list; a pack station's parcel left open is on screen again at the packer's login."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import context_from_seed
from pilot_steps import totes_scanned
from terminal import TMUX, Terminal, app_command, terminal_env
from textual.widgets import DataTable

from floor_app.ui.app import FloorApp
from floor_app.ui.screens.packer_home import PackerHomeScreen
from floor_app.ui.screens.pick import PickScreen
from floor_app.ui.screens.picker_home import PickerHomeScreen

pytestmark = pytest.mark.tui


def hint(shown: str) -> str:
    """The first code the demo hint line offers."""
    line = next(line for line in shown.splitlines() if "Demo — type:" in line)
    return line.split("type:")[1].strip().split(" · ")[0]


def app_pid(term: Terminal) -> int:
    """The app's process: the child of the session's shell."""
    shell = term.tmux("list-panes", "-t", term.name, "-F", "#{pane_pid}").strip()
    out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout
    return int(out.split()[0])


@pytest.mark.integration
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")
def test_kill_9_mid_task_and_the_login_lands_on_the_same_step(tmp_path: Path) -> None:
    env = terminal_env(tmp_path)
    first = Terminal("floor-resume-1", env)
    first.start(f"{app_command()} --demo --reset")
    try:
        first.wait_for("Scan your badge", timeout=60)
        first.type("B1001")
        first.wait_for("PT-0001")
        first.key("Enter")
        for tote in range(4):
            first.type(hint(first.wait_for(f"totes {tote}/4")))
        shown = first.wait_for("stop 1/11")
        location = hint(shown)
        first.type(location)
        shown = first.wait_for("Scan the item")
        first.type(shown.split("Demo — type:")[1].split(" · ")[1].split()[0])
        first.type(hint(first.wait_for("and scan the tote")))
        first.wait_for("stop 2/11")
        os.kill(app_pid(first), signal.SIGKILL)
        assert "EXIT=137" in first.wait_for("EXIT=")
    finally:
        first.stop()
    again = Terminal("floor-resume-2", env)
    again.start(app_command() + " --demo")
    try:
        again.wait_for("Scan your badge", timeout=60)
        again.type("B1001")
        shown = again.wait_for("PT-0001 · stop 2/11")  # not the task list: the same step
        assert "1 picked" in shown or "Scan location" in shown
    finally:
        again.stop()


def test_the_task_in_progress_opens_at_login_and_heads_the_list(
    seeded_store: Path, tmp_path: Path
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    totes_scanned(ctx, "PT-0003")  # started earlier on this device, before a restart

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PickScreen) and screen.pick_task.task_id == "PT-0003"
            await pilot.press("escape")  # back to the list: the task in progress first
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen)
            table = app.screen.query_one("#tasks", DataTable)
            rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert rows[0] == "PT-0003" and rows[1:] == sorted(rows[1:])

    asyncio.run(scenario())
    ctx.close()


def test_the_parcel_left_open_is_on_screen_again_at_the_packers_login(
    seeded_store: Path, tmp_path: Path
) -> None:
    ctx = context_from_seed(seeded_store, tmp_path)
    opened = ctx.packing.open("T0901")  # packing began, then the station restarted

    async def scenario() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B2001", "enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PackerHomeScreen) and screen.view is not None
            assert screen.view.session.session_id == opened.session.session_id
            assert opened.order.order_id in " ".join(
                str(w.render()) for w in screen.query("Static")
            )

    asyncio.run(scenario())
    ctx.close()
