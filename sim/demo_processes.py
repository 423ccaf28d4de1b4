"""The processes a demo site starts, and stopping every one of them.

Each child is told by the kernel to end when the launcher ends (``PR_SET_PDEATHSIG``), so
not even a launcher killed with SIGKILL leaves a broker or a hub behind. The site's services
run in sessions of their own: a Ctrl+C or a hang-up in the terminal reaches the launcher and
the app, and the launcher stops the services in order. The app stays in the terminal's
process group, as the foreground job.

Start children from the main thread only: the kernel's parent-death signal follows the
thread that started the child, not the process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger("floor.demo")

PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """In the child, before exec: SIGTERM when the launcher ends, however it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _service_setup(niceness: int) -> Callable[[], None]:
    def setup() -> None:
        os.setsid()
        if niceness:
            os.nice(niceness)
        _end_with_parent()

    return setup


@dataclass
class Child:
    """One started process: its name, its process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    service: bool
    log_path: Path | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def running(self) -> bool:
        """True until the process has ended."""
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child (a service: to its whole process group)."""
        if not self.running():
            return
        try:
            if self.service:
                os.killpg(self.process.pid, signum)
            else:
                self.process.send_signal(signum)
        except ProcessLookupError:
            pass


@dataclass
class Children:
    """Every process the demo site started, in the order they were started."""

    started: list[Child] = field(default_factory=list)

    def service(
        self,
        name: str,
        command: Sequence[str],
        *,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        niceness: int = 0,
    ) -> Child:
        """Start a background service in a session of its own; its output to ``log_path``."""
        out: IO[bytes] | int = subprocess.DEVNULL
        if log_path is not None:
            out = log_path.open("ab")
        try:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_service_setup(niceness),
            )
        finally:
            if not isinstance(out, int):
                out.close()
        child = Child(name, process, service=True, log_path=log_path)
        self.started.append(child)
        log.info("started %s (pid %d): %s", name, process.pid, " ".join(command))
        return child

    def foreground(self, name: str, command: Sequence[str], env: dict[str, str]) -> Child:
        """Start the app in this terminal (the terminal's foreground process group)."""
        process = subprocess.Popen(list(command), env=env, preexec_fn=_end_with_parent)
        child = Child(name, process, service=False)
        self.started.append(child)
        log.info("started %s (pid %d): %s", name, process.pid, " ".join(command))
        return child

    def stop(self, child: Child, timeout: float = 10.0) -> int | None:
        """SIGTERM (unless it was sent already), then SIGKILL after ``timeout``; the exit
        status."""
        if child.process.returncode is not None:
            return child.process.returncode
        child.signal(signal.SIGTERM)
        try:
            child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s: killed", child.name, timeout)
            child.signal(signal.SIGKILL)
            child.process.wait(5)
        code = child.process.returncode
        log.info("%s stopped (status %s)", child.name, code)
        return code

    def stop_all(self, groups: Sequence[Sequence[Child]], timeout: float = 10.0) -> None:
        """Stop ``groups`` one after the other (SIGTERM to a whole group at once, then wait
        for it), then whatever else is still running, newest first."""
        for group in groups:
            for child in group:
                child.signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for child in group:
                self.stop(child, max(0.1, deadline - time.monotonic()))
        for child in reversed(self.started):
            self.stop(child, timeout)
