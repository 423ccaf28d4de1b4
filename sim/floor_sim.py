"""``floor-sim``: simulated floor devices running the real device core (store, outbox, sync).

Each simulated device opens its own SQLite store in ``--data-dir``, loads the demo site's
reference data once, and then does real floor work, one confirmed action (one local
transaction, one outbox event) at a time: it starts a pick task, scans an empty tote for
each position (from its own share of the site's totes), confirms picks unit by unit, each
put by a scan of its tote, and completes the task through
:class:`floor_app.services.picking.PickingService`, then packs each order of the task,
prints its label and scans the label back.

The tasks are the hub's: ``floor-hub --demo`` allocates the demo orders and leases tasks to
the demo pickers (``hh-01`` ...), so the device's claims are granted and its facts land on
known tasks and orders. Only when no hub task comes for :data:`HUB_WORK_WAIT_S` (no hub at
all, or the hub has no work left for this device) does the device make a task of its own
from the demo orders (``SIM-...``): a hub refuses the claim on a task it does not know, and
records the facts. Packing and labels
are recorded through ``store.unit_of_work()`` and ``uow.emit(...)`` with the real domain
events (no packing service exists yet). A real :class:`sync.device.SyncAgent` per device
sends it all to the hub.

Everything the simulator needs to continue is in the stores: killed with SIGKILL and started
again with the same ``--data-dir``, it resumes where it was and loses nothing. When every
device has generated ``--events`` events it waits until the hub acknowledged them all (or
``--timeout``) and prints ``{"devices": {"hh-01": {"generated": N, "acked": N}, ...}}``.
The exit code is 0 when everything was acknowledged, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from floor_app.demo import DemoSite, build_demo_site
from floor_app.domain.errors import DomainError
from floor_app.domain.events import LabelConfirmed, LabelPrinted, PackCompleted
from floor_app.domain.packing import tracking_number
from floor_app.domain.picking import TaskState
from floor_app.domain.tasks import build_pick_task
from floor_app.services.errors import Unavailable
from floor_app.services.picking import PickingService
from floor_app.store import Store, StoreError
from floor_app.store.outbox import new_event_id
from floor_app.store.seed import load_demo
from sync.device import AgentOptions, SyncAgent

from .commands import command_settings, stop_on_signals

log = logging.getLogger("floor.sim")

TASK_COUNTER = "sim_tasks_created"
PACK_QUEUE = "sim_pack_queue"  # JSON list of [order_id, stage, job_id]
ORDERS_PER_TASK = 2
#: How long an idle device waits for the hub to give it a task before it makes its own.
HUB_WORK_WAIT_S = 3.0
#: Devices take totes from shares of the site's stack: device ``i`` those whose number
#: leaves ``i`` divided by this, so up to this many devices never take the same tote.
TOTE_SHARES = 16
OWN_TASK_PREFIX = "SIM-"
SIM_USER = "alice"
SIM_PACKER = "ben"


@dataclass
class DeviceResult:
    """What one simulated device did."""

    generated: int = 0
    acked: int = 0
    refused: int = 0
    error: str = ""


class SimulatedDevice:
    """One device: its store, its sync agent and the floor work it generates."""

    def __init__(
        self, index: int, device_id: str, site: DemoSite, data_dir: Path, settings: AgentOptions
    ) -> None:
        self.index = index
        self.device_id = device_id
        self.site = site
        self.store = Store.open(data_dir / f"{device_id}.db", device_id=device_id, site=site.site)
        load_demo(self.store, site, tasks=0)
        self.picking = PickingService(self.store)
        self.agent = SyncAgent(self.store, settings)
        self.result = DeviceResult()
        self.agent.on_claim_refused(lambda _r: self._refused())
        self._idle_since: float | None = None
        self._own_work = False  # no hub task came: this run makes its own without waiting
        self._locations = {loc.code: loc for loc in site.locations}
        self._skus = {s.sku: s for s in site.skus}

    def _refused(self) -> None:
        self.result.refused += 1

    @property
    def generated(self) -> int:
        """Events generated so far (the outbox's last sequence: one event per action)."""
        return self.store.outbox_stats()[2]

    # -- one action -----------------------------------------------------------------------

    def step(self) -> bool:
        """Do the next floor action: exactly one committed event. False when the device
        is idle, waiting for the hub to give it a task."""
        queue = json.loads(self.store.meta(PACK_QUEUE, "[]") or "[]")
        if queue:
            self._pack_step(queue)
            return True
        with self.store.unit_of_work() as uow:
            active = uow.tasks.ids(TaskState.IN_PROGRESS)
            assigned = uow.tasks.ids(TaskState.ASSIGNED)
        if active:
            task = self.picking.task(active[0])
            if task.totes_to_scan():
                self._scan_tote(task.task_id)
                return True
            put = self.picking.put_due(task)
            if put is not None:
                tote = task.tote_for(put.tote_position)
                code = tote.tote_id if tote else ""
                self.picking.confirm_put(task.task_id, put.line_id, code, SIM_USER)
                return True
            line = task.next_line()
            if line is not None:
                self.picking.confirm(task.task_id, line.line_id, 1, SIM_USER)
            else:
                self._complete(task.task_id)
            return True
        hub_tasks = [t for t in assigned if not t.startswith(OWN_TASK_PREFIX)]
        if hub_tasks:
            self._idle_since, self._own_work = None, False
            assigned = hub_tasks
        elif not assigned:
            if not self._may_make_own_task():
                return False
            assigned = [self._new_task()]
        self.picking.start(assigned[0], SIM_USER)
        return True

    def _scan_tote(self, task_id: str) -> None:
        """An empty tote of this device's share for the task's next position."""
        free = self.picking.free_totes(1, every=TOTE_SHARES, offset=self.index)
        if not free:
            raise DomainError("no empty tote of this device's share", hint="wait for packing")
        self.picking.assign_totes(task_id, free[0], SIM_USER)

    def _may_make_own_task(self) -> bool:
        """True once the hub gave no task for :data:`HUB_WORK_WAIT_S` (then, in this run,
        without waiting again until a hub task comes)."""
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if self._own_work or now - self._idle_since >= HUB_WORK_WAIT_S:
            self._own_work = True
            self._idle_since = None
            return True
        return False

    def _complete(self, task_id: str) -> None:
        """Complete the task and queue its orders for packing, in one transaction."""
        task = self.picking.task(task_id)
        orders = sorted({ln.order_id for ln in task.lines})
        result = self.picking.complete(task_id, SIM_USER)
        # the pack queue is written after; if we die in between, the orders are simply not packed
        with self.store.unit_of_work() as uow:
            queue = json.loads(uow.meta.get(PACK_QUEUE, "[]") or "[]")
            queue += [[order_id, "pack", ""] for order_id in orders]
            uow.meta.set(PACK_QUEUE, json.dumps(queue))
            uow.commit()
        log.debug("%s completed %s (seq %d)", self.device_id, task_id, result.event.seq)

    def _pack_step(self, queue: list[list[str]]) -> None:
        order_id, stage, job = queue[0]
        station = f"PACK-{self.index % 2 + 1:02d}"
        tracking = tracking_number(order_id, self.index)
        with self.store.unit_of_work() as uow:
            if stage == "pack":
                uow.emit(
                    PackCompleted(
                        order=order_id,
                        station=station,
                        carton="CTN-M",
                        weight_g=1200,
                        user=SIM_PACKER,
                    )
                )
                queue[0] = [order_id, "label", new_event_id()]
            elif stage == "label":
                uow.emit(
                    LabelPrinted(
                        job=job, order=order_id, tracking=tracking, carrier="DHL", user=SIM_PACKER
                    )
                )
                queue[0] = [order_id, "confirm", job]
            else:
                uow.emit(
                    LabelConfirmed(job=job, order=order_id, tracking=tracking, user=SIM_PACKER)
                )
                queue.pop(0)
            uow.meta.set(PACK_QUEUE, json.dumps(queue))
            uow.commit()

    def _new_task(self) -> str:
        orders = self.site.orders
        with self.store.unit_of_work() as uow:
            n = int(uow.meta.get(TASK_COUNTER, "0") or "0") + 1
            start = (self.index * 17 + n * ORDERS_PER_TASK) % len(orders)
            group = [orders[(start + i) % len(orders)] for i in range(ORDERS_PER_TASK)]
            task = build_pick_task(
                f"{OWN_TASK_PREFIX}{self.device_id}-{n:05d}",
                group,
                pick_face=lambda code: self._locations[self.site.pick_faces[code]],
                sku=lambda code: self._skus[code],
            )
            task.state = TaskState.ASSIGNED
            task.assigned_to = SIM_USER
            uow.tasks.save(task)
            uow.meta.set(TASK_COUNTER, str(n))
            uow.commit()
        return task.task_id

    # -- the work loop --------------------------------------------------------------------

    def work(self, events: int, rate: float, stop: threading.Event) -> None:
        """Generate actions until ``events`` were generated (``rate`` per second, 0 = flat out)."""
        interval = 1.0 / rate if rate > 0 else 0.0
        next_at = time.monotonic()
        while not stop.is_set() and self.generated < events:
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
                next_at = max(next_at + interval, time.monotonic() - 1.0)
            try:
                if not self.step():
                    stop.wait(0.05)
            except (StoreError, Unavailable) as exc:
                self.result.error = exc.reason
                log.warning("%s: the store refused an action: %s", self.device_id, exc)
                stop.wait(0.2)
            except DomainError as exc:
                self.result.error = exc.reason
                log.warning("%s: %s", self.device_id, exc)
                stop.wait(0.05)

    def close(self) -> None:
        self.agent.stop()
        self.store.close()


def device_ids(count: int, prefix: str = "hh-", first: int = 1) -> list[str]:
    """``hh-01``, ``hh-02`` ... (the demo site's handhelds first)."""
    return [f"{prefix}{i:02d}" for i in range(first, first + count)]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="floor-sim", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("--devices", type=int, default=4, help="how many devices (hh-01 ...)")
    p.add_argument("--events", type=int, default=100, help="events to generate per device")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT")
    p.add_argument(
        "--rate", type=float, default=0.0, help="events per second per device (0: flat out)"
    )
    p.add_argument(
        "--data-dir", type=Path, default=Path("sim-data"), help="where the device stores live"
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every ack")
    p.add_argument("--site", default="dc1")
    p.add_argument("--device-prefix", default="hh-")
    p.add_argument("--first-device", type=int, default=1, help="number of the first device (hh-NN)")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    if args.devices < 1 or args.events < 0 or args.first_device < 1:
        p.error("--devices and --first-device must be at least 1 and --events not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; see the module docstring."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = command_settings("floor-sim", args)
    if settings is None:
        return 2
    args.data_dir.mkdir(parents=True, exist_ok=True)
    site = build_demo_site()
    stop = stop_on_signals()
    devices: list[SimulatedDevice] = []
    try:
        for i, device_id in enumerate(
            device_ids(args.devices, args.device_prefix, args.first_device)
        ):
            devices.append(
                SimulatedDevice(args.first_device - 1 + i, device_id, site, args.data_dir, settings)
            )
    except StoreError as exc:
        print(f"floor-sim: {exc}", file=sys.stderr)
        return 2
    for device in devices:
        device.agent.start()
    deadline = time.monotonic() + args.timeout
    timer = threading.Timer(args.timeout, stop.set)
    timer.daemon = True
    timer.start()
    workers = [
        threading.Thread(
            target=d.work, args=(args.events, args.rate, stop), name=f"work-{d.device_id}"
        )
        for d in devices
    ]
    for w in workers:
        w.start()
    for w in workers:
        while w.is_alive() and not stop.is_set():
            w.join(0.2)
    for device in devices:
        target = device.generated
        while not stop.is_set() and device.agent.acked_seq < target:
            left = deadline - time.monotonic()
            if left <= 0 or device.agent.wait_acked(target, min(left, 0.5)):
                break
    report: dict[str, dict[str, object]] = {"devices": {}}
    complete = True
    for device in devices:
        generated, acked = device.generated, device.agent.acked_seq
        complete = complete and acked >= generated >= args.events
        report["devices"][device.device_id] = {
            "generated": generated,
            "acked": acked,
            "refused": device.result.refused,
        }
    stop.set()
    timer.cancel()
    for device in devices:
        device.close()
    print(json.dumps(report, sort_keys=True), flush=True)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
