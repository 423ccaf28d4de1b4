"""The pack station: scan a tote or order, verify every item, weigh, print, scan the label.

Every step is driven by scans: a tote or order opens the parcel (a tote whichever device
picked it; one this station has not heard of yet is said so, and the packing slip's order
number opens the parcel instead; packing frees the tote); item scans verify the
lines; a carton scan (``CTN-…``) changes the suggested carton; the scale's reading (or a
typed weight in grams) is checked against items plus carton tare; the label prints
itself and is scanned back to confirm. The carrier service the hub chose is shown with its
cost and why; F3 changes it to another service quoted as fitting, with a reason (a label
already printed is printed again). F4 holds the order (a missing item), F6 reprints with a
reason, F7 asks for a supervisor's badge and reason to accept a weight outside tolerance,
F8 reads the scale again, F10 prints the packing slip (with the lots and serial numbers
picked), Esc leaves the parcel for later. F5 opens the returns desk
(:mod:`floor_app.ui.screens.returns`).

The screen holds the parcel (:class:`~floor_app.services.packing.PackView`) and calls the
services; each flow's widget (:mod:`floor_app.ui.screens.pack`) shows its part and reports
what its worker or dialog got as a message. With the demo scale, the station puts the
carton's units and tare on it before each reading, and F9 makes the next reading misweigh.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from device_drivers.demo_scale import DemoScale, Parcel
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.packing import LabelState, PackState
from floor_app.services.errors import ServiceError
from floor_app.services.labels import LabelService
from floor_app.services.packing import PackingService, PackView, ToteNotHeard, WeightMismatch
from floor_app.ui.messages import SyncNotice, SyncNoticeKind
from floor_app.ui.widgets.key_bar import KeyBar
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen
from .pack.carrier import CarrierLine
from .pack.labelling import LabelPreview
from .pack.parcel import ParcelLines
from .pack.steps import Step, next_step
from .pack.weighing import MAX_WEIGHT_DIGITS, ParcelWeight, weight_off
from .returns import ReturnsScreen


class PackerHomeScreen(FloorScreen):
    """One parcel at a time (see the module docstring)."""

    BINDINGS = [
        Binding("f3", "carrier", "keys.carrier", id="pack.carrier"),
        Binding("f4", "hold", "keys.hold", id="pack.hold"),
        Binding("f5", "returns", "keys.returns", id="pack.returns"),
        Binding("f6", "reprint", "keys.reprint", id="pack.reprint"),
        Binding("f7", "override", "keys.override", id="pack.override"),
        Binding("f8", "read_scale", "keys.scale", id="pack.scale"),
        Binding("f9", "demo_misweigh", "keys.misweigh", id="pack.demo_misweigh"),
        Binding("f10", "slip", "keys.slip", id="pack.slip"),
        Binding("escape", "leave", "keys.leave", id="pack.leave"),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: PackView | None = None
        self.last_weight: int | None = None
        #: a tote scanned that this station has not heard of: the packing slip opens it
        self.unheard_tote: str | None = None

    @property
    def packing(self) -> PackingService:
        return self.floor.ctx.packing

    @property
    def labels(self) -> LabelService:
        return self.floor.ctx.labels

    def compose(self) -> ComposeResult:
        tr = self.floor.tr
        yield self.header()
        yield Static(
            tr("packer.title", station=self.packing.station), id="pack-title", classes="title"
        )
        yield Static(tr("packer.prompt"), id="prompt", classes="prompt")
        yield ParcelLines(tr)
        yield ParcelWeight(tr)
        yield CarrierLine(tr)
        yield LabelPreview(self.labels, tr)
        if self.floor.ctx.demo:
            yield Static("", id="demo", classes="hint")
        yield ScanInput(id="scan", placeholder="T0901 / SO-100001")
        yield Static("", id="message", classes="message")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()
        if self.resume_work and self.view is None:  # the parcel left open goes on
            self.resume_work = False
            self.view = self.packing.resume()
        self.show_view()

    # -- drawing -----------------------------------------------------------------------------

    def show_view(self) -> None:
        """Draw the parcel as it is now."""
        view = self.view
        self.query_one(ParcelLines).show(view)
        self.query_one(ParcelWeight).show(view)
        self.query_one(CarrierLine).show(view)
        self.query_one(LabelPreview).show(view.label if view is not None else None)
        step = next_step(view, self.floor.tr) if view is not None else self._idle_step()
        if step.prompt is not None:
            self.query_one("#prompt", Static).update(step.prompt)
        if step.demo is not None:
            for hint in self.query("#demo").results(Static):
                hint.update(step.demo)

    def _idle_step(self) -> Step:
        """No parcel open: scan a tote or an order (the packing slip of a tote not heard
        of); in the demo, the totes (or orders) waiting here."""
        tr = self.floor.tr
        demo: str | None = None
        if self.unheard_tote is not None:
            prompt = tr("packer.scan_slip", tote=self.unheard_tote)
            if self.floor.ctx.demo:
                codes = self.packing.waiting_orders(2)
                demo = tr("packer.demo_codes", codes=" · ".join(codes) or "-")
            return Step(prompt, demo)
        if self.floor.ctx.demo:
            codes = self.packing.waiting_totes(3)
            demo = (
                tr("packer.demo_codes", codes=" · ".join(codes))
                if codes
                else tr("packer.demo_none")
            )
        return Step(tr("packer.prompt"), demo)

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """Whatever the step needs: a tote/order, an item, a carton, a weight, the label."""
        view = self.view
        try:
            if view is None or view.session.state in (PackState.PACKED, PackState.HELD):
                self._open(text)
                return
            state = view.session.state
            if state is PackState.WEIGHING and text.isdigit() and len(text) <= MAX_WEIGHT_DIGITS:
                self.weigh(int(text))
                return
            code = classify(text)
            if code.kind is CodeKind.CARTON and state in (PackState.VERIFYING, PackState.WEIGHING):
                self.view = self.packing.choose_carton(view.session.session_id, text)
                self.show_message(self.tr("packer.carton_set", carton=code.value))
            elif state is PackState.VERIFYING:
                self.view, sku = self.packing.verify(view.session.session_id, text)
                self.show_message(self.tr("packer.verified", sku=sku.sku))
                if self.view.session.state is PackState.WEIGHING:
                    self.action_read_scale()
            elif state is PackState.CONFIRMING and view.label is not None:
                self.labels.confirm(view.label.job_id, text, self.floor.user_id)
                self.view = None
                self.show_view()
                self.show_message(self.tr("packer.packed", order=view.order.order_id))
                return
            elif state is PackState.WEIGHING:
                raise DomainError(self.tr("packer.weigh_now"), hint=self.tr("packer.weigh_hint"))
            else:
                raise DomainError(self.tr("packer.wait_print"))
        except WeightMismatch as exc:
            self.flash_error(weight_off(self.floor.tr, exc))
            return
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_view()

    def _open(self, text: str) -> None:
        try:
            self.view = self.packing.open(text, tote=self.unheard_tote)
        except ToteNotHeard as exc:
            self.view = None
            if exc.order_id is None:
                self.unheard_tote = exc.tote
                self.flash_error(self.tr("packer.tote_not_heard", tote=exc.tote))
            else:
                self.flash_error(
                    self.tr(
                        "packer.tote_elsewhere",
                        tote=exc.tote,
                        order=exc.order_id,
                        station=exc.destination or "-",
                    )
                )
            self.show_view()
            return
        self.unheard_tote = None
        self.show_message(self.tr("packer.opened", order=self.view.order.order_id))
        self.show_view()
        state = self.view.session.state
        if state is PackState.WEIGHING:
            self.action_read_scale()
        elif state is PackState.LABELLING:
            self.print_label()

    # -- weighing ----------------------------------------------------------------------------

    def action_read_scale(self) -> None:
        """Read the scale (in a worker: reads block)."""
        if self.view is None or self.view.session.state is not PackState.WEIGHING:
            return
        scale = self.floor.ctx.devices.scale
        if scale is None:
            self.show_message(self.tr("packer.no_scale"))
            return
        if isinstance(scale, DemoScale):
            scale.put(parcel_of(self.view))  # the demo's stand-in for setting the carton down
        self.query_one(ParcelWeight).read(scale)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F9 (misweigh) only with the demo scale."""
        return action != "demo_misweigh" or isinstance(self.floor.ctx.devices.scale, DemoScale)

    def action_demo_misweigh(self) -> None:
        """Demo: the next weighing reads off, to show the weight check."""
        scale = self.floor.ctx.devices.scale
        if isinstance(scale, DemoScale):
            scale.misweigh_next()
            self.show_message(self.tr("packer.demo_misweigh"))

    @on(ParcelWeight.Weighed)
    def _weighed(self, message: ParcelWeight.Weighed) -> None:
        self.weigh(message.grams)

    @on(ParcelWeight.ScaleFailed)
    def _scale_failed(self, message: ParcelWeight.ScaleFailed) -> None:
        self.flash_error(self.tr("packer.scale_failed", error=message.error))

    def weigh(
        self, grams: int, override_badge: str | None = None, override_reason: str = ""
    ) -> None:
        """Check and record the weight; on success print the label."""
        view = self.view
        if view is None or view.session.state is not PackState.WEIGHING:
            return
        self.last_weight = grams
        try:
            self.view = self.packing.weigh(
                view.session.session_id,
                grams,
                self.floor.user_id,
                override_badge=override_badge,
                override_reason=override_reason,
            )
        except WeightMismatch as exc:
            self.flash_error(weight_off(self.floor.tr, exc))
            return
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        if override_badge is not None and override_reason:
            self.show_message(self.tr("packer.weight_accepted", weight=self.floor.tr.grams(grams)))
        else:
            self.show_message(self.tr("packer.weight_ok", weight=self.floor.tr.grams(grams)))
        self.show_view()
        self.print_label()

    def action_override(self) -> None:
        """A supervisor's badge and reason accept the last weight although it is outside
        tolerance."""
        view = self.view
        if view is None or view.session.state is not PackState.WEIGHING or not self.last_weight:
            self.flash_error(self.tr("packer.override_nothing"))
            return
        self.query_one(ParcelWeight).ask_badge(self.last_weight)

    @on(ParcelWeight.BadgeGiven)
    def _badge_given(self, message: ParcelWeight.BadgeGiven) -> None:
        try:
            supervisor = self.packing.supervisor(message.badge)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.query_one(ParcelWeight).ask_reason(
            message.weight, message.badge, supervisor, self.packing.override_reasons
        )

    @on(ParcelWeight.OverrideGiven)
    def _override_given(self, message: ParcelWeight.OverrideGiven) -> None:
        self.weigh(message.weight, override_badge=message.badge, override_reason=message.reason)

    # -- labels ------------------------------------------------------------------------------

    def print_label(self, reprint_reason: str = "") -> None:
        """Ask for the label job (once per parcel) and print it in a worker."""
        view = self.view
        if view is None:
            return
        try:
            job = self.labels.request(view.order.order_id, reprint_reason=reprint_reason)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_message(self.tr("packer.printing_job", tracking=job.tracking))
        self.query_one(LabelPreview).print(job, self.floor.user_id)

    def action_slip(self) -> None:
        """Print the packing slip of the parcel in hand (lines, lots, serial numbers)."""
        view = self.view
        if view is None:
            self.flash_error(self.tr("packer.slip_no_parcel"))
            return
        self.show_message(self.tr("packer.slip_printing", order=view.order.order_id))
        self._print_slip(view.order.order_id)

    @work(thread=True, exclusive=True, group="documents")
    def _print_slip(self, order_id: str) -> None:
        try:
            where = self.floor.ctx.documents.print_packing_slip(order_id)
        except (DomainError, ServiceError) as exc:
            self.app.call_from_thread(self.flash_error, self.explain(exc))
            return
        # the queue it went to, or the file it is kept as (its folder is the station's spool)
        shown = where.split(" (")[0] if " (" in where else Path(where).name
        done = self.tr("packer.slip_printed", order=order_id, where=shown)
        self.app.call_from_thread(self.show_message, done)

    @on(LabelPreview.PrintFailed)
    def _print_failed(self, message: LabelPreview.PrintFailed) -> None:
        self.flash_error(message.reason)

    @on(LabelPreview.Printed)
    def _printed(self, message: LabelPreview.Printed) -> None:
        if self.view is None:
            return
        job, result = message.job, message.result
        try:
            self.view = self.packing.view(self.view.session.session_id)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_view()
        if job.state is LabelState.PRINTED:
            self.show_message(self.tr("packer.printed", tracking=job.tracking))
        else:
            self.flash_error(self.tr("packer.print_failed", error=result.error or job.last_error))

    def action_reprint(self) -> None:
        """Print the label again; asks for the reason first."""
        view = self.view
        if view is None or view.label is None:
            self.flash_error(self.tr("packer.no_label"))
            return
        if view.label.state in (LabelState.QUEUED, LabelState.FAILED):
            self.print_label()
            return
        self.query_one(LabelPreview).ask_reprint()

    @on(LabelPreview.ReprintAsked)
    def _reprint_asked(self, message: LabelPreview.ReprintAsked) -> None:
        self.print_label(reprint_reason=message.reason)

    # -- carrier -------------------------------------------------------------------------------

    def action_carrier(self) -> None:
        """Choose another carrier service that fits, then say why."""
        view = self.view
        if view is None:
            self.flash_error(self.tr("packer.nothing_open"))
            return
        choice = view.order.carrier_choice
        if choice is None or not view.carrier_options:
            self.flash_error(self.tr("packer.no_carriers"))
            return
        self.query_one(CarrierLine).choose(choice, view.carrier_options)

    @on(CarrierLine.Chosen)
    def _change_carrier(self, message: CarrierLine.Chosen) -> None:
        if self.view is None:
            return
        label = self.view.label
        printed = label is not None and label.state in (LabelState.PRINTED, LabelState.CONFIRMED)
        carrier, service, reason = message.carrier, message.service, message.reason
        try:
            self.view = self.packing.change_carrier(
                self.view.session.session_id, carrier, service, reason, self.floor.user_id
            )
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_view()
        self.show_message(self.tr("packer.carrier_set", name=f"{carrier} {service}"))
        if self.view.session.state in (PackState.LABELLING, PackState.CONFIRMING):
            self.print_label(
                reprint_reason=self.tr("packer.carrier_reprint", reason=reason) if printed else ""
            )

    # -- holding and leaving -----------------------------------------------------------------

    def action_hold(self) -> None:
        """Put the order on hold with a reason (a missing item ...)."""
        if self.view is None:
            self.flash_error(self.tr("packer.nothing_open"))
            return
        self.query_one(ParcelLines).ask_hold(self.view)

    @on(ParcelLines.HoldAsked)
    def _hold(self, message: ParcelLines.HoldAsked) -> None:
        if self.view is None:
            return
        try:
            self.view = self.packing.hold(
                self.view.session.session_id, message.reason, self.floor.user_id
            )
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        order = self.view.order.order_id
        self.view = None
        self.show_view()
        self.show_message(self.tr("packer.held", order=order), error=True)

    def action_returns(self) -> None:
        """Open the returns desk (the parcel in hand stays as it is)."""
        self.app.push_screen(ReturnsScreen())

    def action_leave(self) -> None:
        """Set the parcel aside (it resumes when its tote or order is scanned again); with
        no parcel, forget a tote that was waiting for its packing slip."""
        if self.view is not None:
            self.show_message(self.tr("packer.left", order=self.view.order.order_id))
        self.view = None
        self.unheard_tote = None
        self.show_view()

    # -- the hub -------------------------------------------------------------------------------

    def sync_notice(self, message: SyncNotice) -> None:
        """The hub said which orders some totes hold, or that an order for this station was
        picked: a tote waiting for its packing slip may now open by itself, and the demo
        hint names what waits."""
        if message.kind is SyncNoticeKind.TOTES and self.view is None:
            if self.unheard_tote is not None and self.packing.tote_known(self.unheard_tote):
                self.show_message(self.tr("packer.tote_heard", tote=self.unheard_tote))
                self.unheard_tote = None
            self.show_view()
            return
        if message.kind is SyncNoticeKind.ORDER_PICKED:
            if self.view is None:
                self.show_view()
            return
        super().sync_notice(message)


def parcel_of(view: PackView) -> Parcel:
    """What lies on the scale: every verified unit in the carton, and the carton."""
    carton = view.carton
    units = tuple(
        view.skus[sku].weight_g for sku, qty in view.session.verified.items() for _ in range(qty)
    )
    return Parcel(units, carton.tare_g if carton else 0)
