"""SIGKILL at random moments: every action confirmed to the caller survives, the outbox has
no gap, and the state agrees with the outbox (a real subprocess, a real SQLite file)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = int(os.environ.get("FLOOR_CRASH_ROUNDS", "30"))

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run_and_kill(db: Path, rng: random.Random) -> list[tuple[int, str]]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    confirmed: list[tuple[int, str]] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                ready.set()
                continue
            seq, event_id = line.split()
            confirmed.append((int(seq), event_id))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # Kill at a random moment: sometimes during start-up, mostly while confirming.
    if rng.random() < 0.15:
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        assert ready.wait(120), proc.stderr.read() if proc.stderr else "worker did not start"
        time.sleep(rng.uniform(0.0, 0.25))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    return confirmed


def _check(db: Path, confirmed: set[tuple[int, str]]) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT seq, event_id, type FROM outbox ORDER BY seq").fetchall()
        seqs = [r[0] for r in rows]
        assert seqs == list(range(1, len(seqs) + 1)), "outbox sequence has a gap"
        have = {(r[0], r[1]) for r in rows}
        missing = confirmed - have
        assert not missing, f"{len(missing)} confirmed actions lost, e.g. {sorted(missing)[:3]}"
        picks = sum(1 for r in rows if r[2] == "pick.confirmed")
        picked = conn.execute("SELECT picked FROM pick_lines WHERE line_id='PT-CRASH-1'").fetchone()
        if picked is not None:
            assert picked[0] == picks, "state and outbox disagree"
            stock = conn.execute("SELECT qty FROM stock WHERE sku='SKU-CRASH'").fetchone()[0]
            assert stock == 10**12 - picks
            line = conn.execute(
                "SELECT picked FROM order_lines WHERE order_id='SO-9999999'"
            ).fetchone()
            assert line[0] == picks
        return len(seqs)
    finally:
        conn.close()


@pytest.mark.timeout(1500)  # a process start per round: slow when the cores are busy
def test_sigkill_loses_no_confirmed_action(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(int(os.environ.get("FLOOR_CRASH_SEED", "2")))
    confirmed: set[tuple[int, str]] = set()
    total = 0
    for _ in range(ROUNDS):
        confirmed |= set(_run_and_kill(db, rng))
        total = _check(db, confirmed)
    assert len(confirmed) > ROUNDS, "the worker confirmed too little to prove anything"
    assert total >= len(confirmed)
