"""Floor screens as a picker feels them: scan to answer on a real terminal.

The real app (``python -m floor_app --demo --reset``) runs in a pseudo-terminal of 80x24;
its output is fed into a ``pyte`` screen emulator. A keyboard-wedge scanner is played by
writing each code and a CR to the master side of the pty, the codes read from the demo's
hint line (totes, then per stop its location, each unit, the put into its tote). The clock
starts at the write of the code's first byte and stops when the chunk of output that puts
the answer on the emulated screen arrives: anything below the header and outside the input
field differs from before the scan, and the code has left the field.

``terminal_scan_p50_ms``, ``terminal_scan_p99_ms`` (nearest rank: of 60 scans, the slowest)
and ``terminal_scans`` (the scans whose answer was seen); ``bare_textual_p50_ms`` and
``bare_textual_p99_ms``, the same for a bare Textual app (an Input whose submit sets a
Label), the floor under the app's figure; ``burst_scans_lost``: of 20 scans typed 10 ms
apart into a fresh PT-0001, those whose effect is missing from the store once the app is
quiet (20 less the longest run from the burst's start whose effect is there, as the
picking service applies the same scans to a copy of the store).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import pty
import queue
import re
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyte

COLS, ROWS = 80, 24
HINT = "Demo — type:"
#: scans the real app is driven through (at least)
SCANS = 60
#: codes typed into the bare Textual app
BARE_SCANS = 60
BURST = 20
BURST_GAP_S = 0.01

BARE_APP = textwrap.dedent(
    '''
    """A bare Textual app: an Input whose submit shows the text in a Label."""

    from textual.app import App, ComposeResult
    from textual.widgets import Input, Label


    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("ready", id="out")
            yield Input(id="in")

        def on_mount(self) -> None:
            self.query_one(Input).focus()

        def on_input_submitted(self, event: Input.Submitted) -> None:
            self.query_one(Label).update(f"got {event.value}")
            event.input.value = ""


    Bare().run()
    '''
)


class Timeout(RuntimeError):
    """A wait on the screen ran out."""


class PtyScreen:
    """A program in a pseudo-terminal of ``cols`` x ``rows``, its output on a pyte screen.

    A thread reads the master side as the program writes and stamps each chunk with the
    time it arrived, so the time taken to emulate a big frame is not counted as latency.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = COLS, rows: int = ROWS):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.argv = argv
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self._chunks: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()
        #: when the chunk last fed into the screen arrived (perf_counter)
        self.read_at = 0.0
        self.ended = False

    def _read(self) -> None:
        try:
            while True:
                data = os.read(self.master, 1 << 16)
                if not data:
                    break
                self._chunks.put((time.perf_counter(), data))
        except OSError:  # EIO: every process holding the slave side has ended
            pass
        finally:
            self._chunks.put(None)

    def lines(self) -> list[str]:
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, timeout: float) -> bool:
        """Feed the next chunk the program wrote (waiting up to ``timeout`` s) into the
        screen; False when none came."""
        if self.ended:
            return False
        try:
            chunk = self._chunks.get(timeout=timeout) if timeout > 0 else self._chunks.get_nowait()
        except queue.Empty:
            return False
        if chunk is None:
            self.ended = True
            return False
        self.read_at, data = chunk
        self.stream.feed(data)
        return True

    def wait_until(self, check: Callable[[list[str]], bool], what: str, timeout: float) -> float:
        """Read until ``check(lines)`` holds; when the chunk that made it hold arrived."""
        deadline = time.perf_counter() + timeout
        if check(self.lines()):
            return self.read_at
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise Timeout(
                    f"timed out after {timeout} s waiting for {what}; screen:\n{self.text()}"
                )
            if self.pump(min(left, 0.05)):
                if check(self.lines()):
                    return self.read_at
            elif self.ended:
                raise RuntimeError(
                    f"{self.argv[-1]!r} ended ({self.proc.poll()}) while waiting for {what}; "
                    f"screen:\n{self.text()}"
                )

    def wait_for(self, text: str, timeout: float = 15.0) -> float:
        return self.wait_until(
            lambda lines: any(text in line for line in lines), repr(text), timeout
        )

    def settle(self, quiet: float = 0.05, timeout: float = 2.0) -> None:
        """Read until nothing came for ``quiet`` s (or ``timeout`` s passed)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self.pump(quiet):
            pass

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` s, reading what the program writes meanwhile."""
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            self.pump(left)

    def write(self, data: bytes) -> float:
        """Write ``data`` to the program's terminal; the time the first byte went."""
        start = time.perf_counter()
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]
        return start

    def close(self) -> None:
        """End the program (SIGTERM, then SIGKILL after 5 s) and its terminal."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._reader.join(2)
        if not self._reader.is_alive():
            os.close(self.master)


_TITLE = re.compile(r"PT-\d+ · (totes|stop) ")


def _hint(lines: list[str]) -> list[str]:
    """The codes the demo's hint line says the step takes."""
    for line in lines:
        if HINT in line:
            return [code.strip() for code in line.split(HINT, 1)[1].strip().split(" · ")]
    return []


