"""The central order hub: order intake, stock reservation, allocation, event apply,
status publishing and dead letters, over MQTT, on SQLite or PostgreSQL.

In-process API (no subprocess, for tests and benchmarks)::

    hub = Hub(db_url, broker_url, HubSettings(site="dc1")).start(wait_online=10)
    ...
    hub.stop()

    with engine.begin() as conn:          # no MQTT at all
        result = apply_batch(conn, "hh-01", records, site="dc1")

``floor-hub`` (:mod:`hub.__main__`) is the command; docs/hub.md describes it all.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import Connection

from .allocation import AllocationReport, AllocationSettings, allocate
from .apply import ApplyResult, ApplySettings, apply_batch
from .batch_reader import BadEvent, ReceivedBatch, read_batch
from .cancellation import cancel_order
from .database import make_engine, run_transaction
from .errors import DatabaseUnavailable, HubError, ImportFileError, NotFound, UnknownDevice
from .importer import ImportReport, import_orders
from .intake import IntakeResult, take_order, take_raw
from .outbound import Outbound, OutMessage, transact
from .receiver import Handled, Receiver
from .service import Hub, HubSettings
from .setup import load_demo, open_database
from .site_data import register_device
from .stats import hub_stats


def start_in_process(
    db_url: str,
    broker_url: str,
    site: str = "dc1",
    devices: list[str] | None = None,
    *,
    demo: bool = True,
    allocate_every_s: float = 0.0,
    wait_online: float = 10.0,
) -> Hub:
    """Start a hub in this process (for benchmarks and tests); ``.stop()`` ends it.

    With ``demo`` the demo site is loaded into an empty database first; every device in
    ``devices`` is registered (as a picker) if it is not known yet. Allocation is off
    unless ``allocate_every_s`` is given.
    """
    engine = open_database(db_url, site)
    messages: list[OutMessage] = []
    if demo:
        _, messages = load_demo(engine)
    for device in devices or []:
        run_transaction(engine, partial(_register_picker, device))
    hub = Hub(
        db_url,
        broker_url,
        HubSettings(site=site, allocate_every_s=allocate_every_s),
        engine=engine,
    )
    hub.publish_later(messages)
    return hub.start(wait_online=wait_online)


def _register_picker(device: str, conn: Connection) -> bool:
    return register_device(conn, device, "picker")


__all__ = [
    "AllocationReport",
    "AllocationSettings",
    "ApplyResult",
    "ApplySettings",
    "BadEvent",
    "DatabaseUnavailable",
    "Handled",
    "Hub",
    "HubError",
    "HubSettings",
    "ImportFileError",
    "ImportReport",
    "IntakeResult",
    "NotFound",
    "OutMessage",
    "Outbound",
    "ReceivedBatch",
    "Receiver",
    "UnknownDevice",
    "allocate",
    "apply_batch",
    "cancel_order",
    "hub_stats",
    "import_orders",
    "load_demo",
    "make_engine",
    "open_database",
    "read_batch",
    "register_device",
    "run_transaction",
    "start_in_process",
    "take_order",
    "take_raw",
    "transact",
]
