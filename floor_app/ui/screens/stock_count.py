"""Counting a location, blind: the screen never shows what the hub expects.

The counter scans the location, then the items: every item scan counts one (a GS1 count
counts its quantity); a number typed in sets the count of the current item (0 when the
place is empty; a barcode that lands in the field is taken as a scan, as when picking).
Enter on the empty field confirms the count of the item: one ``stock.counted`` recorded
with it. A count of one SKU is then done; a count of a whole location goes on with the next
item until F10 says the location is done. F8 starts the current item again from zero.
A recount refuses the user who counted first (see :mod:`floor_app.services.counting`).
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import Input, Static

from floor_app.domain.codes import CodeKind, ScannedCode
from floor_app.domain.errors import DomainError
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import StockTask, StockTaskState
from floor_app.services.counting import CountingService
from floor_app.services.errors import ServiceError
from floor_app.services.scanning import QuantityEntry, read_count

from .stock_base import StockTaskScreen


class StockCountScreen(StockTaskScreen):
    """Counts one count task (see the module docstring)."""

    BINDINGS = [
        Binding("f8", "reset", "keys.recount_item", id="count.reset"),
        Binding("f10", "location_done", "keys.location_done", id="count.done"),
        Binding("escape", "back", "keys.back", id="count.back"),
    ]

    NAME = "count"
    QTY_ID = "tally"
    CANCELLED_KEY = "count.cancelled_by_hub"

    def __init__(self, task: StockTask) -> None:
        super().__init__(task)
        self._at_location = False
        self._sku: Sku | None = None
        self._tally = 0

    @property
    def count_task(self) -> StockTask:
        return self.stock_task

    def load_task(self) -> StockTask:
        return self.service.task(self.stock_task.task_id)

    def stopped_prompt(self) -> str:
        return self.tr("count.stopped")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F10 is only for counts of a whole location (hidden for a count of one SKU)."""
        return not (action == "location_done" and self.count_task.sku)

    @property
    def service(self) -> CountingService:
        return self.floor.ctx.counting

    def show_state(self) -> None:
        """Draw where the count is (never the expected quantity: counts are blind)."""
        task = self.count_task
        kind = "count.recount" if task.attempt > 1 else "count.count"
        what = task.sku or self.tr("count.every_sku")
        self.query_one("#count-title", Static).update(f"{task.task_id} · {self.tr(kind)} · {what}")
        location = task.from_location
        self.show_place(location)
        sku = self._sku
        self.query_one("#item", Static).update(sku.sku if sku else "")
        self.query_one("#desc", Static).update(sku.label(self.floor.tr.language) if sku else "")
        self.query_one("#tally", Static).update(
            self.tr("count.tally", counted=self._tally) if sku else ""
        )
        if not self._at_location:
            prompt = self.tr("count.scan_location", location=location)
        elif sku is None:
            prompt = self.tr("count.scan_item" if task.sku else "count.scan_next")
        else:
            prompt = self.tr("count.confirm", counted=self._tally, sku=sku.sku)
        self.query_one("#prompt", Static).update(prompt)

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)
        else:
            self.confirm()

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan, or a typed count of the current item."""
        if self._stopped:
            return
        try:
            entry = read_count(text, machine_typed=source != "keyboard")
        except DomainError as exc:
            self.flash_error(self.explain(exc))
            return
        if isinstance(entry, QuantityEntry):
            self._typed(entry.qty)
        else:
            self._code(entry)

    def _code(self, code: ScannedCode) -> None:
        location = self.count_task.from_location
        if code.kind is CodeKind.LOCATION:
            if code.value != location:
                self.flash_error(
                    self.tr("count.wrong_location", scanned=code.value, location=location)
                )
            elif not self._at_location:
                self._at_location = True
                self.show_message("")
                self.show_state()
            else:
                self.show_message(self.tr("count.already_here", location=location))
            return
        if code.kind is not CodeKind.PRODUCT:
            self.flash_error(
                self.tr("pick.not_now", kind=self.tr(f"kinds.{code.kind.value}"), code=code.value)
            )
            return
        if not self._at_location:
            self.flash_error(self.tr("count.location_first", location=location))
            return
        sku = self._identify(code.value)
        if sku is None:
            self.flash_error(self.tr("count.unknown_item", code=code.value.lstrip("0")))
            return
        if self.count_task.sku and sku.sku != self.count_task.sku:
            self.flash_error(self.tr("count.other_sku", scanned=sku.sku, sku=self.count_task.sku))
            return
        if self._sku is not None and sku.sku != self._sku.sku:
            self.flash_error(self.tr("count.confirm_first", counted=self._tally, sku=self._sku.sku))
            return
        if self._sku is None:
            done = self.service.counted_skus(self.count_task.task_id)
            if sku.sku in done:
                self.flash_error(
                    self.tr("count.already_counted", sku=sku.sku, counted=done[sku.sku])
                )
                return
        self._sku = sku
        self._tally += code.count or 1
        self.show_message("")
        self.show_state()

    def _typed(self, qty: int) -> None:
        if not self._at_location:
            self.flash_error(
                self.tr("count.location_first", location=self.count_task.from_location)
            )
            return
        if self._sku is None:
            if not self.count_task.sku:
                self.flash_error(self.tr("count.item_first"))
                return
            sku = self._lookup(self.count_task.sku)
            if sku is None:
                self.flash_error(self.tr("count.item_first"))
                return
            self._sku = sku
        self._tally = qty
        self.show_message("")
        self.show_state()

    def _identify(self, gtin: str) -> Sku | None:
        try:
            return self.floor.ctx.catalogue.sku_by_gtin(gtin)
        except DomainError:
            return None

    def _lookup(self, code: str) -> Sku | None:
        try:
            return self.floor.ctx.catalogue.sku(code)
        except DomainError:
            return None

    # -- confirming --------------------------------------------------------------------------

    def confirm(self) -> None:
        """Record the count of the current item (Enter on the empty field)."""
        if self._stopped:
            return
        if not self._at_location:
            self.flash_error(
                self.tr("count.location_first", location=self.count_task.from_location)
            )
            return
        sku = self._sku
        if sku is None:
            key = "count.item_first" if self.count_task.sku else "count.item_or_done"
            self.flash_error(self.tr(key))
            return
        try:
            self.service.record(self.count_task.task_id, sku.sku, self._tally, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self.failed(exc)
            return
        # recorded: whatever happens next, this item is counted
        recorded = self.tr("count.recorded", counted=self._tally, sku=sku.sku)
        self._sku, self._tally = None, 0
        done_here = bool(self.count_task.sku)  # a count of one SKU ends with it
        if not self.reload_task() and done_here:
            self.count_task.state = StockTaskState.DONE  # the store is busy: as recorded
        if self.count_task.state is StockTaskState.DONE:
            self.leave(f"{recorded} · {self.tr('count.done', task=self.count_task.task_id)}")
            return
        self.show_message(recorded, error=False)
        self.show_state()

    def action_location_done(self) -> None:
        """The whole location is counted: what was not counted is not there."""
        if self._stopped:
            return
        if not self._at_location:
            self.flash_error(
                self.tr("count.location_first", location=self.count_task.from_location)
            )
            return
        if self._sku is not None:
            self.flash_error(self.tr("count.confirm_first", counted=self._tally, sku=self._sku.sku))
            return
        try:
            self.service.finish_location(self.count_task.task_id, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self.failed(exc)
            return
        self.leave(self.tr("count.done", task=self.count_task.task_id))

    def action_reset(self) -> None:
        """Count the current item again from zero."""
        if self._sku is None:
            return
        self._tally = 0
        self.show_message(self.tr("count.reset", sku=self._sku.sku))
        self.show_state()

    def action_back(self) -> None:
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()
