"""The living demo site: seconds from floor-demo to the badge prompt with hub and broker up.

``floor-bench demo_site --json [--runs 3]`` prints ``demo_site_start_s``: the best of
``--runs`` starts on a state folder set up by a first run, which is not counted (that run
is ``demo_site_first_start_s``: the hub loads the demo site into an empty database and the
device's store is seeded). ``demo_site_badge_s`` is the badge prompt alone.

Each run starts the real launcher (``floor-demo``, what ``make demo`` runs) in an 80x24
pseudo-terminal and stops the clock once the app has drawn the badge prompt, ``site.json``
says the hub is ready (its ``READY=1``: connected to the broker and subscribed) and the
broker accepts connections. Then ctrl+q and y quit the app and the launcher stops the site,
outside the clock. ``floor-bench ui`` reports ``demo_site_start_s`` too.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from sim.demo_broker import accepts, find_mosquitto
from sim.demo_site import StateFolder

CTRL_Q = b"\x11"


def launcher_command(state: Path) -> list[str]:
    """``floor-demo --state STATE`` as installed beside this interpreter (else the module)."""
    installed = Path(sys.executable).parent / "floor-demo"
    command = [str(installed)] if installed.exists() else [sys.executable, "-m", "sim.demo_site"]
    return [*command, "--state", str(state)]


def _broker_up(site: dict[str, object]) -> bool:
    host_port = str(site.get("broker", "")).removeprefix("mqtt://")
    host, _, port = host_port.rpartition(":")
    return bool(host) and port.isdigit() and accepts(host, int(port))


def start_once(state: Path, timeout: float = 60.0) -> tuple[float, float]:
    """One start of the demo site in a pty: (seconds to the badge prompt with the hub and
    the broker up, seconds to the badge prompt alone)."""
    folder = StateFolder(state)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.set_blocking(master, False)
    env = {**os.environ, "TERM": "xterm-256color"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        launcher_command(state),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    badge: float | None = None
    hub: float | None = None
    broker: float | None = None
    deadline = start + timeout
    try:
        while time.perf_counter() < deadline and None in (badge, hub, broker):
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            now = time.perf_counter() - start
            if badge is None and b"badge" in seen:
                badge = now
            site = folder.read_site() or {}
            if hub is None and site.get("hub_ready"):
                hub = now
            if broker is None and site and _broker_up(site):
                broker = time.perf_counter() - start
        if badge is None or hub is None or broker is None:
            raise RuntimeError(
                f"the demo site did not come up within {timeout:.0f} s "
                f"(badge {badge}, hub {hub}, broker {broker}): {seen[-500:]!r}"
            )
        os.write(master, CTRL_Q)
        time.sleep(0.3)  # the question is on screen
        os.write(master, b"y")
        _drain_until_exit(master, proc, 60.0)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        os.close(master)
    if proc.returncode != 0:
        raise RuntimeError(f"floor-demo ended with status {proc.returncode}")
    return max(badge, hub, broker), badge


def _drain_until_exit(master: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Read the pty (a full pty would block the app's last frames) until the launcher ends."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                time.sleep(0.05)


def measure(runs: int = 3) -> dict[str, float]:
    """The figures of the module docstring."""
    if find_mosquitto() is None:
        raise RuntimeError("the demo site needs Mosquitto (apt-get install mosquitto)")
    state = Path(tempfile.mkdtemp(prefix="floor-bench-demo-")) / "site"
    first, first_badge = start_once(state)
    starts = [start_once(state) for _ in range(runs)]
    return {
        "demo_site_start_s": round(min(s for s, _ in starts), 3),
        "demo_site_start_max_s": round(max(s for s, _ in starts), 3),
        "demo_site_badge_s": round(min(b for _, b in starts), 3),
        "demo_site_first_start_s": round(first, 3),
        "demo_site_first_badge_s": round(first_badge, 3),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench demo_site", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    result: dict[str, float | str] = {"name": "demo_site"}
    result.update(measure(args.runs))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
