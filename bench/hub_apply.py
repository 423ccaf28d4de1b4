"""Measuring the hub's apply rate: many simulated devices, one transaction per batch.

Every simulated device (``bh-001`` ...) works through its own orders the way the floor does:
a ``pick.confirmed`` per order line, then ``pack.completed``, ``label.printed`` and
``label.confirmed``, so each batch moves real orders through their states, publishes their
statuses and writes inbox, outbox, label and pack rows. The batches of all devices are
applied by ``workers`` threads (each device's batches in order, by one worker), each batch
in its own transaction through :func:`hub.apply_batch`, exactly as the MQTT path does.

Without a ``db_url`` the local PostgreSQL test server is used, in a throwaway schema.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection

from floor_app.demo import build_demo_site
from floor_app.domain.events import (
    DomainEvent,
    LabelConfirmed,
    LabelPrinted,
    PackCompleted,
    PickConfirmed,
)
from floor_app.domain.order import Order
from hub.apply import apply_batch
from hub.database import make_engine, run_transaction
from hub.setup import load_demo, open_database, refresh_statistics
from hub.site_data import register_device
from sync.protocol import EventEnvelope

DEFAULT_PG = os.environ.get("FLOOR_BENCH_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
SITE = "dc1"


@dataclass(frozen=True, slots=True)
class ApplyRate:
    """What a run measured."""

    events_per_s: float
    events: int
    batches: int
    seconds: float
    devices: int
    batch_size: int
    workers: int
    processes: bool
    backend: str


def _envelope(device: str, seq: int, event: DomainEvent) -> EventEnvelope:
    return EventEnvelope.model_construct(
        seq=seq,
        event_id=f"{device}-{seq:010d}",
        device_id=device,
        type=event.TYPE,
        kind=event.KIND,
        order_id=event.order_id,
        order_version=None,
        payload=event.payload(),
        created_at=time.time(),
    )


def device_events(device: str, orders: list[Order], pick_faces: dict[str, str]) -> list[Any]:
    """The event stream of one device working through ``orders``."""
    events: list[DomainEvent] = []
    for order in orders:
        for line in order.lines:
            events.append(
                PickConfirmed(
                    task=f"BENCH-{device}",
                    line=f"{order.order_id}-{line.line_no}",
                    order=order.order_id,
                    sku=line.sku,
                    location=pick_faces.get(line.sku, "A01-01-1A"),
                    qty=line.qty,
                    tote_position=1,
                    user="alice",
                )
            )
        job = uuid.uuid4().hex
        events += [
            PackCompleted(
                order=order.order_id, station="PACK-01", carton="CTN-M", weight_g=900, user="ben"
            ),
            LabelPrinted(job=job, order=order.order_id, tracking="TRK1", carrier="DHL", user="ben"),
            LabelConfirmed(job=job, order=order.order_id, tracking="TRK1", user="ben"),
        ]
    return [_envelope(device, seq, e) for seq, e in enumerate(events, start=1)]


@contextmanager
def throwaway_database(db_url: str | None) -> Iterator[str]:
    """A database URL to measure on: a fresh PostgreSQL schema (dropped afterwards), or the
    given SQLite URL as it is."""
    base = db_url or DEFAULT_PG
    if not base.startswith("postgresql"):
        yield base
        return
    import psycopg

    schema = f"hub_bench_{uuid.uuid4().hex[:10]}"
    conninfo = base.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _register(device: str, conn: Connection) -> bool:
    return register_device(conn, device, "picker")


def _apply_lane(url: str, lane: list[tuple[str, list[Any]]]) -> None:
    engine = make_engine(url)
    try:
        for device, chunk in lane:
            run_transaction(engine, partial(_apply_one, device, chunk))
    finally:
        engine.dispose()


def _apply_one(device: str, chunk: list[Any], conn: Connection) -> None:
    apply_batch(conn, device, chunk, site=SITE)


def _lane_process(url: str, lane: list[tuple[str, list[Any]]], start: Any, done: Any) -> None:
    try:
        start.wait()
        _apply_lane(url, lane)
        done.put("")
    except BaseException as exc:
        done.put(f"{type(exc).__name__}: {exc}")


def _run_lanes(url: str, lanes: list[list[tuple[str, list[Any]]]], *, processes: bool) -> float:
    """Apply every lane at once (threads, or processes); the seconds it took."""
    if not processes:
        errors: list[BaseException] = []

        def work(lane: list[tuple[str, list[Any]]]) -> None:
            try:
                _apply_lane(url, lane)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(lane,)) for lane in lanes]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return time.perf_counter() - started
    ctx = multiprocessing.get_context("fork")
    start, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_lane_process, args=(url, lane, start, done)) for lane in lanes]
    for p in procs:
        p.start()
    time.sleep(0.5)  # every process has its engine module state; the clock starts together
    started = time.perf_counter()
    start.set()
    problems = [done.get(timeout=600) for _ in procs]
    seconds = time.perf_counter() - started
    for p in procs:
        p.join(10)
    failed = [p for p in problems if p]
    if failed:
        raise RuntimeError(f"a bench worker failed: {failed[0]}")
    return seconds


def measure_apply_rate(
    devices: int = 100,
    db_url: str | None = None,
    *,
    orders_per_device: int = 20,
    batch_size: int = 100,
    workers: int = 2,
    processes: bool = True,
) -> ApplyRate:
    """Apply every simulated device's events and time it (see the module docstring).

    ``workers`` apply at the same time, as processes (like hub workers sharing one
    subscription) or, with ``processes=False``, as threads of this process.
    """
    site = build_demo_site(order_count=devices * orders_per_device)
    with throwaway_database(db_url) as url:
        engine = open_database(url, SITE)
        try:
            load_demo(engine, site)
            ids = [f"bh-{i:03d}" for i in range(1, devices + 1)]
            for device in ids:
                run_transaction(engine, partial(_register, device))
            streams = {
                device: device_events(
                    device,
                    site.orders[i * orders_per_device : (i + 1) * orders_per_device],
                    site.pick_faces,
                )
                for i, device in enumerate(ids)
            }
            total = sum(len(s) for s in streams.values())
            lanes: list[list[tuple[str, list[Any]]]] = [[] for _ in range(workers)]
            batches = 0
            longest = max(len(s) for s in streams.values())
            for start in range(0, longest, batch_size):  # round-robin over devices
                for i, device in enumerate(ids):
                    chunk = streams[device][start : start + batch_size]
                    if chunk:
                        lanes[i % workers].append((device, chunk))
                        batches += 1
            refresh_statistics(engine)
            seconds = _run_lanes(url, lanes, processes=processes)
        finally:
            backend = engine.dialect.name
            engine.dispose()
    return ApplyRate(
        events_per_s=total / seconds,
        events=total,
        batches=batches,
        seconds=seconds,
        devices=devices,
        batch_size=batch_size,
        workers=workers,
        processes=processes,
        backend=backend,
    )
