"""Serial scanner: scans per second and write-to-Scan latency through a pseudo-terminal.

``floor-bench scanner --json`` opens a pty pair, runs the real
:class:`~device_drivers.serial_scanner.SerialScanner` on the slave end and writes codes
(``]C1`` + 20 characters + CR, like a GS1-128 label) to the master end, as a scanner on a
cable would. It prints one JSON object with:

* ``latency_p50_ms``, ``latency_p99_ms``, ``latency_max_ms``: from writing one code to its
  :class:`~device_drivers.base.Scan` reaching a listener, one code at a time
  (``--scans``, default 2000; goal: p99 under 5 ms);
* ``scans_per_s``: codes written back to back (``--burst``, default 20000) divided by the
  time until the last one was delivered; ``lost`` counts codes not delivered (must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import tty

from device_drivers.base import Scan, ScannerState
from device_drivers.config import SerialScannerConfig
from device_drivers.serial_scanner import SerialScanner


class _Listener:
    """Counts scans and timestamps the last one; wakes the writer."""

    def __init__(self) -> None:
        self.count = 0
        self.last_at = 0.0
        self.arrived = threading.Event()

    def __call__(self, scan: Scan) -> None:
        self.last_at = time.perf_counter()
        self.count += 1
        self.arrived.set()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _code(i: int) -> bytes:
    return b"]C1" + f"00{i:018d}".encode() + b"\r"


def run(scans: int, burst: int) -> dict[str, object]:
    """Measure and return the figures."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    scanner = SerialScanner(SerialScannerConfig(port=path, baudrate=115200))
    listener = _Listener()
    scanner.on_scan(listener)
    scanner.start()
    try:
        deadline = time.monotonic() + 5
        while scanner.state is not ScannerState.READY:
            if time.monotonic() > deadline:
                raise RuntimeError(f"scanner not ready: {scanner.last_error}")
            time.sleep(0.005)
        for i in range(50):  # warm up
            listener.arrived.clear()
            _write_all(master, _code(i))
            listener.arrived.wait(2)
        latencies: list[float] = []
        for i in range(scans):
            listener.arrived.clear()
            started = time.perf_counter()
            _write_all(master, _code(i))
            if not listener.arrived.wait(2):
                raise RuntimeError(f"scan {i} not delivered: {scanner.last_error}")
            latencies.append((listener.last_at - started) * 1000)
            time.sleep(0.0005)
        before = listener.count
        payload = b"".join(_code(i) for i in range(burst))
        started = time.perf_counter()
        writer = threading.Thread(target=_write_all, args=(master, payload))
        writer.start()
        end = time.monotonic() + 60
        while listener.count - before < burst and time.monotonic() < end:
            time.sleep(0.001)
        writer.join()
        delivered = listener.count - before
        elapsed = listener.last_at - started
        cuts = statistics.quantiles(latencies, n=100)
        return {
            "name": "scanner",
            "scans": scans,
            "latency_p50_ms": round(statistics.median(latencies), 3),
            "latency_p99_ms": round(cuts[98], 3),
            "latency_max_ms": round(max(latencies), 3),
            "burst": burst,
            "scans_per_s": round(delivered / elapsed, 1) if elapsed > 0 else None,
            "lost": burst - delivered,
            "rejected": scanner.counters.rejected_total,
        }
    finally:
        scanner.stop()
        os.close(master)
        os.close(slave)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="floor-bench scanner")
    p.add_argument("--scans", type=int, default=2000, help="codes for the latency figures")
    p.add_argument("--burst", type=int, default=20000, help="codes for the throughput figure")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    result = run(args.scans, args.burst)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    ok = result["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
