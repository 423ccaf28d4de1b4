"""``make demo`` in a real terminal: tmux runs ``floor-demo``, the badge prompt shows while
the site comes up, a pick typed on this device reaches the hub, a second terminal joins as
pack station ``pk-01`` and packs an order picked elsewhere, and ctrl+q (confirmed) stops the whole
site."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from support.mosquitto import require_mosquitto

from sim.demo_site import StateFolder

pytestmark = [pytest.mark.tui, pytest.mark.integration, pytest.mark.mqtt]

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 90.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


class Tmux:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *args], capture_output=True, text=True, env=self.env, timeout=10
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def shows(self, text: str, timeout: float = 90.0) -> str:
        return self.until(lambda screen: text in screen, f"{text!r} on screen", timeout)

    def settled(self) -> str:
        """The screen once two captures in a row agree (tmux may show a frame half drawn)."""
        screen = self.screen()
        for _ in range(100):
            time.sleep(0.05)
            again = self.screen()
            if again == screen:
                return screen
            screen = again
        return screen

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.name, "-l", text)
        self.run("send-keys", "-t", self.name, "Enter")

    def until(self, check: Callable[[str], bool], what: str, timeout: float = 90.0) -> str:
        """The screen once ``check`` holds for it."""

        def holds() -> str | None:
            screen = self.screen()
            return screen if check(screen) else None

        try:
            return wait_for(holds, what, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{self.screen()}") from None


def hint(screen: str, prefix: str = "Demo — type:") -> str:
    line = next((ln for ln in screen.splitlines() if prefix in ln), "")
    return line.split(prefix)[1].strip() if line else ""


def pick_step(screen: str) -> tuple[str, ...]:
    """Where the pick stands: the stop, the quantity picked, the totes and what to scan."""
    return tuple(
        line.strip()
        for line in screen.splitlines()
        if " · stop " in line
        or "totes " in line
        or line.strip().startswith(("Qty ", "Scan ", "Put it in tote"))
    )


def pick_the_task(term: Tmux) -> None:
    """Follow the pick screen's demo hint, stop after stop, until the task is done: its
    totes first, then each location, item and put into its tote; each scan waits until the
    pick moved on or the hint changed (the header changes by itself)."""
    for _ in range(300):
        screen = term.settled()
        if "Demo — type:" not in screen:
            return
        codes = hint(screen).split(" · ")
        step = pick_step(screen)
        at_location = any(line.startswith("Scan location") for line in step)
        at_item = any(line.startswith("Scan the item") for line in step)
        if len(codes) == 2 and (at_location or at_item):
            term.type(codes[0] if at_location else codes[1])
        else:  # a tote: an empty one at the start, the put's tote after an item
            term.type(codes[0])
        # the pick moved on, or (a tote the hub refused as busy: the device knows it now)
        # the hint offers other codes
        screen = term.until(
            lambda s, step=step, offered=codes: (
                pick_step(s) != step or "Demo — type:" not in s or hint(s).split(" · ") != offered
            ),
            "the next scan",
        )
    raise AssertionError(f"the task did not end:\n{screen}")


def prompt(screen: str) -> str:
    """The pack station's prompt: the line under its title."""
    lines = screen.splitlines()
    at = next(n for n, line in enumerate(lines) if "Pack station PACK-01" in line)
    return lines[at + 1].strip()


def pack_one_order(term: Tmux) -> str:
    """Log a packer in, open the first tote the hint names (the hub said which order it
    holds) and pack its order to its label, one step at a time: each scan waits until the
    prompt moved on (the screen also changes by itself: the scale, the printer)."""
    term.type("B2001")
    screen = term.shows("Demo — type: T", timeout=180)
    tote = hint(screen).split(" · ")[0]
    term.type(tote)
    screen = term.shows("Packing SO-")
    order = next(w for w in screen.split() if w.startswith("SO-"))
    for _ in range(60):
        screen = term.settled()
        if f"Order {order} packed and labelled" in screen:
            return order
        step = prompt(screen)
        if step.startswith(("Scan each item", "Scan the printed label")):
            term.type(hint(screen))
        term.until(lambda s, step=step: prompt(s) != step, f"past {step!r}")
    raise AssertionError(f"{order} not packed:\n{screen}")


def hub_events(db: Path, device: str) -> list[str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT type FROM inbox WHERE device_id = ?", (device,))
            return [t for (t,) in rows]
    except sqlite3.OperationalError:
        return []


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_make_demo_badge_first_picks_reach_the_hub_a_joined_station_packs(tmp_path: Path) -> None:
    require_mosquitto()
    env = {**os.environ, "TERM": "xterm-256color", "TMUX_TMPDIR": str(tmp_path)}
    state = StateFolder(tmp_path / "site")
    launcher = Path(sys.executable).parent / "floor-demo"
    command = f"{launcher if launcher.exists() else f'{sys.executable} -m sim.demo_site'}"
    command += f" --state {state.root}"
    term = Tmux("floor-demo-test", env)
    options = " --pace 0.5 --orders-every 2 --backlog 6"
    term.run("new-session", "-d", "-s", term.name, "-x", "80", "-y", "24", command + options)
    pids: dict[str, int] = {}
    try:
        term.shows("Scan your badge")
        site = wait_for(
            lambda: state.read_site() if (state.read_site() or {}).get("hub_ready") else None,
            "hub ready",
        )
        term.type("B1001")
        # the hub leases a task to this device, online and least loaded: it shows by itself
        term.shows("PT-0", timeout=120)
        term.run("send-keys", "-t", term.name, "Enter")
        term.shows("Demo — type:")
        pick_the_task(term)
        wait_for(
            lambda: "task.completed" in hub_events(tmp_path / "site" / "hub.db", "hh-01"),
            "this device's picks reach the hub",
        )
        assert "pick.confirmed" in hub_events(tmp_path / "site" / "hub.db", "hh-01")
        site = state.read_site() or site
        pids = dict(site["pids"])
        assert set(pids) == {"broker", "app", "hub", "colleagues"}

        # a second terminal: the pack station pk-01 packs an order picked elsewhere (by this
        # terminal or a colleague: the hub gave each order a station when it made the tasks)
        packer = Tmux(f"{term.name}:join", env)
        term.run("new-window", "-t", term.name, "-n", "join", f"{command} join --role packer")
        packer.shows("pk-01")
        packer.shows("Scan your badge")
        order = pack_one_order(packer)
        wait_for(
            lambda: "label.confirmed" in hub_events(tmp_path / "site" / "hub.db", "pk-01"),
            f"pk-01's label for {order} reaches the hub",
        )
        packer.run("send-keys", "-t", packer.name, "C-q")
        packer.shows("Quit floor")
        packer.run("send-keys", "-t", packer.name, "y")
        term.run("send-keys", "-t", f"{term.name}:0", "C-q")
        term.shows("Quit floor")
        term.run("send-keys", "-t", f"{term.name}:0", "y")
        wait_for(lambda: term.name not in term.run("ls"), "the demo ends", timeout=60)
    finally:
        term.run("kill-server")

    def all_gone() -> bool:
        for pid in pids.values():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            return False
        return True

    wait_for(all_gone, f"every process of the site ends: {pids}", timeout=30)
    assert not state.site_file.exists()
    log = (state.root / "demo.log").read_text()
    assert "signal" not in log  # ended by the app's ctrl+q
