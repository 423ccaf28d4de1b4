"""Numbering on the hub (task and stock task ids): a counter used for the first time by
several transactions at once gives each its own number, none fails on the new row."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine

from hub import run_transaction
from hub.site_data import next_counter

pytestmark = pytest.mark.integration


def test_a_new_counter_taken_by_many_transactions_at_once_numbers_each_once(
    engine: Engine,
) -> None:
    start = threading.Barrier(6)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            start.wait()

            def work(conn: Any) -> int:
                number = next_counter(conn, "bench_counter")
                time.sleep(0.02)  # hold the counter's lock: the others wait, none fails
                return number

            got = run_transaction(engine, work)
            with lock:
                numbers.append(got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    assert run_transaction(engine, lambda c: next_counter(c, "bench_counter")) == 7
