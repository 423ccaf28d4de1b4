"""The pack station: scan a tote or order, verify every item, weigh, print, scan the label.

Every step is driven by scans: a tote or order opens the parcel; item scans verify the
lines; a carton scan (``CTN-…``) changes the suggested carton; the scale's reading (or a
typed weight in grams) is checked against items plus carton tare; the label prints
itself and is scanned back to confirm. The carrier service the hub chose is shown with its
cost and why; F3 changes it to another service quoted as fitting, with a reason (a label
already printed is printed again). F4 holds the order (a missing item), F6 reprints with a
reason, F7 asks for a supervisor's badge to accept a weight outside tolerance, F8 reads
the scale again, Esc leaves the parcel for later. F5 opens the returns desk
(:mod:`floor_app.ui.screens.returns`).
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from device_drivers.base import PrintResult
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.packing import LabelJob, LabelState, PackState
from floor_app.services.labels import LabelService
from floor_app.services.packing import PackingService, PackView, WeightMismatch
from floor_app.store import StoreError
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen, error_text
from .pack_dialogs import BadgeScreen, ReasonScreen
from .returns import ReturnsScreen

MAX_WEIGHT_DIGITS = 6


class PackerHomeScreen(FloorScreen):
    """One parcel at a time (see the module docstring)."""

    BINDINGS = [
        Binding("f3", "carrier", "keys.carrier", id="pack.carrier"),
        Binding("f4", "hold", "keys.hold", id="pack.hold"),
        Binding("f5", "returns", "keys.returns", id="pack.returns"),
        Binding("f6", "reprint", "keys.reprint", id="pack.reprint"),
        Binding("f7", "override", "keys.override", id="pack.override"),
        Binding("f8", "read_scale", "keys.scale", id="pack.scale"),
        Binding("escape", "leave", "keys.leave", id="pack.leave"),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: PackView | None = None
        self.last_weight: int | None = None

    @property
    def packing(self) -> PackingService:
        assert self.floor.ctx.packing is not None
        return self.floor.ctx.packing

    @property
    def labels(self) -> LabelService:
        assert self.floor.ctx.labels is not None
        return self.floor.ctx.labels

    def compose(self) -> ComposeResult:
        station = self.packing.station
        yield self.header()
        yield Static(self.tr("packer.title", station=station), id="pack-title", classes="title")
        yield Static(self.tr("packer.prompt"), id="prompt", classes="prompt")
        table: DataTable[str] = DataTable(id="lines", cursor_type="none", show_cursor=False)
        yield table
        yield Static("", id="parcel", classes="item")
        yield Static("", id="carrier", classes="hint")
        yield Static("", id="label-preview", classes="preview")
        if self.floor.ctx.demo:
            yield Static(self.tr("packer.demo_idle"), id="demo", classes="hint")
        yield ScanInput(id="scan", placeholder="T0901 / SO-100001")
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lines", DataTable).add_columns(
            self.tr("packer.sku"), self.tr("packer.item"), self.tr("packer.count")
        )
        self.query_one("#scan", Input).focus()
        self.show_view()

    # -- drawing -----------------------------------------------------------------------------

    def show_view(self) -> None:
        """Draw the parcel as it is now."""
        view = self.view
        table = self.query_one("#lines", DataTable)
        table.clear()
        parcel = self.query_one("#parcel", Static)
        preview = self.query_one("#label-preview", Static)
        prompt = self.query_one("#prompt", Static)
        self.query_one("#carrier", Static).update(self._carrier_text(view))
        if view is None:
            prompt.update(self.tr("packer.prompt"))
            parcel.update("")
            preview.update("")
            self._demo(self.tr("packer.demo_idle"))
            return
        lang = self.floor.tr.language
        s = view.session
        for sku, qty in s.expected.items():
            have = s.verified.get(sku, 0)
            mark = "✓" if have >= qty else " "
            table.add_row(sku, view.skus[sku].label(lang), f"{mark} {have}/{qty}", key=sku)
        carton = view.carton
        parcel.update(
            self.tr(
                "packer.parcel",
                order=view.order.order_id,
                carton=carton.code if carton else "-",
                expected=view.expected_weight_g,
                tolerance=view.tolerance_g,
            )
        )
        state = s.state
        label = view.label
        if state is PackState.VERIFYING:
            prompt.update(self.tr("packer.verify", left=sum(s.missing.values())))
            first = next(iter(s.missing), None)
            self._demo(
                self.tr("packer.demo_item", gtin=view.skus[first].gtin.lstrip("0")) if first else ""
            )
        elif state is PackState.WEIGHING:
            prompt.update(self.tr("packer.weigh", carton=carton.code if carton else "-"))
            self._demo(self.tr("packer.demo_weight", weight=view.expected_weight_g))
        elif state is PackState.LABELLING:
            prompt.update(self.tr("packer.printing"))
            self._demo("")
        elif state is PackState.CONFIRMING and label is not None:
            prompt.update(self.tr("packer.scan_label", tracking=label.tracking))
            self._demo(self.tr("packer.demo_label", tracking=label.tracking))
        preview.update(self._preview(label) if label is not None else "")

    def _carrier_text(self, view: PackView | None) -> str:
        if view is None or not view.order.carrier:
            return ""
        order = view.order
        choice = order.carrier_choice
        name = f"{order.carrier} {order.service}".strip()
        if choice is None:
            return self.tr("packer.carrier", name=name)
        cost = f"{choice.cost:.2f}" if choice.cost is not None else "-"
        return self.tr("packer.carrier_why", name=name, cost=cost, why=choice.rule)

    def _demo(self, text: str) -> None:
        for demo in self.query("#demo").results(Static):
            demo.update(text)

    def _preview(self, job: LabelJob) -> str:
        doc = self.labels.document(job)
        head = self.tr("packer.label", state=self.tr(f"label_state.{job.state.value}"))
        return head + "\n" + " · ".join(doc.lines)

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
            if code.kind is CodeKind.CARTON and state in (
                PackState.VERIFYING,
                PackState.WEIGHING,
            ):
                self.view = self.packing.choose_carton(view.session.session_id, text)
                self.show_message(self.tr("packer.carton_set", carton=code.value))
            elif state is PackState.VERIFYING:
                self.view, sku = self.packing.verify(view.session.session_id, text)
                self.show_message(self.tr("packer.verified", sku=sku.sku))
                if self.view.session.state is PackState.WEIGHING:
                    self.action_read_scale()
            elif state is PackState.CONFIRMING and view.label is not None:
                self.labels.confirm(view.label.job_id, text, self.floor.user_id)
                order = view.order.order_id
                self.view = None
                self.show_view()
                self.show_message(self.tr("packer.packed", order=order))
                return
            elif state is PackState.WEIGHING:
                raise DomainError(self.tr("packer.weigh_now"), hint=self.tr("packer.weigh_hint"))
            else:
                raise DomainError(self.tr("packer.wait_print"))
        except WeightMismatch as exc:
            self._weight_mismatch(exc)
            return
        except (DomainError, StoreError) as exc:
            self.flash_error(error_text(exc))
            return
        self.show_view()

    def _open(self, text: str) -> None:
        self.view = self.packing.open(text)
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
        if self.floor.ctx.scale is None:
            self.show_message(self.tr("packer.no_scale"))
            return
        self._read_scale()

    @work(thread=True, exclusive=True, group="scale")
    def _read_scale(self) -> None:
        scale = self.floor.ctx.scale
        assert scale is not None
        try:
            grams = scale.read(stable=True, timeout=3.0).grams
        except Exception as exc:
            self.app.call_from_thread(
                self.flash_error, self.tr("packer.scale_failed", error=str(exc))
            )
            return
        self.app.call_from_thread(self.weigh, grams)

    def weigh(self, grams: int, override_badge: str | None = None) -> None:
        """Check and record the weight; on success print the label."""
        view = self.view
        if view is None or view.session.state is not PackState.WEIGHING:
            return
        self.last_weight = grams
        try:
            self.view = self.packing.weigh(
                view.session.session_id, grams, self.floor.user_id, override_badge=override_badge
            )
        except WeightMismatch as exc:
            self._weight_mismatch(exc)
            return
        except (DomainError, StoreError) as exc:
            self.flash_error(error_text(exc))
            return
        self.show_message(self.tr("packer.weight_ok", weight=grams))
        self.show_view()
        self.print_label()

    def _weight_mismatch(self, exc: WeightMismatch) -> None:
        self.flash_error(
            self.tr(
                "packer.weight_off",
                weight=exc.weight_g,
                expected=exc.expected_g,
                tolerance=exc.tolerance_g,
            )
        )

    def action_override(self) -> None:
        """A supervisor's badge accepts the last weight although it is outside tolerance."""
        view = self.view
        if view is None or view.session.state is not PackState.WEIGHING or not self.last_weight:
            self.flash_error(self.tr("packer.override_nothing"))
            return
        weight = self.last_weight

        def badge(scanned: str | None) -> None:
            if scanned:
                self.weigh(weight, override_badge=scanned)

        self.app.push_screen(BadgeScreen(self.tr("packer.override_prompt", weight=weight)), badge)

    # -- labels ------------------------------------------------------------------------------

    def print_label(self, reprint_reason: str = "") -> None:
        """Ask for the label job (once per parcel) and print it in a worker."""
        view = self.view
        if view is None:
            return
        try:
            job = self.labels.request(view.order.order_id, reprint_reason=reprint_reason)
        except (DomainError, StoreError) as exc:
            self.flash_error(error_text(exc))
            return
        self.show_message(self.tr("packer.printing_job", tracking=job.tracking))
        self._print(job)

    @work(thread=True, exclusive=True, group="printer")
    def _print(self, job: LabelJob) -> None:
        try:
            stored, result = self.labels.print(job, self.floor.user_id)
        except (DomainError, StoreError) as exc:
            self.app.call_from_thread(self.flash_error, error_text(exc))
            return
        self.app.call_from_thread(self._printed, stored, result)

    def _printed(self, job: LabelJob, result: PrintResult) -> None:
        if self.view is None:
            return
        try:
            self.view = self.packing.view(self.view.session.session_id)
        except (DomainError, StoreError) as exc:
            self.flash_error(error_text(exc))
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

        def reason(text: str | None) -> None:
            if text:
                self.print_label(reprint_reason=text)

        self.app.push_screen(
            ReasonScreen(self.tr("packer.reprint_title"), self.tr("reprint.reasons").split("|")),
            reason,
        )

    # -- carrier -------------------------------------------------------------------------------

    def action_carrier(self) -> None:
        """Choose another carrier service that fits, then say why."""
        view = self.view
        if view is None:
            self.flash_error(self.tr("packer.nothing_open"))
            return
        options = view.carrier_options
        if not options:
            self.flash_error(self.tr("packer.no_carriers"))
            return
        labels = [
            self.tr(
                "packer.carrier_option",
                name=q.name,
                cost=f"{q.cost:.2f}" if q.cost is not None else "-",
                days=q.transit_days if q.transit_days is not None else "?",
                late=self.tr("packer.late") if q.late else "",
            ).strip()
            for q in options
        ]

        def chosen(text: str | None) -> None:
            if text:
                quote = options[labels.index(text)]
                self.app.push_screen(
                    ReasonScreen(
                        self.tr("packer.carrier_reason_title", name=quote.name),
                        self.tr("carrier.reasons").split("|"),
                    ),
                    lambda reason: self._change_carrier(quote.carrier, quote.service, reason),
                )

        self.app.push_screen(
            ReasonScreen(self.tr("packer.carrier_title"), labels, dialog_id="carrier-choice"),
            chosen,
        )

    def _change_carrier(self, carrier: str, service: str, reason: str | None) -> None:
        if not reason or self.view is None:
            return
        label = self.view.label
        printed = label is not None and label.state in (LabelState.PRINTED, LabelState.CONFIRMED)
        try:
            self.view = self.packing.change_carrier(
                self.view.session.session_id, carrier, service, reason, self.floor.user_id
            )
        except (DomainError, StoreError) as exc:
            self.flash_error(error_text(exc))
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
        view = self.view
        if view is None:
            self.flash_error(self.tr("packer.nothing_open"))
            return
        missing = ", ".join(f"{q}x {s}" for s, q in view.session.missing.items())

        def reason(text: str | None) -> None:
            if not text or self.view is None:
                return
            full = f"{text}: {missing}" if missing else text
            try:
                self.view = self.packing.hold(
                    self.view.session.session_id, full, self.floor.user_id
                )
            except (DomainError, StoreError) as exc:
                self.flash_error(error_text(exc))
                return
            order = self.view.order.order_id
            self.view = None
            self.show_view()
            self.show_message(self.tr("packer.held", order=order), error=True)

        self.app.push_screen(
            ReasonScreen(self.tr("packer.hold_title"), self.tr("hold.reasons").split("|")),
            reason,
        )

    def action_returns(self) -> None:
        """Open the returns desk (the parcel in hand stays as it is)."""
        self.app.push_screen(ReturnsScreen())

    def action_leave(self) -> None:
        """Set the parcel aside (it resumes when its tote or order is scanned again)."""
        if self.view is not None:
            self.show_message(self.tr("packer.left", order=self.view.order.order_id))
        self.view = None
        self.show_view()
