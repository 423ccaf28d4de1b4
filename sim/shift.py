"""``floor-shift``: a simulated shift working the hub's real orders on the real device core.

Pickers' handhelds (``hh-01`` ...) and pack stations (``pk-01`` at ``PACK-01`` ...) each
open their own SQLite store in ``--data-dir``, load the demo site's reference data once
(SKUs, locations, cartons, the roster), log their user in by badge and sync with the hub
through a real :class:`sync.device.SyncAgent`. Then each does what a person on the floor
does with what the hub sends it, one confirmed action (one local transaction) at a time:

* a **picker** takes the pick tasks pushed to it and starts each (the ``task.started``
  claim), scans an empty tote for each position of its cart (``tote.assigned``; each
  picker takes the totes of its own share of the site's stack, so two never take the same);
  along the route it scans each line's location, then the barcode of every unit, each
  checked against the line, and confirms it through
  :class:`~floor_app.services.picking.PickingService`, scanning the tote to confirm each
  put; then it completes the task;
* a **pack station** takes the orders the hub pushes to it once they are picked, opens
  each by its tote once the hub says which tote holds it (the picker's task is done), or
  by its packing slip when no tote came within :data:`TOTE_WAIT_S`,
  scans every unit to verify it, packs it in the suggested carton
  and records what its scale weighs (:class:`~floor_app.services.packing.PackingService`:
  the weight must be within the tolerance), prints the label through a real ZPL printer
  writing to a spool folder (:class:`~floor_app.services.labels.LabelService`), reads the
  tracking number back from the printed label and confirms it (``label.confirmed``).

Nothing is invented here: every task and order comes from the hub (``floor-hub --demo``
registers ``hh-01``..``hh-04`` and ``pk-01``, ``pk-02``; more devices need
``floor-hub register``). Everything the shift needs to continue is in the stores: stopped
or killed and started again with the same ``--data-dir``, it resumes where it was.

``--pace S`` makes each device take about ``S`` seconds per scan, as a person does (the
living demo site, ``floor-demo``, runs its colleagues so); the default, 0, works flat out.
``--first-picker`` and ``--first-station`` number the devices from there (``hh-02`` ...),
leaving the lower ids to devices run elsewhere.

With ``--orders N`` the shift ends once its stations have labelled N orders and the hub
has acknowledged every event (or at ``--timeout``); without it, on SIGTERM or SIGINT. It
prints one JSON object, ``{"labelled": N, "complete": true, "devices": {"hh-01": {...}}}``,
and exits 0 when N orders were labelled and everything was acknowledged, 1 otherwise.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from device_drivers.config import PrinterConfig
from device_drivers.fakes import FakeScale
from device_drivers.label_renderer import ShippingLabelRenderer
from device_drivers.labels.zpl import code128_fields
from device_drivers.printer import build_printer
from device_drivers.printer.files import job_file_name
from device_drivers.weighing import ScaleError
from floor_app.demo import DEMO_SENDER, DemoSite, build_demo_site
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState
from floor_app.domain.packing import LabelJob, LabelState, PackState
from floor_app.domain.picking import PickTask, TaskState
from floor_app.domain.users import Role
from floor_app.services.errors import Unavailable
from floor_app.services.labels import LabelService
from floor_app.services.packing import PackingService, PackView
from floor_app.services.picking import PickingService
from floor_app.services.session import SessionService
from floor_app.store import Store, StoreError
from floor_app.store.seed import load_demo
from sync.device import AgentOptions, SyncAgent

from .commands import command_settings, stop_on_signals

log = logging.getLogger("floor.shift")

PICKER_BADGES = ("B1001", "B1002", "B1003")  # alice, 王芳, sam
#: How long a station waits for a picked order's tote before packing it by its slip.
TOTE_WAIT_S = 10.0
PACKER_BADGES = ("B2001", "B2002")  # ben, 李伟
#: Seconds the devices have to stop once the shift ends; then every thread's stack is
#: written to stderr and the process exits with status 1.
STOP_WITHIN_S = 60.0
CURRENT_USER = "current_user"


@dataclass
class Tally:
    """What one device did in this run (``events`` and ``acked`` are its outbox's totals)."""

    role: str
    user: str
    station: str = ""
    tasks: int = 0
    units: int = 0
    orders: int = 0
    #: orders a station opened by their tote (the others by the packing slip)
    by_tote: int = 0
    events: int = 0
    acked: int = 0
    refused: int = 0
    rejected: int = 0
    errors: int = 0
    last_error: str = ""


class FloorDevice:
    """One device: its store, its sync agent, its logged-in user and its work loop."""

    role = Role.PICKER

    def __init__(
        self,
        device_id: str,
        badge: str,
        data_dir: Path,
        site: Callable[[], DemoSite],
        settings: AgentOptions,
        station: str = "",
        pace_s: float = 0.0,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        self.device_id = device_id
        self.station = station
        self.pace_s = pace_s
        #: (n, of): this device takes the totes whose number leaves n divided by ``of``
        self.share = share
        self._rng = random.Random(device_id)
        self._stop = threading.Event()
        self.store = Store.open(
            data_dir / f"{device_id}.db", device_id=device_id, site=settings.site
        )
        load_demo(self.store, site, tasks=0)
        self.user = self.store.meta(CURRENT_USER) or self._login(badge)
        self.agent = SyncAgent(self.store, settings)
        self.tally = Tally(self.role.value, self.user, station)
        self._news = threading.Event()
        self.agent.on_push_applied(lambda _message: self._news.set())
        self.agent.on_claim_refused(lambda refusal: self._problem(f"refused: {refusal}", "refused"))
        self.agent.on_event_rejected(
            lambda rejection: self._problem(f"rejected: {rejection}", "rejected")
        )
        self.prepare(data_dir)

    def prepare(self, data_dir: Path) -> None:
        """Set up the services (and the station's printer and scale) once the store is open."""
        raise NotImplementedError

    def _login(self, badge: str) -> str:
        return SessionService(self.store).login_badge(badge, self.role).user.user_id

    def _problem(self, text: str, counter: str = "errors") -> None:
        setattr(self.tally, counter, getattr(self.tally, counter) + 1)
        self.tally.last_error = text
        log.warning("%s: %s", self.device_id, text)

    def step(self, stop: threading.Event) -> bool:
        """Do the next piece of work; False when there is none."""
        raise NotImplementedError

    def dwell(self) -> bool:
        """Take the time a person takes for the next scan (``pace_s``, give or take 40 %);
        False when the shift is stopping meanwhile."""
        if self.pace_s > 0:
            self._stop.wait(self.pace_s * self._rng.uniform(0.6, 1.4))
        return not self._stop.is_set()

    def work(self, stop: threading.Event) -> None:
        """Work until ``stop``; with nothing to do, wait for the hub's next push."""
        self._stop = stop
        while not stop.is_set():
            self._news.clear()
            try:
                busy = self.step(stop)
            except (DomainError, StoreError, Unavailable, ScaleError) as exc:
                self._problem(str(exc))
                stop.wait(0.2)
                continue
            if not busy:
                self._news.wait(0.5)

    def settled(self) -> bool:
        """True when the hub acknowledged every event of this device."""
        return self.agent.acked_seq >= self.store.outbox_stats()[2]

    def report(self) -> dict[str, object]:
        self.tally.events = self.store.outbox_stats()[2]
        self.tally.acked = self.agent.acked_seq
        return asdict(self.tally)

    def close(self) -> None:
        self.agent.stop()
        self.store.close()


def expect_scan(scanned: str, kind: CodeKind, value: str, what: str) -> None:
    """Check a scan as the screen does: the right kind of code and the expected one."""
    code = classify(scanned)
    if code.kind is not kind or code.value != value:
        raise DomainError(f"scanned {scanned}, expected {what}", hint="scan again")


class Picker(FloorDevice):
    """A picker's handheld: picks every task the hub leases to it."""

    role = Role.PICKER

    def prepare(self, data_dir: Path) -> None:
        self.picking = PickingService(self.store)
        self._barcodes: dict[str, str] = {}

    def barcode(self, sku: str) -> str:
        """The barcode printed on a unit of ``sku`` (its GTIN, from the catalogue)."""
        if sku not in self._barcodes:
            with self.store.unit_of_work() as uow:
                self._barcodes[sku] = uow.catalogue.sku(sku).gtin
        return self._barcodes[sku]

    def step(self, stop: threading.Event) -> bool:
        tasks = self.picking.open_tasks()
        if not tasks:
            return False
        tasks.sort(key=lambda t: (t.state is not TaskState.IN_PROGRESS, t.task_id))
        self.pick(tasks[0], stop)
        return True

    def pick(self, task: PickTask, stop: threading.Event) -> None:
        """Start (or resume) ``task``, scan its totes, pick every open unit in route order
        (each put confirmed by a scan of its tote), complete it."""
        if task.state is TaskState.ASSIGNED:
            task = self.picking.start(task.task_id, self.user).task
        while task.totes_to_scan():
            if not self.dwell():
                return
            n, of = self.share
            free = self.picking.free_totes(1, every=of, offset=n)
            if not free:
                raise DomainError("no empty tote of this picker's share", hint="wait for packing")
            expect_scan(free[0], CodeKind.TOTE, free[0], "an empty tote")
            task = self.picking.assign_totes(task.task_id, free[0], self.user).task
        at = ""
        while True:
            if stop.is_set():
                return
            put = self.picking.put_due(task)
            if put is not None:
                tote = task.tote_for(put.tote_position)
                code = tote.tote_id if tote else ""
                expect_scan(code, CodeKind.TOTE, code, f"tote {put.tote_position}")
                task = self.picking.confirm_put(task.task_id, put.line_id, code, self.user).task
                continue
            line = task.next_line()
            if line is None:
                break
            if line.location != at:  # walked to the next location: scan its label first
                expect_scan(line.location, CodeKind.LOCATION, line.location, line.location)
                at = line.location
                if not self.dwell():
                    return
            expect_scan(
                self.barcode(line.sku), CodeKind.PRODUCT, classify(line.gtin).value, line.sku
            )
            task = self.picking.confirm(task.task_id, line.line_id, 1, self.user, task=task).task
            self.tally.units += 1
        self.picking.complete(task.task_id, self.user)
        self.tally.tasks += 1


class PackStation(FloorDevice):
    """A pack station: packs, weighs, labels and confirms every order pushed to it."""

    role = Role.PACKER

    def prepare(self, data_dir: Path) -> None:
        station, device_id = self.station, self.device_id
        self.packing = PackingService(self.store, station)
        self.printer_dir = data_dir / f"{device_id}-printer"
        self.printer = build_printer(
            f"{station} printer",
            PrinterConfig(
                transport="spool",
                spool_dir=self.printer_dir,
                required=False,
                retries=2,
                retry_backoff_s=0.2,
            ),
        )
        self.printer.start()
        self.labels = LabelService(
            self.store,
            self.printer,
            data_dir / f"{device_id}-labels",
            ShippingLabelRenderer(),
            sender=DEMO_SENDER,
        )
        self.scale = FakeScale(f"{station} scale")
        self.scale.start()
        #: when each picked order was first seen here (its tote may still be on a cart)
        self._seen: dict[str, float] = {}

    def labelled(self) -> int:
        """Orders this station labelled (label scanned back), from its store."""
        with self.store.unit_of_work() as uow:
            return len(uow.packs.labels_in(LabelState.CONFIRMED.value))

    def step(self, stop: threading.Event) -> bool:
        with self.store.unit_of_work() as uow:
            started = uow.orders.by_state(OrderState.PACKING, OrderState.PACKED)
            picked = uow.orders.by_state(OrderState.PICKED)
        if started:
            self.pack(sorted(started)[0])
            return True
        now = time.monotonic()
        for order_id in sorted(picked):
            # its tote comes once the picker's task is done; after a while, the slip
            first_seen = self._seen.setdefault(order_id, now)
            if self.packing.totes_holding(order_id) or now - first_seen > TOTE_WAIT_S:
                self.pack(order_id)
                return True
        return False

    def pack(self, order_id: str) -> None:
        """Pack ``order_id`` from wherever its pack session is, up to its confirmed label:
        opened by its tote, or by its packing slip (whose barcode is the order id) while the
        hub has not said which tote holds it."""
        if not self.dwell():
            return
        totes = self.packing.totes_holding(order_id)
        view = self.packing.open(totes[0] if totes else order_id)
        if totes:
            self.tally.by_tote += 1
        session_id = view.session.session_id
        for sku, missing in view.session.missing.items():
            for _ in range(missing):
                if not self.dwell():
                    return
                view, _item = self.packing.verify(session_id, view.skus[sku].gtin)
        if view.session.state is PackState.WEIGHING:
            if not self.dwell():
                return
            self.scale.place(self.parcel_kg(view), "kg")
            weight = self.scale.read(stable=True)
            view = self.packing.weigh(session_id, weight.grams, self.user)
        job = view.label
        if job is None or job.state in (LabelState.QUEUED, LabelState.FAILED):
            job = self.labels.request(order_id)
            job, result = self.labels.print(job, self.user)
            if not result.printed:
                raise DomainError(f"label {job.tracking} did not print: {result.error}")
        if not self.dwell():
            return
        self.labels.confirm(job.job_id, self.scan_label(job), self.user)
        self.tally.orders += 1

    @staticmethod
    def parcel_kg(view: PackView) -> Decimal:
        """What the parcel weighs on the scale: the items and the carton, give or take up to
        half the tolerance (the same order always weighs the same)."""
        spread = view.tolerance_g // 2
        digest = hashlib.sha256(view.order.order_id.encode()).digest()
        offset = int.from_bytes(digest[:4], "big") % (2 * spread + 1) - spread
        return Decimal(view.expected_weight_g + offset) / 1000

    def scan_label(self, job: LabelJob) -> str:
        """The tracking number read from the label as the printer received it."""
        printed = self.printer_dir / job_file_name(job.job_id)
        try:
            texts = code128_fields(printed.read_bytes())
        except (OSError, ValueError) as exc:
            raise DomainError(f"label {job.tracking} cannot be read back: {exc}") from exc
        for text in texts:
            try:
                if classify(text).kind is CodeKind.TRACKING:
                    return text
            except DomainError:
                continue  # another barcode on the label
        raise DomainError(f"label {job.tracking} has no tracking barcode", hint="reprint it")

    def close(self) -> None:
        self.printer.stop()
        self.scale.stop()
        super().close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="floor-shift", description=(__doc__ or "").splitlines()[0].replace("``", "")
    )
    p.add_argument("--pickers", type=int, default=4, help="pickers' handhelds (hh-01 ...)")
    p.add_argument("--stations", type=int, default=2, help="pack stations (pk-01 at PACK-01 ...)")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT")
    p.add_argument("--site", default="dc1")
    p.add_argument(
        "--data-dir", type=Path, default=Path("shift-data"), help="where the device stores live"
    )
    p.add_argument(
        "--orders", type=int, default=0, help="end once this many orders are labelled (0: never)"
    )
    p.add_argument("--timeout", type=float, default=0.0, help="give up after S seconds (0: never)")
    p.add_argument(
        "--pace", type=float, default=0.0, help="seconds per scan, as a person (0: flat out)"
    )
    p.add_argument("--first-picker", type=int, default=1, help="number of the first hh-NN")
    p.add_argument("--first-station", type=int, default=1, help="number of the first pk-NN")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    if args.pickers < 1 or args.stations < 1:
        p.error("--pickers and --stations must be at least 1")
    if args.first_picker < 1 or args.first_station < 1:
        p.error("--first-picker and --first-station must be at least 1")
    if args.pace < 0:
        p.error("--pace must not be negative")
    if args.orders < 0 or args.timeout < 0:
        p.error("--orders and --timeout must not be negative")
    return args


def build_devices(
    args: argparse.Namespace, settings: AgentOptions
) -> tuple[list[Picker], list[PackStation]]:
    """The shift's devices, their stores opened (and seeded on first use)."""
    site = cache(build_demo_site)
    first_picker, first_station = args.first_picker, args.first_station
    pickers = [
        Picker(
            f"hh-{n:02d}",
            PICKER_BADGES[(n - 1) % 3],
            args.data_dir,
            site,
            settings,
            pace_s=args.pace,
            share=(n - first_picker, args.pickers),
        )
        for n in range(first_picker, first_picker + args.pickers)
    ]
    stations = [
        PackStation(
            f"pk-{n:02d}",
            PACKER_BADGES[(n - 1) % 2],
            args.data_dir,
            site,
            settings,
            f"PACK-{n:02d}",
            pace_s=args.pace,
        )
        for n in range(first_station, first_station + args.stations)
    ]
    return pickers, stations


def main(argv: list[str] | None = None) -> int:
    """Run a shift; see the module docstring."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = command_settings("floor-shift", args)
    if settings is None:
        return 2
    stop = stop_on_signals()
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        pickers, stations = build_devices(args, settings)
    except (OSError, StoreError, DomainError) as exc:
        print(f"floor-shift: {exc}", file=sys.stderr)
        return 2
    devices: list[FloorDevice] = [*pickers, *stations]
    for device in devices:
        device.agent.start()
    workers = [
        threading.Thread(target=d.work, args=(stop,), name=f"work-{d.device_id}") for d in devices
    ]
    for w in workers:
        w.start()
    deadline = time.monotonic() + args.timeout if args.timeout else None
    if args.timeout:  # not even the main loop may hang past the deadline
        faulthandler.dump_traceback_later(args.timeout + STOP_WITHIN_S, exit=True)
    labelled = 0
    done = False
    started = next_note = time.monotonic()
    while not stop.wait(0.25):
        labelled = sum(s.labelled() for s in stations)
        done = bool(args.orders) and labelled >= args.orders and all(d.settled() for d in devices)
        now = time.monotonic()
        if done or (deadline is not None and now > deadline):
            break
        if now >= next_note:  # a line a minute in the log: where a long shift stands
            next_note = now + 60
            print(f"floor-shift: {labelled} labelled after {now - started:.0f} s", file=sys.stderr)
    stop.set()
    # a worker that does not stop within a minute is a bug: its stack goes to the log
    faulthandler.dump_traceback_later(STOP_WITHIN_S, exit=True)
    for w in workers:
        w.join()
    labelled = sum(s.labelled() for s in stations)
    settled = all(d.settled() for d in devices)
    report = {
        "labelled": labelled,
        "complete": done,
        "devices": {d.device_id: d.report() for d in devices},
    }
    for device in devices:
        device.close()
    faulthandler.cancel_dump_traceback_later()
    print(json.dumps(report, ensure_ascii=False, sort_keys=True), flush=True)
    return 0 if (done or (not args.orders and settled)) else 1


if __name__ == "__main__":
    sys.exit(main())
