"""No scan is merged, lost or able to crash the app.

In a real terminal (tmux), as a scanner types: a location scanned 100 ms after the badge
reaches the task list, not the badge field; a burst of 20 scans 10 ms apart, sent while
the pick screen is still being built, is answered scan by scan exactly as the picking
service answers the same scans. In the app (Pilot): an error no handler caught is logged
with its traceback, the user is back on a fresh home screen with their work kept, and
more than three in a minute end the app with status 70.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import context_from_seed
from terminal import TMUX, Terminal, app_command, terminal_env
from textual.widgets import Static

from device_drivers.fakes import FakeScanner
from floor_app.context import AppContext
from floor_app.domain.picking import PickTask
from floor_app.services.picking import PickingService
from floor_app.store import Store
from floor_app.ui.app import EXIT_SOFTWARE, FloorApp
from floor_app.ui.screens.picker_home import PickerHomeScreen

pytestmark = [pytest.mark.tui, pytest.mark.integration]

needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")


def demo_store(tmp_path: Path) -> Path:
    return tmp_path / "floor" / "demo" / "floor-hh-01.db"


def started_app(tmp_path: Path, name: str) -> Terminal:
    """``floor-app --demo --reset`` in tmux at 80x24, its badge prompt painted."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    term = Terminal(name, terminal_env(tmp_path))
    term.start(f"{app_command()} --demo --reset")
    term.wait_for("Scan your badge", timeout=60)
    return term


@needs_tmux
def test_a_scan_right_behind_the_badge_reaches_the_task_list(tmp_path: Path) -> None:
    for start in range(3):
        term = started_app(tmp_path / str(start), f"floor-gate-badge-{start}")
        try:
            term.type("B1001")  # the moment the prompt shows
            time.sleep(0.1)
            term.type("A01-01-1A")  # the first stop of PT-0001: the scan opens that task
            shown = term.wait_for("PT-0001 · totes 0/4", timeout=30)
            assert "not known" not in shown and "EXIT=" not in shown
        finally:
            term.stop()


