"""Floor screens: scan-to-screen latency via a pty scanner, startup, memory after 1000 picks.

``floor-bench ui --json`` prints one JSON object with ``scan_to_screen_p50_ms``,
``scan_to_screen_p99_ms``, ``startup_s``, ``rss_mb_after_1000_picks``,
``receiving_scan_p50_ms`` and ``receiving_scan_p99_ms`` (a scan counted on a notice of
500 lines, every SKU of the demo site, until its "+1" is on the screen;
``--receiving-only`` measures only those),
``demo_site_start_s`` (:mod:`bench.demo_site`) and the terminal figures of
:mod:`bench.ui_terminal` (``terminal_scan_p50_ms``, ``terminal_scan_p99_ms``,
``bare_textual_p99_ms``, ``burst_scans_lost`` ...); ``--terminal-only`` measures only those.

Scan to screen: bytes are written to the master side of a pseudo-terminal; the real serial
scanner driver (``device_drivers.serial_scanner.SerialScanner``, CR suffix) reads the slave
side as its port and turns each frame into a scan; the real app
(headless) confirms the pick through the picking service (the durable commit of state
and outbox event) and the clock stops when the confirmation has been rendered. Startup:
``floor-app --demo`` started in a pty until the login screen is drawn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from device_drivers.base import ScannerState
from device_drivers.config import SerialScannerConfig
from device_drivers.serial_scanner import SerialScanner
from floor_app.bootstrap import build_context
from floor_app.domain.picking import PickLine, PickTask, TaskState
from floor_app.settings import load_settings

PICKS = 1000
#: a large notice (every SKU of the demo site) and the scans counted on it
RECEIPT_LINES = 500
RECEIPT_SCANS = 300
BENCH_TASK = "PT-BENCH"


def pty_scanner(path: str) -> SerialScanner:
    """The real serial scanner driver reading the slave side of a pty, started and ready."""
    scanner = SerialScanner(SerialScannerConfig(port=path, name="pty-scanner", suffix="CR"))
    scanner.start()
    deadline = time.monotonic() + 5
    while scanner.state is not ScannerState.READY:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the serial scanner did not open {path}: {scanner.last_error}")
        time.sleep(0.01)
    return scanner


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_picks(picks: int) -> dict[str, float]:
    """Scan-to-screen latency for ``picks`` item scans, and RSS afterwards."""
    from floor_app.ui.app import FloorApp
    from floor_app.ui.screens.pick import PickScreen

    folder = Path(tempfile.mkdtemp(prefix="floor-bench-ui-"))
    settings = load_settings(
        None,
        store={"data_dir": str(folder)},
        sync={"enabled": False},
        ui={"idle_lock_s": 0, "bell": False},
    )
    ctx = build_context(settings, demo=True)
    first = ctx.picking.task("PT-0001").ordered_lines()[0]
    with ctx.store.unit_of_work() as uow:
        line = PickLine(
            f"{BENCH_TASK}-1",
            first.order_id,
            first.order_line_no,
            first.sku,
            first.gtin,
            first.location,
            picks + 10,
            first.tote_position,
        )
        uow.tasks.save(PickTask(BENCH_TASK, [line], zone="A", state=TaskState.ASSIGNED))
        uow.commit()
    master, slave = pty.openpty()
    scanner = pty_scanner(os.ttyname(slave))
    ctx.devices.scanners.append(scanner)
    latencies: list[float] = []
    updated: list[float] = []

    async def run() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            task = ctx.picking.start(BENCH_TASK, "alice").task
            screen = PickScreen(task)
            await app.push_screen(screen)
            await pilot.pause()
            shown = asyncio.Event()
            marks: list[float] = []
            screen.updated_hooks.append(lambda _what: marks.append(time.perf_counter()))
            screen.shown_hooks.append(lambda _what: shown.set())
            os.write(master, f"{first.location}\r".encode())
            await asyncio.sleep(0.05)
            await pilot.pause()
            gtin = first.gtin.lstrip("0").encode() + b"\r"
            for _ in range(picks):
                shown.clear()
                start = time.perf_counter()
                os.write(master, gtin)
                await asyncio.wait_for(shown.wait(), 5)
                latencies.append((time.perf_counter() - start) * 1000)
                updated.append((marks[-1] - start) * 1000)

    asyncio.run(run())
    rss = _rss_mb()
    scanner.stop()
    ctx.close()
    os.close(master)
    os.close(slave)
    latencies.sort()
    updated.sort()
    return {
        "scan_to_widgets_p50_ms": round(statistics.median(updated), 2),
        "scan_to_widgets_p99_ms": round(updated[int(len(updated) * 0.99) - 1], 2),
        "scan_to_screen_p50_ms": round(statistics.median(latencies), 2),
        "scan_to_screen_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "scan_to_screen_max_ms": round(latencies[-1], 2),
        "picks": len(latencies),
        "rss_mb_after_1000_picks": round(rss, 1),
    }


def measure_receiving(lines: int = RECEIPT_LINES, scans: int = RECEIPT_SCANS) -> dict[str, float]:
    """Scan-to-screen latency while receiving a notice of ``lines`` lines: each item scan
    (through the pty scanner) is counted, recorded and drawn; the clock stops when its
    "+1 SKU" is on the screen."""
    from floor_app.ui.app import FloorApp
    from floor_app.ui.screens.receiving import ReceivingScreen
    from sync.device.push_apply import PushApplier
    from sync.protocol import PushMessage, ReceiptLineModel, ReceiptNotice

    folder = Path(tempfile.mkdtemp(prefix="floor-bench-receiving-"))
    settings = load_settings(
        None,
        store={"data_dir": str(folder)},
        sync={"enabled": False},
        ui={"idle_lock_s": 0, "bell": False},
    )
    ctx = build_context(settings, demo=True)
    with ctx.store.unit_of_work() as uow:
        skus = [uow.catalogue.sku(f"SKU-{i:05d}") for i in range(1, lines + 1)]
    notice = ReceiptNotice(
        receipt_id="R-BENCH",
        reference="ASN-BENCH",
        supplier="Bench",
        state="expected",
        lines=[ReceiptLineModel(line_no=i, sku=s.sku, expected=10) for i, s in enumerate(skus, 1)],
    )
    cursor = int(ctx.store.meta("push_cursor", "0") or "0") + 1
    PushApplier(ctx.store).apply(
        PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=notice)
    )
    master, slave = pty.openpty()
    scanner = pty_scanner(os.ttyname(slave))
    ctx.devices.scanners.append(scanner)
    latencies: list[float] = []

    async def run() -> None:
        app = FloorApp(ctx)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"B1001", "enter")
            await pilot.pause()
            screen = ReceivingScreen()
            await app.push_screen(screen)
            await pilot.pause()
            os.write(master, b"ASN-BENCH\r")
            while screen.receipt is None:
                await asyncio.sleep(0.001)
            message = screen.query_one("#message")
            for n in range(scans):
                sku = skus[(n * 7) % len(skus)]
                want = f"+1 {sku.sku}"
                before = _good(screen, sku.sku)
                shown = asyncio.Event()
                start = time.perf_counter()
                os.write(master, sku.gtin.lstrip("0").encode() + b"\r")
                while _good(screen, sku.sku) != before + 1 or str(message.render()) != want:
                    if time.perf_counter() > start + 5:
                        raise RuntimeError(f"scan {n} of {sku.sku} was not answered")
                    await asyncio.sleep(0.0005)
                screen.call_after_refresh(shown.set)  # on the screen, not only in the widgets
                await asyncio.wait_for(shown.wait(), 5)
                latencies.append((time.perf_counter() - start) * 1000)

    asyncio.run(run())
    scanner.stop()
    ctx.close()
    os.close(master)
    os.close(slave)
    latencies.sort()
    return {
        "receiving_lines": lines,
        "receiving_scans": len(latencies),
        "receiving_scan_p50_ms": round(statistics.median(latencies), 2),
        "receiving_scan_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
    }


def _good(screen: Any, sku: str) -> int:
    receipt = screen.receipt
    return 0 if receipt is None else sum(ln.received for ln in receipt.lines if ln.sku == sku)


def measure_startup(runs: int = 3) -> float:
    """Seconds from starting ``floor-app --demo`` to the login screen drawn (best of runs)."""
    folder = tempfile.mkdtemp(prefix="floor-bench-start-")
    env = {**os.environ, "XDG_STATE_HOME": folder, "TERM": "xterm-256color"}
    best = float("inf")
    for i in range(runs + 1):  # the first run seeds the demo store and is not counted
        master, slave = pty.openpty()
        os.set_blocking(master, False)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "floor_app", "--demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        seen = b""
        deadline = start + 30
        elapsed = float("nan")
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if b"badge" in seen:
                    elapsed = time.perf_counter() - start
                    break
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
        if i > 0:
            best = min(best, elapsed)
    return round(best, 3)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="floor-bench ui", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--picks", type=int, default=PICKS)
    parser.add_argument(
        "--receiving-only",
        action="store_true",
        help="only the receiving figures (a scan counted on a notice of 500 lines)",
    )
    parser.add_argument(
        "--terminal-only",
        action="store_true",
        help="only the terminal figures (bench.ui_terminal), not the others",
    )
    args = parser.parse_args(argv)
    result: dict[str, float | str] = {"name": "ui"}
    if args.receiving_only:
        result.update(measure_receiving())
        print(json.dumps(result) if args.json else result)
        return 0
    if not args.terminal_only:
        result.update(measure_picks(args.picks))
        result.update(measure_receiving())
        result["startup_s"] = measure_startup()
        from bench import demo_site  # after the memory figure, which its imports must not swell

        result["demo_site_start_s"] = demo_site.measure()["demo_site_start_s"]
        result["scanner"] = "device_drivers.serial_scanner.SerialScanner on a pty"
    from bench import ui_terminal  # after the memory figure too

    result.update(ui_terminal.measure())
    result["terminal"] = "pyte screen on a pty, 80x24"
    result["textual_fps"] = os.environ.get("TEXTUAL_FPS", "")
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0