def _next_code(lines: list[str]) -> str:
    """What a picker scans next: the hint's first code (a tote, a put, a location), or the
    item's GTIN (the hint's second code) once at the location."""
    codes = _hint(lines)
    if not codes or not codes[0] or codes[0] == "-":
        raise RuntimeError("no demo hint with a code to scan on screen:\n" + "\n".join(lines))
    if any("Scan the item" in line for line in lines):
        if len(codes) < 2:
            raise RuntimeError("no GTIN in the demo hint:\n" + "\n".join(lines))
        return codes[1]
    return codes[0]


def _is_field(line: str) -> bool:
    return "▊" in line or "▎" in line


def _answer_area(lines: list[str]) -> list[str]:
    """The screen without its header (refreshed every second) and its input field."""
    return [line for line in lines[1:] if not _is_field(line)]


def _field_text(lines: list[str]) -> str:
    """The rows of the input field between its borders."""
    return " ".join(
        line for line in lines if _is_field(line) and "▔" not in line and "▁" not in line
    )


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(len(ordered) * q) - 1)], 2)


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "XDG_STATE_HOME": str(folder), "TERM": "xterm-256color"}


def _start_demo(folder: Path) -> PtyScreen:
    """``floor_app --demo --reset`` in a pty, logged in as the demo picker, on the task list."""
    folder.mkdir(parents=True, exist_ok=True)
    term = PtyScreen([sys.executable, "-m", "floor_app", "--demo", "--reset"], _env(folder))
    try:
        term.wait_for("Scan your badge", 60)
        term.settle()
        term.write(b"B1001\r")
        term.wait_for("PT-0001", 20)
        term.settle(0.1)
    except BaseException:
        term.close()
        raise
    return term


def _open_next_task(term: PtyScreen) -> None:
    """From the end of a task (``take each tote``) to the next task of the list, opened."""
    term.write(b"\r")
    term.wait_until(
        lambda lines: (
            any("Pick tasks" in line for line in lines)
            and not any("take each tote" in line for line in lines)
        ),
        "the task list after the task's end",
        10,
    )
    term.settle(0.1)
    term.write(b"\r")  # the first task of the list
    term.wait_until(
        lambda lines: any(_TITLE.search(line) for line in lines), "a pick task opened", 10
    )
    term.settle()


def measure_scans(folder: Path, scans: int = SCANS) -> dict[str, float]:
    """Scan to answer on the terminal for ``scans`` scans, a picker's walk through the demo."""
    term = _start_demo(folder)
    latencies: list[float] = []
    missed = 0
    try:
        term.write(b"\r")  # opens PT-0001
        term.wait_for("PT-0001 · totes 0/", 10)
        term.settle()
        while len(latencies) < scans:
            lines = term.lines()
            if any("take each tote" in line for line in lines):
                _open_next_task(term)
                continue
            code = _next_code(lines)
            before = _answer_area(lines)

            def answered(lines: list[str], code: str = code, before: list[str] = before) -> bool:
                return _answer_area(lines) != before and code not in _field_text(lines)

            start = term.write(code.encode() + b"\r")
            try:
                at = term.wait_until(answered, f"the answer to {code}", 5)
            except Timeout:
                missed += 1
                if missed > 5:
                    raise
                term.settle()
                continue
            latencies.append((at - start) * 1000)
            term.settle()
    finally:
        term.close()
    return {
        "terminal_scan_p50_ms": round(statistics.median(latencies), 2),
        "terminal_scan_p99_ms": _ms(latencies, 0.99),
        "terminal_scan_max_ms": round(max(latencies), 2),
        "terminal_scans": len(latencies),
        "terminal_scans_unanswered": missed,
    }


def measure_bare(folder: Path, scans: int = BARE_SCANS) -> dict[str, float]:
    """The same for a bare Textual app: an Input whose submit shows the text in a Label."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "bare_textual.py"
    script.write_text(BARE_APP)
    term = PtyScreen([sys.executable, str(script)], _env(folder))
    latencies: list[float] = []
    try:
        term.wait_for("ready", 30)
        term.settle()
        for i in range(scans):
            code = f"C{i:03d}"
            start = term.write(code.encode() + b"\r")
            at = term.wait_for(f"got {code}", 5)
            latencies.append((at - start) * 1000)
            term.settle()
    finally:
        term.close()
    return {
        "bare_textual_p50_ms": round(statistics.median(latencies), 2),
        "bare_textual_p99_ms": _ms(latencies, 0.99),
    }


def _task_state(path: Path, task_id: str) -> tuple[tuple[object, ...], ...]:
    """What scans change in ``task_id``: its totes, each line's units picked and put tote."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        totes = conn.execute(
            "SELECT position, tote_id FROM totes WHERE task_id = ? ORDER BY position", (task_id,)
        ).fetchall()
        lines = conn.execute(
            "SELECT line_id, picked, put_tote FROM pick_lines WHERE task_id = ? ORDER BY sequence",
            (task_id,),
        ).fetchall()
    return tuple(tuple(row) for row in [*totes, *lines])


