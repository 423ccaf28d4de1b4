"""A real terminal for the app: tmux runs it, keys are sent as a person or a keyboard-wedge
scanner types them, and the screen is read back with capture-pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TMUX = shutil.which("tmux")


def app_command() -> str:
    """``floor-app`` as installed beside this Python (or run as a module)."""
    installed = Path(sys.executable).parent / "floor-app"
    return str(installed) if installed.exists() else f"{sys.executable} -m floor_app"


def terminal_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a terminal whose app keeps its data and tmux its socket under
    ``tmp_path``."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color"}
    env["TMUX_TMPDIR"] = str(tmp_path)
    return env


class Terminal:
    """One tmux session (``name``) with the app in it."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env

    def start(self, command: str, width: int = 80, height: int = 24) -> None:
        """Run ``command`` in a new session; when it ends, its status stays on screen."""
        shell = f"{command}; echo EXIT=$?; sleep 600"
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell)

    def stop(self) -> None:
        self.tmux("kill-session", "-t", self.name)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *args], capture_output=True, text=True, env=self.env, timeout=10
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        return self.wait_until(lambda shown: text in shown, timeout, f"{text!r} on screen")

    def wait_until(
        self, check: Callable[[str], bool], timeout: float = 15.0, what: str = "condition"
    ) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if check(shown):
                return shown
            time.sleep(0.02)
        raise AssertionError(f"{what} not met:\n{self.screen()}")

    def send(self, text: str) -> None:
        """``text`` as typed, no Enter."""
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def key(self, *keys: str) -> None:
        """Named keys (Enter, Down, F8 ...)."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        """``text`` and Enter, as a scanner sends a code: in one tmux command, so that a
        busy machine does not put a gap between the code and its Enter that the keyboard
        wedge would take for a scan without its terminator."""
        self.tmux(
            "send-keys", "-t", self.name, "-l", text, ";", "send-keys", "-t", self.name, "Enter"
        )
