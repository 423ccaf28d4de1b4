"""Moving stock: a refill from reserve to a pick face, or a put-away back to storage.

Scan the source, scan each unit taken (a GS1 code with a count takes its quantity; a
number typed in sets how many are carried, with the same guard against a barcode landing
in the field as when picking), then scan the destination: one ``stock.moved`` for the
units carried. While units are left to move the screen asks for the source again. F8 puts
the carried units back (carrying 0); F6 closes the task short with a reason (nothing
carried). Esc leaves the task as it is, but not while units are carried.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import Input, Static

from floor_app.domain.codes import CodeKind, ScannedCode
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import ShortReason
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import StockTask, StockTaskKind, StockTaskState
from floor_app.services.errors import ServiceError
from floor_app.services.scanning import QuantityEntry, read_quantity
from floor_app.services.stock_moves import MoveService

from .pick_dialogs import ShortReasonScreen
from .stock_base import StockTaskScreen


class StockMoveScreen(StockTaskScreen):
    """Works one refill or put-away task (see the module docstring)."""

    BINDINGS = [
        Binding("f6", "close_short", "keys.close_short", id="move.close"),
        Binding("f8", "put_back", "keys.put_back", id="move.put_back"),
        Binding("escape", "back", "keys.back", id="move.back"),
    ]

    NAME = "move"
    QTY_ID = "carried"
    CANCELLED_KEY = "move.cancelled_by_hub"

    def __init__(self, task: StockTask, *, at_source: bool = False) -> None:
        super().__init__(task)
        self._at_source = at_source
        self._carried = 0
        self._sku: Sku | None = None
        #: the serial numbers of the units carried, for an item tracked by serial
        self._serials: list[str] = []
        self._serial_tracked = False

    @property
    def move_task(self) -> StockTask:
        return self.stock_task

    def stopped_prompt(self) -> str:
        what = "move.stopped_carrying" if self._carried else "move.stopped"
        return self.tr(what, carried=self._carried, sku=self.stock_task.sku)

    @property
    def service(self) -> MoveService:
        return self.floor.ctx.moves

    def load_task(self) -> StockTask:
        return self.service.task(self.stock_task.task_id)

    def on_mount(self) -> None:
        try:
            self._sku = self.service.sku(self.move_task)
            self._serial_tracked = self.service.serial_tracked(self.move_task.sku)
        except ServiceError:  # shown without its description; scans still identify it
            self._sku = None
        super().on_mount()

    @property
    def _place(self) -> str:
        """Where the user goes next: the source, or the destination with units carried."""
        task = self.move_task
        return task.to_location if self._carried and task.to_location else task.from_location

    def show_state(self) -> None:
        """Draw where the move is: the next place large, the item, what is carried."""
        task = self.move_task
        urgent = f" · {self.tr('move.urgent')}" if task.urgent else ""
        self.query_one("#move-title", Static).update(
            f"{task.task_id} · {self.tr(f'move.{task.kind.value}')}{urgent}"
        )
        self.show_place(self._place)
        sku = self._sku
        gtin = sku.gtin if sku else task.gtin
        lot = f" · {self.tr('move.lot', lot=task.lot)}" if task.lot else ""
        self.query_one("#item", Static).update(f"{task.sku}  {gtin}{lot}")
        self.query_one("#desc", Static).update(sku.label(self.floor.tr.language) if sku else "")
        self.query_one("#carried", Static).update(
            self.tr("move.carried", carried=self._carried, open=task.open_qty)
        )
        self.query_one("#prompt", Static).update(self._prompt())

    def _prompt(self) -> str:
        task = self.move_task
        if not self._at_source:
            key = "move.scan_source_again" if task.moved else "move.scan_source"
            return self.tr(key, source=task.from_location, left=task.open_qty)
        if not self._carried:
            return self.tr("move.scan_item", sku=task.sku, open=task.open_qty)
        if task.kind is StockTaskKind.REPLENISH or not task.to_location:
            key = "move.scan_destination" if task.to_location else "move.scan_storage"
            return self.tr(key, carried=self._carried, destination=task.to_location)
        return self.tr("move.scan_suggested", carried=self._carried, destination=task.to_location)

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan, or a typed number of units carried."""
        if self._stopped:
            return
        try:
            entry = read_quantity(text, self.move_task.open_qty, machine_typed=source != "keyboard")
        except DomainError as exc:
            self.flash_error(self.explain(exc))
            return
        if isinstance(entry, QuantityEntry):
            self._typed(entry.qty)
        elif self._carried and entry.kind is CodeKind.LOCATION:
            self._put(entry.value)
        elif not self._at_source:
            self._source(entry, text)
        else:
            self._item(entry, text)

    def _source(self, code: ScannedCode, raw: str) -> None:
        refusal = self.service.source_refusal(self.move_task, code, raw)
        if refusal:
            self.flash_error(self.explain(refusal))
            return
        self._at_source = True
        self.show_message("")
        self.show_state()

    def _item(self, code: ScannedCode, raw: str) -> None:
        if self.service.source_refusal(self.move_task, code, raw) is None:
            self.show_message(self.tr("move.already_here", source=self.move_task.from_location))
            return
        if code.kind is CodeKind.LOCATION:  # a destination before anything was taken
            self.flash_error(self.tr("move.item_first", sku=self.move_task.sku))
            return
        try:
            self._sku = self.service.item(self.move_task, code)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        if self._serial_tracked:  # each unit with its serial number, once
            serial = code.serial or ""
            if not serial:
                self.flash_error(self.tr("move.serial_missing", sku=self.move_task.sku))
                return
            if serial in self._serials:
                self.flash_error(self.tr("move.serial_twice", serial=serial))
                return
            if self._carried + 1 <= self.move_task.open_qty:
                self._serials.append(serial)
            self._carry(self._carried + 1)
            return
        units = code.count or self.floor.ctx.catalogue.pack_qty(code.value)  # a case: its units
        self._carry(self._carried + units)

    def _typed(self, qty: int) -> None:
        if self._serial_tracked:
            self.flash_error(self.tr("move.serial_missing", sku=self.move_task.sku))
            return
        if not self._at_source:
            self.flash_error(self.tr("move.source_first", source=self.move_task.from_location))
            return
        self._carry(qty)

    def _carry(self, qty: int) -> None:
        open_qty = self.move_task.open_qty
        if qty > open_qty:
            sku = self.move_task.sku
            self.flash_error(self.tr("move.too_many", qty=qty, open=open_qty, sku=sku))
            return
        self._carried = qty
        self.show_message("")
        self.show_state()

    def _put(self, location: str) -> None:
        task = self.move_task
        carried = self._carried
        try:
            self.service.move(
                task.task_id, carried, location, self.floor.user_id, serials=self._serials
            )
        except (DomainError, ServiceError) as exc:
            self.failed(exc)
            return
        # recorded: whatever happens next, these units are not carried any more
        self._carried, self._serials = 0, []
        self._at_source = False
        if not self.reload_task():
            task.confirm_move(carried)  # the store is busy: the same change, kept here
        moved = self.tr("move.moved", qty=carried, sku=task.sku, destination=location)
        if self.move_task.state is StockTaskState.DONE or self.move_task.open_qty == 0:
            self.leave(f"{moved} · {self.tr('move.done', task=task.task_id)}")
            return
        self.show_message(moved, error=False)
        self.show_state()

    # -- keys --------------------------------------------------------------------------------

    def action_put_back(self) -> None:
        """The carried units went back to the source: carrying 0."""
        if not self._carried:
            return
        self._carried, self._serials = 0, []
        self.show_message(self.tr("move.put_back", source=self.move_task.from_location))
        self.show_state()

    def action_close_short(self) -> None:
        """End the task with less than asked (why: empty, damaged, not found)."""
        if self._stopped:
            return
        if self._carried:
            self._carrying()
            return
        task = self.move_task

        def chosen(reason: ShortReason | None) -> None:
            if reason is None:
                return
            text = self.tr(f"short.{reason.value}")
            try:
                self.service.close(task.task_id, reason.value, self.floor.user_id)
            except (DomainError, ServiceError) as exc:
                self.failed(exc)
                return
            self.leave(self.tr("move.closed", task=task.task_id, reason=text))

        self.app.push_screen(ShortReasonScreen(task.sku, task.open_qty), chosen)

    def action_back(self) -> None:
        if self._carried and not self._stopped:
            self._carrying()
            return
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()

    def _carrying(self) -> None:
        self.flash_error(self.tr("move.carrying", carried=self._carried, sku=self.move_task.sku))