def pick_scans(store_path: Path, task_id: str, count: int) -> tuple[list[str], PickTask]:
    """The first ``count`` scans a picker makes in ``task_id`` (totes first, then per
    line its location when it changes, each unit, its tote), each applied in turn to a
    copy of the store by the picking service; and the task after them."""
    copy = store_path.with_name("expected.db")
    with sqlite3.connect(store_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = Store.open(copy, device_id="hh-01")
    picking = PickingService(store)
    scans: list[str] = []
    try:
        task = picking.start(task_id, "alice").task
        while task.totes_to_scan() and len(scans) < count:
            scans.append(picking.free_totes(1)[0])
            task = picking.assign_totes(task_id, scans[-1], "alice").task
        at = ""
        while len(scans) < count:
            put = picking.put_due(task)
            if put is not None:
                tote = task.tote_for(put.tote_position)
                assert tote is not None
                scans.append(tote.tote_id)
                task = picking.confirm_put(task_id, put.line_id, tote.tote_id, "alice").task
                continue
            line = task.next_line()
            assert line is not None, "the task has fewer scans than asked for"
            if line.location != at:
                scans.append(line.location)
                at = line.location
                continue
            scans.append(line.gtin.lstrip("0"))
            task = picking.confirm(task_id, line.line_id, 1, "alice").task
    finally:
        store.close()
    return scans, task


def task_state(store_path: Path, task_id: str) -> list[tuple[str, int, str]]:
    """Each line of ``task_id``: (line, units picked, tote its put was confirmed into)."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT line_id, picked, put_tote FROM pick_lines WHERE task_id = ? ORDER BY sequence",
            (task_id,),
        ).fetchall()
    return [(str(a), int(b), str(c)) for a, b, c in rows]


@needs_tmux
def test_twenty_scans_ten_ms_apart_are_each_answered_once(tmp_path: Path) -> None:
    term = started_app(tmp_path, "floor-gate-burst")
    try:
        term.type("B1001")
        term.wait_for("PT-0001")
        scans, expected = pick_scans(demo_store(tmp_path), "PT-0001", 20)
        term.key("Enter")  # open PT-0001; the burst starts while its screen is built
        for code in scans:
            term.type(code)
            time.sleep(0.01)
        want = [
            (line.line_id, line.picked, line.put_tote)
            for line in sorted(expected.lines, key=lambda line: line.sequence)
        ]
        deadline = time.monotonic() + 30
        while task_state(demo_store(tmp_path), "PT-0001") != want:
            assert time.monotonic() < deadline, (
                f"{task_state(demo_store(tmp_path), 'PT-0001')} != {want}\n{term.screen()}"
            )
            time.sleep(0.1)
        shown = term.screen()
        assert "unknown code" not in shown and "not known" not in shown
        assert "EXIT=" not in shown
        # nothing more came of the burst once it was answered
        time.sleep(0.5)
        assert task_state(demo_store(tmp_path), "PT-0001") == want
    finally:
        term.stop()


# -- errors no handler caught ---------------------------------------------------------------


class Boom(RuntimeError):
    pass


def scanned_ctx(seed: Path, tmp_path: Path) -> tuple[AppContext, FakeScanner]:
    """The demo device with a hardware scanner the test scans with."""
    ctx = context_from_seed(seed, tmp_path, bell=False)
    scanner = FakeScanner("scanner")
    scanner.start()
    ctx.devices.scanners.append(scanner)
    return ctx, scanner


@pytest.fixture
def failing_home(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The picker's home screen fails on every scan; the scans it got."""
    seen: list[str] = []

    def fail(self: PickerHomeScreen, text: str, source: str = "keyboard") -> None:
        seen.append(text)
        raise Boom(f"cannot handle {text}")

    monkeypatch.setattr(PickerHomeScreen, "handle_scan", fail)
    return seen


def test_an_error_in_a_handler_is_logged_and_the_user_is_back_home_with_the_work_kept(
    seeded_store: Path,
    tmp_path: Path,
    failing_home: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx, scanner = scanned_ctx(seeded_store, tmp_path)

    async def scenario() -> None:
        app = FloorApp(ctx)
        app.recover_errors = True
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            first = app.screen
            assert isinstance(first, PickerHomeScreen)
            # typed into the screen's field: the screen's own handler fails
            await pilot.press(*"A01-01-1A", "enter")
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.screen is not first
            shown = " ".join(n.message for n in app._notifications)  # the notification
            assert "Something went wrong (Boom)" in shown and "your work is saved" in shown
            # from a hardware scanner, through the app's own handler: the same
            second = app.screen
            scanner.scan("A01-02-1A")
            await pilot.pause()
            await pilot.pause()
            assert isinstance(app.screen, PickerHomeScreen) and app.screen is not second
            assert app.is_running and app.return_code is None
            assert app.session is not None and app.user_id == "alice"  # still logged in
            table = app.screen.query_one("#tasks")
            assert table is not None and str(app.screen.query_one("#empty", Static).render()) == ""

    with caplog.at_level(logging.ERROR, logger="floor.ui"):
        asyncio.run(scenario())
    assert failing_home == ["A01-01-1A", "A01-02-1A"]
    logged = [r for r in caplog.records if "back to a safe screen" in r.getMessage()]
    assert len(logged) == 2 and all(r.exc_info and r.exc_info[0] is Boom for r in logged)
    assert next(r.type for r in ctx.store.pending()) == "user.logged_in"  # the work is kept
    ctx.close()


def test_more_than_three_errors_in_a_minute_end_the_app_with_status_70(
    seeded_store: Path,
    tmp_path: Path,
    failing_home: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx, scanner = scanned_ctx(seeded_store, tmp_path)

    async def scenario() -> FloorApp:
        app = FloorApp(ctx)
        app.recover_errors = True
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            for n in range(4):
                scanner.scan(f"X{n}")
                await asyncio.sleep(0.2)
            deadline = time.monotonic() + 10
            while app.return_code is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return app

    with caplog.at_level(logging.ERROR, logger="floor.ui"):
        app = asyncio.run(scenario())
    assert failing_home == ["X0", "X1", "X2", "X3"]
    assert app.return_code == EXIT_SOFTWARE
    assert any("the app ends (status 70)" in r.getMessage() for r in caplog.records)
    ctx.close()


@needs_tmux
def test_a_store_that_cannot_open_is_in_the_log(tmp_path: Path) -> None:
    """The log is written before the store is opened: a refusal to start is in it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "floor-hh-01.db").write_bytes(b"this is not a database" * 100)
    config = tmp_path / "floor.toml"
    config.write_text(f'[store]\ndata_dir = "{data}"\n[sync]\nenabled = false\n')
    term = Terminal("floor-gate-store", terminal_env(tmp_path))
    term.start(f"{app_command()} --config {config}")
    try:
        shown = term.wait_for("EXIT=", timeout=60)
        assert "EXIT=0" not in shown
    finally:
        term.stop()
    log = (data / "floor-app.log").read_text()
    assert "cannot start" in log
