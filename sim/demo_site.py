"""``floor-demo``: a living demo site on this machine, and more terminals joining it.

::

    floor-demo [--state DIR] [--reset] [--lang en|zh] [--pace S] [--orders-every S]
               [--backlog N] [--no-colleagues] [--headless]
    floor-demo join [--role picker|packer|supervisor] [--device-id ID] [--state DIR] [--lang L]

``floor-demo`` (``make demo``) runs a whole site from its state folder (default
``~/.local/state/floor/demo-site``, kept between runs; ``--reset`` starts afresh):

* a private Mosquitto on a free loopback port (``broker/``);
* ``floor-hub`` on SQLite (``hub.db``) with the demo site and no orders;
* this terminal's device ``hh-01``: ``floor-app --demo --hub``, the demo site's reference
  data and demo devices (keyboard wedge, demo scale, spool-folder printer) with sync on, so
  its tasks come from the hub and its picks go to it. It starts first and works offline
  until the broker and the hub are up;
* once the hub is ready, colleagues on the real device core (``floor-shift --pace``):
  pickers ``hh-02`` and ``hh-03`` and the pack station ``pk-02`` at ``PACK-02``, and new
  orders trickling in (:mod:`sim.demo_intake`).

``site.json`` in the state folder tells ``floor-demo join`` (and ``floor-bench``) where the
running site is. ``join`` runs another device of the same site in another terminal:
``pk-01`` at ``PACK-01`` for a packer, ``hh-04`` for a picker, ``sv-01`` for a supervisor.
The hub gives each picked order a pack station; the orders of ``PACK-01`` wait for the
joined packer.

Quitting the app (ctrl+q), or SIGTERM, SIGHUP or SIGINT to the launcher, stops everything it
started (:mod:`sim.demo_processes`). With ``--headless`` no app runs here: the site runs
until one of those signals. Without Mosquitto, ``floor-demo`` says so in one line and runs
the device alone (``floor-app --demo``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from .demo_broker import PrivateBroker, find_mosquitto, free_port
from .demo_processes import Child, Children

if TYPE_CHECKING:
    from .demo_intake import OrderTrickle

log = logging.getLogger("floor.demo")

SITE = "dc1"
TERMINAL = "hh-01"
COLLEAGUE_PICKERS = ("hh-02", "hh-03")
COLLEAGUE_STATION = "pk-02"
JOIN_DEVICES = {"picker": "hh-04", "packer": "pk-01", "supervisor": "sv-01"}
#: Leaves the alternate screen, shows the cursor and stops mouse reports: what a killed app
#: leaves undone in the terminal.
TERMINAL_RESET = "\x1b[?1000l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?25h\x1b[?1049l"


def default_state() -> Path:
    """``$XDG_STATE_HOME/floor/demo-site`` (``~/.local/state/floor/demo-site``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "floor" / "demo-site"


@dataclass(frozen=True, slots=True)
class StateFolder:
    """Where a demo site keeps everything: broker, hub, colleagues, devices, logs."""

    root: Path

    @property
    def site_file(self) -> Path:
        """``site.json``: the running site's broker, pids and whether the hub is ready."""
        return self.root / "site.json"

    @property
    def lock_file(self) -> Path:
        """Held by the launcher while the site runs."""
        return self.root / "launcher.lock"

    @property
    def log_path(self) -> Path:
        """What the launcher did."""
        return self.root / "demo.log"

    def device_dir(self, device_id: str) -> Path:
        """The store, config, spool folders and log of one terminal's device."""
        return self.root / "devices" / device_id

    def read_site(self) -> dict[str, Any] | None:
        """The running site's ``site.json``, or None when there is none."""
        try:
            data = json.loads(self.site_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write_site(self, data: dict[str, Any]) -> None:
        """Replace ``site.json`` at once (readers never see half a file)."""
        part = self.site_file.with_suffix(".part")
        part.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        part.replace(self.site_file)


def running_site(state: StateFolder) -> dict[str, Any] | None:
    """``site.json`` of a site whose launcher still holds its lock, else None."""
    site = state.read_site()
    if site is None:
        return None
    probe = hold_lock(state.lock_file)
    if probe is not None:  # nobody holds it: a launcher ended without cleaning up
        probe.close()
        return None
    return site


def say(text: str) -> None:
    """One line to stderr; nothing when the terminal is gone (after a hang-up)."""
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr, flush=True)


def hold_lock(path: Path) -> IO[bytes] | None:
    """An exclusive lock on ``path``, held while the returned file is open; None when
    another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def device_config(
    state: StateFolder, device_id: str, broker_url: str, role: str | None = None
) -> Path:
    """Write the settings of a terminal's device in the site; their path."""
    folder = state.device_dir(device_id)
    folder.mkdir(parents=True, exist_ok=True)
    station = f"PACK-{device_id[3:]}" if device_id.startswith("pk-") else ""
    lines = [
        "# Written by floor-demo for the running demo site; rewritten on every start.",
        "[device]",
        f"id = {json.dumps(device_id)}",
        f"site = {json.dumps(SITE)}",
        f"station = {json.dumps(station)}",
        *([f"role = {json.dumps(role)}"] if role else []),
        "",
        "[store]",
        f"data_dir = {json.dumps(str(folder))}",
        "",
        "[sync]",
        "enabled = true",
        f"broker = {json.dumps(broker_url)}",
        "heartbeat_s = 5.0",
    ]
    path = folder / "floor.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def app_command(config: Path, lang: str | None) -> list[str]:
    """``floor-app --demo --hub`` with the device's settings."""
    command = [*python_module("floor_app"), "--demo", "--hub", "--config", str(config)]
    return [*command, "--lang", lang] if lang else command


def python_module(module: str) -> list[str]:
    """Run ``module`` with this interpreter; ``-P``: never from the current folder (another
    checkout there must not stand in for the installed project)."""
    return [sys.executable, "-P", "-m", module]


def child_env() -> dict[str, str]:
    """The launcher's environment without systemd's service variables."""
    env = dict(os.environ)
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(name, None)
    return env


class DemoSite:
    """One run of the demo site (see the module docstring)."""

    def __init__(self, state: StateFolder, mosquitto: Path, args: argparse.Namespace) -> None:
        self.state = state
        self.args = args
        self.broker = PrivateBroker(mosquitto, state.root / "broker", free_port())
        self.children = Children()
        self.signals: list[int] = []
        self.failed: list[str] = []
        self.app: Child | None = None
        self.hub: Child | None = None
        self.colleagues: Child | None = None
        self.trickle: OrderTrickle | None = None  # imported once the hub is up (paho ...)
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify_name = f"floor-demo-{os.getpid()}-hub"
        self._site: dict[str, Any] = {}

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals.append(signum)

    def run(self) -> int:
        """Start the site, run until the app quits or a signal comes, stop everything."""
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        saved_tty = self._terminal_settings()
        code = 0
        try:
            self._start()
            code = self._wait()
        finally:
            self._stop(saved_tty)
        if self.failed:
            say(f"floor-demo: {', '.join(self.failed)} ended early; see {self.state.root}")
            return code or 1
        return code

    def _start(self) -> None:
        broker_url = self.broker.url
        self.broker.write_config()
        self.children.service("broker", self.broker.command())
        if not self.args.headless:
            print(
                f"floor-demo: demo site {SITE} in {self.state.root}, broker {broker_url}; "
                "another terminal joins it with: floor-demo join --role packer",
                flush=True,
            )
            config = device_config(self.state, TERMINAL, broker_url)
            self.app = self.children.foreground(
                "app", app_command(config, self.args.lang), child_env()
            )
        self._notify.bind("\0" + self._notify_name)
        self._notify.setblocking(False)
        env = {**child_env(), "NOTIFY_SOCKET": "@" + self._notify_name}
        self.hub = self.children.service(
            "hub",
            [
                *python_module("hub"),
                "run",
                "--demo",
                "--demo-orders",
                "0",
                "--db",
                f"sqlite:///{self.state.root / 'hub.db'}",
                "--broker",
                broker_url,
                "--site",
                SITE,
                "--metrics-port",
                "-1",
                "--lease-s",
                "600",
            ],
            log_path=self.state.root / "hub.log",
            env=env,
        )
        self._site = {
            "site": SITE,
            "broker": broker_url,
            "launcher_pid": os.getpid(),
            "started_at": time.time(),
            "hub_ready": False,
            "pids": {c.name: c.pid for c in self.children.started},
        }
        self.state.write_site(self._site)
        if self.args.headless:
            print(f"floor-demo: broker {broker_url}, hub starting", flush=True)

    def _wait(self) -> int:
        """Until the app ends or a signal comes; starts the colleagues once the hub is up."""
        while not self.signals:
            if self.app is not None and not self.app.running():
                return self.app.process.returncode or 0
            if self.hub is not None and not self._site["hub_ready"] and self._hub_ready():
                self._hub_up()
            for child in self.children.started:
                if child is not self.app and not child.running() and child.name not in self.failed:
                    log.error("%s ended (status %s)", child.name, child.process.returncode)
                    self.failed.append(child.name)
            if self.failed and self.app is None:
                return 1
            time.sleep(0.05)
        log.info("signal %s: stopping", self.signals[0])
        return 0

    def _hub_ready(self) -> bool:
        try:
            message = self._notify.recv(4096).decode(errors="replace")
        except BlockingIOError:
            return False
        return "READY=1" in message.splitlines()

    def _hub_up(self) -> None:
        log.info("hub ready")
        broker_url = self.broker.url
        if not self.args.no_colleagues:
            self.colleagues = self.children.service(
                "colleagues",
                [
                    *python_module("sim.shift"),
                    "--pickers",
                    str(len(COLLEAGUE_PICKERS)),
                    "--stations",
                    "1",
                    "--first-picker",
                    COLLEAGUE_PICKERS[0][3:],
                    "--first-station",
                    COLLEAGUE_STATION[3:],
                    "--pace",
                    str(self.args.pace),
                    "--broker",
                    broker_url,
                    "--site",
                    SITE,
                    "--data-dir",
                    str(self.state.root / "colleagues"),
                ],
                log_path=self.state.root / "colleagues.log",
                env=child_env(),
                niceness=5,
            )
        self._site["hub_ready"] = True
        self._site["pids"] = {c.name: c.pid for c in self.children.started}
        self.state.write_site(self._site)
        from sync.mqtt import parse_broker_url

        from .demo_intake import OrderTrickle

        colleagues = () if self.args.no_colleagues else (*COLLEAGUE_PICKERS, COLLEAGUE_STATION)
        self.trickle = OrderTrickle(
            parse_broker_url(broker_url),
            SITE,
            self.state.root / "intake.json",
            every_s=self.args.orders_every,
            backlog=self.args.backlog,
            colleagues=colleagues,
        )
        self.trickle.start()
        if self.args.headless:
            who = ", ".join(colleagues) or "no colleagues"
            print(
                f"floor-demo: hub ready; {who}; orders every {self.args.orders_every:g} s",
                flush=True,
            )

    def _stop(self, saved_tty: list[Any] | None) -> None:
        app = self.app
        if app is not None:
            self.children.stop(app, timeout=5)
            if app.process.returncode != 0 and saved_tty is not None:
                self._restore_terminal(saved_tty)
        if self.trickle is not None:
            self.trickle.stop()
        groups = [[c] for c in (self.colleagues, self.hub) if c is not None]
        self.children.stop_all(groups)
        self._notify.close()
        if self.state.read_site() == self._site:
            self.state.site_file.unlink(missing_ok=True)
        say(f"floor-demo: stopped {', '.join(c.name for c in reversed(self.children.started))}")

    @staticmethod
    def _terminal_settings() -> list[Any] | None:
        try:
            return termios.tcgetattr(sys.stdin.fileno()) if sys.stdin.isatty() else None
        except (termios.error, ValueError, OSError):
            return None

    @staticmethod
    def _restore_terminal(saved: list[Any]) -> None:
        """Put the terminal back as it was: the app ended without doing so itself."""
        try:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
            sys.stdout.write(TERMINAL_RESET)
            sys.stdout.flush()
        except (termios.error, OSError):
            pass  # the terminal went away (a hang-up)


def parse_args(argv: list[str]) -> argparse.Namespace:
    doc = (__doc__ or "").splitlines()[0].replace("``", "")
    p = argparse.ArgumentParser(prog="floor-demo", description=doc)
    p.add_argument("--state", type=Path, default=None, help=f"state folder ({default_state()})")
    p.add_argument("--lang", choices=["en", "zh"], help="the app's language at start")
    sub = p.add_subparsers(dest="command")
    join = sub.add_parser("join", help="another terminal's device joins the running site")
    join.add_argument("--role", choices=sorted(JOIN_DEVICES), default="packer")
    join.add_argument(
        "--device-id", help="a device the hub knows (default: pk-01, hh-04 or sv-01 by role)"
    )
    join.add_argument(
        "--state", type=Path, default=argparse.SUPPRESS, help="the site's state folder"
    )
    join.add_argument(
        "--lang", choices=["en", "zh"], default=argparse.SUPPRESS, help="language at start"
    )
    p.add_argument("--reset", action="store_true", help="start the site afresh")
    p.add_argument("--pace", type=float, default=3.0, help="colleagues' seconds per scan")
    p.add_argument("--orders-every", type=float, default=15.0, help="seconds between new orders")
    p.add_argument("--backlog", type=int, default=12, help="orders kept waiting to be picked")
    p.add_argument("--no-colleagues", action="store_true", help="no simulated colleagues")
    p.add_argument("--headless", action="store_true", help="no app in this terminal")
    args = p.parse_args(argv)
    if args.pace < 0 or args.orders_every <= 0 or args.backlog < 0:
        p.error("--pace and --backlog must not be negative, --orders-every must be positive")
    return args


def join(args: argparse.Namespace) -> int:
    """Run another device of the running site in this terminal (replaces this process)."""
    state = StateFolder(args.state or default_state())
    site = running_site(state)
    if site is None:
        print(
            f"floor-demo join: no demo site runs in {state.root}; start one with `make demo` "
            "(or floor-demo --headless)",
            file=sys.stderr,
        )
        return 1
    device_id = args.device_id or JOIN_DEVICES[args.role]
    lock = hold_lock(state.device_dir(device_id) / "terminal.lock")
    if lock is None:
        print(
            f"floor-demo join: {device_id} is open in another terminal; "
            "choose another with --device-id",
            file=sys.stderr,
        )
        return 1
    os.set_inheritable(lock.fileno(), True)  # the app holds it from here on
    config = device_config(state, device_id, str(site["broker"]), args.role)
    print(f"floor-demo join: {device_id} ({args.role}) joins the demo site at {site['broker']}")
    sys.stdout.flush()
    command = app_command(config, args.lang)
    os.execv(command[0], command)


def alone(args: argparse.Namespace) -> int:
    """Without Mosquitto: say so, and run this device alone (replaces this process)."""
    if args.headless:
        print("floor-demo: Mosquitto is not installed (apt-get install mosquitto)", file=sys.stderr)
        return 1
    print(
        "floor-demo: Mosquitto is not installed, so this device runs alone: no hub, no "
        "colleagues (apt-get install mosquitto for the whole site)",
        file=sys.stderr,
        flush=True,
    )
    command = [*python_module("floor_app"), "--demo"]
    command += ["--lang", args.lang] if args.lang else []
    os.execv(command[0], command)


def clear(state: StateFolder) -> None:
    """Remove everything of the site but the launcher's lock (``--reset``)."""
    for path in state.root.iterdir():
        if path == state.lock_file:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``floor-demo``; see the module docstring."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "join":
        return join(args)
    mosquitto = find_mosquitto()
    if mosquitto is None:
        return alone(args)
    state = StateFolder(args.state or default_state())
    lock = hold_lock(state.lock_file)
    if lock is None:
        print(
            f"floor-demo: a demo site already runs in {state.root}; another terminal joins it "
            "with: floor-demo join --role packer",
            file=sys.stderr,
        )
        return 1
    terminal = None
    try:
        if args.reset:
            clear(state)
        terminal = hold_lock(state.device_dir(TERMINAL) / "terminal.lock")
        if terminal is None and not args.headless:
            print(f"floor-demo: {TERMINAL} is open in another terminal", file=sys.stderr)
            return 1
        logging.basicConfig(
            filename=state.log_path, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
        )
        return DemoSite(state, mosquitto, args).run()
    finally:
        lock.close()
        if terminal is not None:
            terminal.close()


if __name__ == "__main__":
    sys.exit(main())
