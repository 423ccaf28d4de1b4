"""Receiving (from the picker's home, F6): count a delivery at the dock by scans.

Scan a notice's reference or a pallet's SSCC (the notices this device holds are listed;
Enter opens the highlighted one), or F5 to receive without a notice (type the delivery
note's number). A dock's label says where the goods stand, and opens the notice expected
there when it is the only one. Then scan the goods: each scan
counts its units (a case counts its pack quantity; a GS1 code carries the lot, expiry and
serial); a number typed in corrects how many the last scan counted. F7 switches to damaged
units (to quarantine) and back; F8 takes back the last count. F6 closes the receipt, asking
the reason of every SKU whose good units differ from the notice. Esc leaves the receipt
open for later. Every count is recorded there and then, offline like picking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, OptionList, Static
from textual.widgets.data_table import ColumnKey
from textual.widgets.option_list import Option

from floor_app.domain.codes import CodeKind, ScannedCode, classify
from floor_app.domain.errors import DomainError, InvalidBarcode
from floor_app.domain.receiving import Condition, Receipt, ReceiptLine, Variance, VarianceReason
from floor_app.services.errors import ServiceError
from floor_app.services.receiving import Counted, ReceivingService
from floor_app.services.scanning import QuantityEntry, read_count
from floor_app.ui.messages import SyncNotice, SyncNoticeKind
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorDialog, FloorScreen


@dataclass(frozen=True, slots=True)
class LastCount:
    """The last count made here: what was scanned, as what, how many units it stands for
    now, and the dock and pallet it was counted at (a correction or take-back goes there)."""

    counted: Counted
    condition: Condition
    units: int
    dock: str
    sscc: str


class VarianceReasonScreen(FloorDialog):
    """Why do a SKU's good units differ from the notice? The reasons that fit, by number."""

    BINDINGS = [Binding("escape", "cancel", "Esc", id="variance.cancel")]

    def __init__(self, variance: Variance) -> None:
        super().__init__(id="variance-reason")
        self.variance = variance

    def compose(self) -> ComposeResult:
        v = self.variance
        with Vertical(classes="dialog"):
            yield Static(
                self.tr("receiving.variance", sku=v.sku, good=v.good, expected=v.expected),
                classes="title",
            )
            yield OptionList(
                *(
                    Option(f"{i}  {self.tr(f'receiving.reasons.{r.value}')}", id=r.value)
                    for i, r in enumerate(v.reasons, start=1)
                ),
                id="reasons",
            )
            yield Static(self.tr("receiving.reason_hint", n=len(v.reasons)), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one("#reasons", OptionList)
        options.highlighted = 0
        options.focus()

    def on_key(self, event: events.Key) -> None:
        reasons = self.variance.reasons
        if event.key.isdigit() and 1 <= int(event.key) <= len(reasons):
            event.stop()
            self.dismiss(reasons[int(event.key) - 1])

    @on(OptionList.OptionSelected, "#reasons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(VarianceReason(event.option.id or VarianceReason.OTHER.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReceivingScreen(FloorScreen):
    """One delivery at a time (see the module docstring)."""

    BINDINGS = [
        Binding("f5", "blind", "keys.blind", id="receiving.blind"),
        Binding("f6", "close", "keys.close_receipt", id="receiving.close"),
        Binding("f7", "damaged", "keys.damaged", id="receiving.damaged"),
        Binding("f8", "take_back", "keys.take_back", id="receiving.take_back"),
        Binding("escape", "back", "keys.back", id="receiving.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.receipt: Receipt | None = None
        self.dock = ""
        self.sscc = ""
        self.condition = Condition.GOOD
        self._choices: list[Receipt] = []
        #: the receipt whose lines the table shows, its column keys and the cells shown
        self._drawn: str | None = None
        self._columns: list[ColumnKey] = []
        self._cells_shown: dict[str, tuple[str, ...]] = {}
        #: the row of the line a count just changed (the next draw moves the cursor to it)
        self._counted_row: int | None = None
        self._blind = False
        #: the last count (what it scanned, its condition, the units it counted now)
        self._last: LastCount | None = None

    @property
    def service(self) -> ReceivingService:
        return self.floor.ctx.receiving

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.tr("receiving.title"), id="receiving-title", classes="title")
        yield Static("", id="where", classes="item")
        table: DataTable[str] = DataTable(id="lines", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="prompt", classes="prompt")
        yield ScanInput(id="scan", placeholder=self.tr("receiving.placeholder"))
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.dock = self.service.dock
        self.query_one("#scan", Input).focus()
        self.show_state()

    # -- drawing -----------------------------------------------------------------------------

    def show_state(self) -> None:
        """Draw the notices to choose from, or the receipt being counted."""
        table = self.query_one("#lines", DataTable)
        prompt = self.query_one("#prompt", Static)
        receipt = self.receipt
        if receipt is None:
            self._drawn = None
            table.clear(columns=True)
            self.query_one("#receiving-title", Static).update(self.tr("receiving.title"))
            self.query_one("#where", Static).update(self.tr("receiving.dock", dock=self.dock))
            table.add_columns(
                self.tr("receiving.reference"),
                self.tr("receiving.supplier"),
                self.tr("receiving.units"),
            )
            try:
                self._choices = self.service.open_receipts()
            except ServiceError as exc:
                self._choices = []
                self.flash_error(self.explain(exc))
            for r in self._choices:
                counted = sum(ln.counted for ln in r.lines)
                expected = sum(ln.expected for ln in r.lines)
                table.add_row(r.reference, r.supplier, f"{counted}/{expected}", key=r.receipt_id)
            key = "receiving.type_reference" if self._blind else "receiving.prompt"
            prompt.update(self.tr(key))
            return
        title = f"{receipt.reference}  {receipt.supplier}".strip()
        self.query_one("#receiving-title", Static).update(title)
        where = self.tr("receiving.dock", dock=self.dock)
        if self.sscc:
            where += f" · {self.tr('receiving.pallet', sscc=self.sscc)}"
        if self.condition is Condition.DAMAGED:
            where += f" · {self.tr('receiving.damaged_mode')}"
        self.query_one("#where", Static).update(where)
        self._draw_lines(table, receipt)
        if self._counted_row is not None:  # the line the last scan counted, in view
            table.move_cursor(row=self._counted_row, animate=False)
            self._counted_row = None
        key = "receiving.scan_damaged" if self.condition is Condition.DAMAGED else "receiving.scan"
        prompt.update(self.tr(key))

    def _draw_lines(self, table: DataTable[str], receipt: Receipt) -> None:
        """The receipt's lines; a count changes only the cells that changed (a notice may
        have a thousand lines, and each scan must answer at once)."""
        rows = {str(ln.line_no): self._cells(ln) for ln in receipt.lines}
        if self._drawn != receipt.receipt_id:
            self._drawn, self._cells_shown = receipt.receipt_id, {}
            table.clear(columns=True)
            self._columns = table.add_columns(
                self.tr("packer.sku"),
                self.tr("receiving.lot"),
                self.tr("receiving.expected"),
                self.tr("receiving.good"),
                self.tr("receiving.damaged"),
            )
        for key, cells in rows.items():
            shown = self._cells_shown.get(key)
            if shown is None:
                table.add_row(*cells, key=key)
            else:
                for column, old, new in zip(self._columns, shown, cells, strict=True):
                    if old != new:
                        table.update_cell(key, column, new)
            self._cells_shown[key] = cells

    def _cells(self, ln: ReceiptLine) -> tuple[str, ...]:
        mark = "*" if self.sscc and ln.sscc == self.sscc else ""
        return (
            f"{mark}{ln.sku}",
            ln.lot or "-",
            str(ln.expected),
            str(ln.received),
            str(ln.damaged),
        )

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)
        elif self.receipt is None and not self._blind:
            self._open_highlighted()

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A notice, pallet or dock before a receipt is open; goods, pallets, docks and
        corrected quantities while one is."""
        try:
            if self._blind:
                self._start_blind(text)
            elif self.receipt is None:
                self._choose(text)
            else:
                self._goods(text, source)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_state()

    def _choose(self, text: str) -> None:
        try:
            code: ScannedCode | None = classify(text)
        except InvalidBarcode:
            code = None
        found = self.service.find(text, code)
        if found is not None:
            self._open(found.receipt, found.sscc)
            return
        if code is not None:
            dock = self.service.dock_of(code)
            if dock is not None:
                self.dock = dock
                here = [r for r in self._choices if r.dock == dock]
                if len(here) == 1:  # the one delivery expected at this dock
                    self._open(here[0])
                    return
                self.show_message(self.tr("receiving.at_dock", dock=dock), error=False)
                return
        shown = code.value if code is not None else text
        raise DomainError(self.tr("receiving.no_notice", reference=shown))

    def _open(self, receipt: Receipt, sscc: str = "") -> None:
        self.receipt, self.sscc, self._last = receipt, sscc, None
        self.condition = Condition.GOOD
        if receipt.dock and self.dock == self.service.dock:
            self.dock = receipt.dock
        self.floor.ctx.activity.task = receipt.reference
        self.show_message(self.tr("receiving.opened", reference=receipt.reference), error=False)

    def _open_highlighted(self) -> None:
        table = self.query_one("#lines", DataTable)
        if not self._choices or table.cursor_row < 0:
            return
        self._open(self._choices[min(table.cursor_row, len(self._choices) - 1)])
        self.show_state()

    def _start_blind(self, text: str) -> None:
        receipt = self.service.start_blind(text, self.dock)
        self._blind = False
        self._open(receipt)

    def _goods(self, text: str, source: str) -> None:
        receipt = self.receipt
        assert receipt is not None
        entry = read_count(text, machine_typed=source != "keyboard")
        if isinstance(entry, QuantityEntry):
            self._correct(entry.qty)
            return
        if entry.kind is CodeKind.SSCC:
            self._pallet(receipt, entry.value)
            return
        if entry.kind is CodeKind.LOCATION:
            dock = self.service.dock_of(entry)
            if dock is not None:
                self.dock = dock
                self.show_message(self.tr("receiving.at_dock", dock=dock), error=False)
            return
        counted = self.service.read(entry, self.condition)
        self.receipt, _event = self.service.count(
            receipt.receipt_id,
            counted,
            self.condition,
            dock=self.dock,
            user=self.floor.user_id,
            sscc=self.sscc,
        )
        self._last = LastCount(counted, self.condition, counted.qty, self.dock, self.sscc)
        self._counted(counted, counted.qty)

    def _counted(self, counted: Counted, units: int) -> None:
        lot = f" · {self.tr('pick.lot', lot=counted.lot)}" if counted.lot else ""
        damaged = self._last is not None and self._last.condition is Condition.DAMAGED
        key = "receiving.counted_damaged" if damaged else "receiving.counted"
        self.show_message(self.tr(key, qty=units, sku=counted.sku.sku) + lot, error=False)
        receipt = self.receipt
        line = receipt.line_for(counted.sku.sku, counted.lot) if receipt else None
        if receipt is not None and line is not None:  # shown in view by the next draw
            self._counted_row = receipt.lines.index(line)

    def _pallet(self, receipt: Receipt, sscc: str) -> None:
        if receipt.lines and not receipt.sscc_lines(sscc) and any(ln.sscc for ln in receipt.lines):
            other = self.service.find(sscc, classify(sscc))
            if other is not None and other.receipt.receipt_id != receipt.receipt_id:
                raise DomainError(
                    self.tr("receiving.other_pallet", sscc=sscc, reference=other.receipt.reference)
                )
        self.sscc = sscc
        self.show_message(self.tr("receiving.pallet", sscc=sscc), error=False)

    def _correct(self, qty: int) -> None:
        """The last scan counted ``qty`` units, not what it said."""
        if self._last is None or self.receipt is None:
            raise DomainError(self.tr("receiving.scan_first"))
        last = self._last
        if last.counted.serial:
            raise DomainError(self.tr("receiving.serial_one"))
        if qty == last.units:
            return
        self._recount(last, qty - last.units)  # where the scan was counted, whatever now
        self._last = replace(last, units=qty)
        self._counted(last.counted, qty)

    def _recount(self, last: LastCount, delta: int) -> None:
        assert self.receipt is not None
        self.receipt, _event = self.service.count(
            self.receipt.receipt_id,
            last.counted,
            last.condition,
            dock=last.dock,
            user=self.floor.user_id,
            sscc=last.sscc,
            qty=delta,
        )

    def sync_notice(self, message: SyncNotice) -> None:
        super().sync_notice(message)
        if message.kind is SyncNoticeKind.REJECTED and self.receipt is not None:
            try:  # a refused count was taken back: show the receipt as the store has it
                self.receipt = self.service.receipt(self.receipt.receipt_id)
            except (DomainError, ServiceError):
                return
            self._last = None
            self.show_state()

    # -- keys --------------------------------------------------------------------------------

    def action_blind(self) -> None:
        """Receive a delivery without a notice: the next text typed is its reference."""
        if self.receipt is not None:
            return
        self._blind = not self._blind
        self.show_state()

    def action_damaged(self) -> None:
        """Count damaged units (to quarantine) from now on, or good ones again."""
        if self.receipt is None:
            return
        damaged = self.condition is Condition.GOOD
        self.condition = Condition.DAMAGED if damaged else Condition.GOOD
        key = "receiving.damaged_on" if damaged else "receiving.damaged_off"
        self.show_message(self.tr(key, location=self.service.quarantine), error=damaged)
        self.show_state()

    def action_take_back(self) -> None:
        """Take back the last count."""
        if self._last is None or self.receipt is None:
            return
        last = self._last
        try:
            self._recount(last, -last.units)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self._last = None
        self.show_message(self.tr("receiving.taken_back", qty=last.units, sku=last.counted.sku.sku))
        self.show_state()

    def action_close(self) -> None:
        """Close the receipt, asking the reason of each variance first."""
        receipt = self.receipt
        if receipt is None:
            return
        reasons: dict[str, VarianceReason] = {}
        pending = list(receipt.variances())

        def ask() -> None:
            if not pending:
                self._close(reasons)
                return
            variance = pending.pop(0)

            def chosen(reason: VarianceReason | None) -> None:
                if reason is None:
                    self.show_message(self.tr("receiving.close_cancelled"))
                    return
                reasons[variance.sku] = reason
                ask()

            self.app.push_screen(VarianceReasonScreen(variance), chosen)

        ask()

    def _close(self, reasons: dict[str, VarianceReason]) -> None:
        receipt = self.receipt
        assert receipt is not None
        try:
            closed, _events = self.service.close(receipt.receipt_id, reasons, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        good = sum(ln.received for ln in closed.lines)
        damaged = sum(ln.damaged for ln in closed.lines)
        self.receipt, self.sscc, self._last = None, "", None
        self.condition = Condition.GOOD
        self.floor.ctx.activity.task = ""
        self.show_message(
            self.tr("receiving.closed", reference=closed.reference, good=good, damaged=damaged),
            error=False,
        )
        self.show_state()

    def action_back(self) -> None:
        """Leave the receipt open for later; else back to the task list."""
        if self._blind:
            self._blind = False
            self.show_state()
            return
        if self.receipt is not None:
            self.show_message(self.tr("receiving.left_open", reference=self.receipt.reference))
            self.receipt, self.sscc, self._last = None, "", None
            self.floor.ctx.activity.task = ""
            self.show_state()
            return
        self.app.pop_screen()
