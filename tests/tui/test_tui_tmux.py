"""The installed app in a real terminal: tmux runs ``floor-app --demo`` and a person's keys
(typed scans, the totes first, each put confirmed by its tote) complete a pick task; the
screen is read back with capture-pane."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from terminal import TMUX, Terminal, app_command

from floor_app.settings import load_settings
from floor_app.store import Store

pytestmark = [pytest.mark.tui, pytest.mark.integration]


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)")
def test_a_pick_typed_into_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color"}
    env["TMUX_TMPDIR"] = str(tmp_path)
    name = "floor-tui-test"
    term = Terminal(name, env)
    term.tmux(
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "80",
        "-y",
        "24",
        f"{app_command()} --demo --reset",
    )
    try:
        term.wait_for("Scan your badge")
        term.type("B1001")
        term.wait_for("PT-0002")
        term.tmux("send-keys", "-t", name, "Down")
        term.tmux("send-keys", "-t", name, "Enter")
        for tote in range(4):  # an empty tote per position, as the demo's hint says
            shown = term.wait_for(f"totes {tote}/4")
            hint = next(line for line in shown.splitlines() if "Demo — type:" in line)
            term.type(hint.split("type:")[1].strip().split(" · ")[0])
        term.wait_for("stop 1/4")
        for stop in range(1, 5):
            shown = term.wait_for(f"stop {stop}/4")
            hint = next(line for line in shown.splitlines() if "Demo — type:" in line)
            location, gtin = hint.split("type:")[1].strip().split(" · ")
            term.type("WRONG-1")
            term.wait_for("unknown code")
            term.type(location)
            # Two stops at one location: "Scan the item" may already show, so wait until
            # the location scan itself was taken (the wrong-code message is replaced).
            term.wait_until(lambda shown: "Scan the item" in shown and "unknown code" not in shown)
            qty = int(
                next(line for line in shown.splitlines() if "Qty " in line)
                .split("Qty ")[1]
                .split("/")[1]
                .split(" ")[0]
            )
            for _ in range(qty):
                term.type(gtin)
            shown = term.wait_for("and scan the tote")  # the put, confirmed by its tote
            hint = next(line for line in shown.splitlines() if "Demo — type:" in line)
            term.type(hint.split("type:")[1].strip())
            if stop < 4:
                term.wait_for(f"stop {stop + 1}/4")
        term.wait_for("take each tote")  # the end of the task names every tote
        term.tmux("send-keys", "-t", name, "Enter")
        term.wait_until(lambda shown: "take each tote" not in shown and "PT-0002 done" in shown)
        term.tmux("send-keys", "-t", name, "C-q")
        term.wait_for("Quit floor")
        term.tmux("send-keys", "-t", name, "y")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and name in term.tmux("ls"):
            time.sleep(0.1)
    finally:
        term.tmux("kill-session", "-t", name)
    settings = load_settings(None, store={"data_dir": str(tmp_path / "floor" / "demo")})
    store = Store.open(settings.db_path, device_id=settings.device.id)
    try:
        with store.unit_of_work() as uow:
            assert uow.tasks.get("PT-0002").state.value == "done"
        types = [r.type for r in store.pending()]
        assert types[0] == "user.logged_in" and types[-1] == "task.completed"
    finally:
        store.close()