def _burst_plan(
    store_path: Path, task_id: str, count: int
) -> tuple[list[str], list[tuple[tuple[object, ...], ...]]]:
    """The first ``count`` scans a picker makes in ``task_id`` (totes, then per line its
    location when it changes, each unit, its tote), applied in turn by the picking service
    to a copy of the store; and the task's state after each number of them (0 .. count)."""
    from floor_app.services.picking import PickingService
    from floor_app.store import Store

    copy = store_path.with_name("burst-expected.db")
    with sqlite3.connect(store_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = Store.open(copy, device_id="hh-01")
    picking = PickingService(store)
    scans: list[str] = []
    states = [_task_state(copy, task_id)]
    try:
        task = picking.start(task_id, "alice").task
        at = ""
        while len(scans) < count:
            if task.totes_to_scan():
                scans.append(picking.free_totes(1)[0])
                task = picking.assign_totes(task_id, scans[-1], "alice").task
            elif (put := picking.put_due(task)) is not None:
                tote = task.tote_for(put.tote_position)
                if tote is None:
                    raise RuntimeError(f"{task_id}: no tote at position {put.tote_position}")
                scans.append(tote.tote_id)
                task = picking.confirm_put(task_id, put.line_id, tote.tote_id, "alice").task
            else:
                line = task.next_line()
                if line is None:
                    raise RuntimeError(f"{task_id} has fewer than {count} scans")
                if line.location != at:
                    scans.append(line.location)
                    at = line.location
                else:
                    scans.append(line.gtin.lstrip("0"))
                    task = picking.confirm(task_id, line.line_id, 1, "alice").task
            states.append(_task_state(copy, task_id))
    finally:
        store.close()
    return scans, states


def measure_burst(folder: Path, count: int = BURST, gap: float = BURST_GAP_S) -> dict[str, float]:
    """``count`` scans typed ``gap`` s apart into PT-0001 of a fresh demo; the scans whose
    effect is missing from the store once the app is quiet: ``count`` less the longest
    run of the burst, from its start, whose effect is there."""
    term = _start_demo(folder)
    try:
        store_path = folder / "floor" / "demo" / "floor-hh-01.db"
        scans, states = _burst_plan(store_path, "PT-0001", count)
        term.write(b"\r")  # opens PT-0001
        term.wait_for("PT-0001 · totes 0/", 10)
        term.settle()
        if _next_code(term.lines()) != scans[0]:
            raise RuntimeError(f"the hint does not start with {scans[0]}:\n{term.text()}")
        for code in scans:
            due = time.perf_counter() + gap
            term.write(code.encode() + b"\r")
            term.sleep(due - time.perf_counter())
        deadline = time.perf_counter() + 15
        while _task_state(store_path, "PT-0001") != states[-1] and time.perf_counter() < deadline:
            term.pump(0.05)
        term.settle(0.5, 3)  # and nothing more came of the burst
        state = _task_state(store_path, "PT-0001")
    finally:
        term.close()
    applied = max((n for n, expected in enumerate(states) if expected == state), default=0)
    return {"burst_scans": count, "burst_scans_lost": count - applied}


def measure_resume(folder: Path, scans: int = 6) -> dict[str, float]:
    """``kill -9`` after ``scans`` scans into PT-0001, then seconds from starting the app
    again to the same task's step on screen (the badge typed as soon as it is asked for)."""
    term = _start_demo(folder)
    try:
        term.write(b"\r")  # opens PT-0001
        term.wait_for("PT-0001 · totes 0/", 10)
        term.settle()
        for _ in range(scans):
            lines = term.lines()

            def changed(now: list[str], before: list[str] = lines) -> bool:
                return now != before

            term.write(_next_code(lines).encode() + b"\r")
            term.wait_until(changed, "the answer", 5)
            term.settle()
        step = next(line for line in term.lines() if _TITLE.search(line)).strip()
        os.killpg(term.proc.pid, signal.SIGKILL)
        term.proc.wait(5)
    finally:
        term.close()
    again = PtyScreen([sys.executable, "-m", "floor_app", "--demo"], _env(folder))
    start = time.perf_counter()
    try:
        again.wait_for("Scan your badge", 60)
        again.write(b"B1001\r")
        at = again.wait_until(
            lambda lines: any(
                step.split(" · ")[:2] == line.strip().split(" · ")[:2] for line in lines
            ),
            f"the step in progress ({step})",
            30,
        )
    finally:
        again.close()
    return {"resume_to_step_s": round(at - start, 3)}


def measure() -> dict[str, float]:
    """All the terminal figures, each app in a fresh folder, every app ended afterwards."""
    root = Path(tempfile.mkdtemp(prefix="floor-bench-term-"))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the reader thread stamps a chunk soon after it came
    try:
        result = measure_scans(root / "scans")
        result.update(measure_bare(root / "bare"))
        result.update(measure_burst(root / "burst"))
        result.update(measure_resume(root / "resume"))
    finally:
        sys.setswitchinterval(interval)
        shutil.rmtree(root, ignore_errors=True)
    return result
