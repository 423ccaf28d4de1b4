"""``floor-demo``, the living demo site: its broker, hub and colleagues come up, the
colleagues' work reaches the hub, and SIGTERM or SIGHUP stops every process it started.
Without Mosquitto it runs the device alone and says so."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from support.mosquitto import require_mosquitto

from floor_app.settings import load_settings
from sim.demo_broker import accepts
from sim.demo_site import StateFolder, device_config, main

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 90.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def inbox(db: Path) -> list[tuple[str, str]]:
    """(device, event type) of every event the hub recorded."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT device_id, type FROM inbox").fetchall()
    except sqlite3.OperationalError:  # not created yet, or busy
        return []


def read_pty(master: int, wait: float = 0.0) -> bytes:
    """What the pty holds now (waiting up to ``wait`` for the first bytes); b"" once the
    other side is closed."""
    out = b""
    while select.select([master], [], [], wait)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the last process on the terminal ended
            break
        if not chunk:
            break
        out += chunk
        wait = 0.0
    return out


def gone(pid: int) -> bool:
    """True when ``pid`` has ended (a zombie waiting for its new parent counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    state = next((ln for ln in status.splitlines() if ln.startswith("State:")), "")
    return "zombie" in state


class Site:
    """``floor-demo --headless`` on a state folder of its own."""

    def __init__(self, folder: Path, *extra: str) -> None:
        self.state = StateFolder(folder)
        command = [sys.executable, "-m", "sim.demo_site", "--state", str(folder), "--headless"]
        self.process = subprocess.Popen(
            [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def ready(self) -> dict[str, Any]:
        def up() -> dict[str, Any] | None:
            assert self.process.poll() is None, self.output()
            site = self.state.read_site()
            return site if site and site["hub_ready"] else None

        return wait_for(up, "the hub says it is ready")

    def stop(self, signum: int) -> str:
        self.process.send_signal(signum)
        out, _ = self.process.communicate(timeout=60)
        return out

    def output(self) -> str:
        return "\n".join(
            f"--- {name}\n{path.read_text(errors='replace')[-3000:]}"
            for name in ("demo.log", "hub.log", "colleagues.log")
            if (path := self.state.root / name).exists()
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def site_folder(tmp_path: Path) -> Iterator[Path]:
    require_mosquitto()
    yield tmp_path / "site"


def test_the_site_comes_up_works_and_stops_on_sigterm(site_folder: Path) -> None:
    site = Site(site_folder, "--pace", "0.2", "--orders-every", "1", "--backlog", "4")
    try:
        running = site.ready()
        pids = running["pids"]
        assert set(pids) == {"broker", "hub", "colleagues"}
        assert running["broker"].startswith("mqtt://127.0.0.1:")
        port = int(running["broker"].rsplit(":", 1)[1])
        assert accepts("127.0.0.1", port)
        # a second launcher on the same folder is refused; the running one is untouched
        assert main(["--state", str(site_folder), "--headless"]) == 1

        def worked() -> bool:
            seen = set(inbox(site_folder / "hub.db"))
            picked = {d for d, t in seen if t == "pick.confirmed"}
            return bool(picked & {"hh-02", "hh-03"}) and ("pk-02", "label.confirmed") in seen

        wait_for(worked, "colleagues' picks and a confirmed label reach the hub")
        out = site.stop(signal.SIGTERM)
    finally:
        site.kill()
    assert site.process.returncode == 0, out + site.output()
    assert "stopped colleagues, hub, broker" in out
    assert all(gone(pid) for pid in pids.values()), pids
    assert not accepts("127.0.0.1", port)
    assert not site.state.site_file.exists()
    assert "Traceback" not in site.output()


def test_a_hang_up_stops_everything_the_site_started(site_folder: Path) -> None:
    site = Site(site_folder)
    try:
        pids = site.ready()["pids"]
        assert "colleagues" in pids
        out = site.stop(signal.SIGHUP)
    finally:
        site.kill()
    assert site.process.returncode == 0, out + site.output()
    assert all(gone(pid) for pid in pids.values()), pids


def test_a_killed_launcher_leaves_no_process_behind(site_folder: Path) -> None:
    site = Site(site_folder)
    try:
        pids = site.ready()["pids"]
        assert "colleagues" in pids
        site.process.kill()  # SIGKILL: no teardown; the kernel tells the children
        site.process.wait(10)
        wait_for(lambda: all(gone(pid) for pid in pids.values()), f"{pids} end", timeout=60)
    finally:
        site.kill()


def test_sigterm_with_the_app_running_stops_the_app_and_the_site(site_folder: Path) -> None:
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.demo_site", "--state", str(site_folder)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(slave)
    state = StateFolder(site_folder)
    seen = b""

    def up() -> dict[str, Any] | None:
        nonlocal seen
        seen += read_pty(master)
        site = state.read_site()
        return site if site and site["hub_ready"] and b"badge" in seen else None

    try:
        pids = wait_for(up, "the badge prompt with the hub up")["pids"]
        assert set(pids) == {"app", "broker", "hub", "colleagues"}
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            seen += read_pty(master, 0.1)
        seen += read_pty(master)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        os.close(master)
    assert process.returncode == 0
    assert all(gone(pid) for pid in pids.values()), pids
    assert b"stopped colleagues, hub, app, broker" in seen


def test_without_mosquitto_the_device_runs_alone_and_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "FLOOR_MOSQUITTO": "", "XDG_STATE_HOME": str(tmp_path)}
    env["TERM"] = "xterm-256color"
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.demo_site"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"badge" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"badge" in seen, seen[-2000:]
    finally:
        process.terminate()
        process.wait(10)
        os.close(master)
    text = seen.decode(errors="replace")
    lines = [ln for ln in text.splitlines() if "Mosquitto is not installed" in ln]
    assert len(lines) == 1 and "runs alone" in lines[0]
    assert (tmp_path / "floor" / "demo").is_dir()  # floor-app --demo's own data
    assert not (tmp_path / "floor" / "demo-site").exists()


def test_join_needs_a_running_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["join", "--role", "packer", "--state", str(tmp_path)]) == 1
    assert "no demo site runs in" in capsys.readouterr().err


def test_a_joining_packer_is_station_pack_01_synced_with_the_site(tmp_path: Path) -> None:
    state = StateFolder(tmp_path)
    config = device_config(state, "pk-01", "mqtt://127.0.0.1:41234", "packer")
    settings = load_settings(config)
    assert (settings.device.id, settings.device.station) == ("pk-01", "PACK-01")
    assert settings.device.role is not None and settings.device.role.value == "packer"
    assert settings.sync.enabled and settings.sync.broker == "mqtt://127.0.0.1:41234"
    assert settings.db_path.parent == state.device_dir("pk-01")


def test_the_app_takes_hub_only_with_demo(capsys: pytest.CaptureFixture[str]) -> None:
    from floor_app.__main__ import main as app_main

    assert app_main(["--hub"]) == 2
    assert "--hub only goes with --demo" in capsys.readouterr().err
