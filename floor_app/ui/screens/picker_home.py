"""The picker's home: the task in progress first, then the pick tasks on this device, its
refills and put-aways (urgent first), its count tasks; Enter (or a scan of a task's first
place) starts the task in guided picking, the move or the count; F6 opens receiving at the
dock. Reached at login (or after a restart or an error), it opens the task in progress at
once."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Input, Static

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import PickTask, TaskState
from floor_app.domain.stockwork import StockTask, StockTaskState
from floor_app.services.errors import ServiceError
from floor_app.services.stock_moves import MoveService
from floor_app.ui.messages import SyncNotice, SyncNoticeKind
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen


class PickerHomeScreen(FloorScreen):
    """Lists the open pick tasks; Enter starts the highlighted one."""

    BINDINGS = [
        Binding("enter", "start", "keys.start", id="picker.start", show=True),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("f5", "refresh", "keys.refresh", id="picker.refresh"),
        Binding("f6", "receive", "keys.receive", id="picker.receive"),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._tasks: list[PickTask] = []
        self._counts: dict[str, StockTask] = {}
        self._moves: dict[str, StockTask] = {}
        #: the first task in progress (a pick, move or count) in the list, if any
        self._in_progress: str | None = None

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.tr("picker.title"), classes="title")
        table: DataTable[str] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="empty", classes="hint")
        yield ScanInput(id="scan", placeholder=self.tr("picker.scan_placeholder"))
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        table.add_columns(
            self.tr("picker.task"),
            self.tr("picker.lines"),
            self.tr("picker.units"),
            self.tr("picker.first_stop"),
            self.tr("picker.state"),
        )
        self.action_refresh()
        self.query_one("#scan", Input).focus()
        if self.resume_work:
            self.resume_work = False
            self.resume()

    def action_receive(self) -> None:
        """Open receiving at the dock (the task list stays as it is)."""
        from .receiving import ReceivingScreen

        self.app.push_screen(ReceivingScreen())

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#tasks", DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.handle_scan(text)
        else:
            self.action_start()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def sync_notice(self, message: SyncNotice) -> None:
        """New work from the hub shows at once."""
        if message.kind is SyncNoticeKind.TASK_ASSIGNED:
            self.action_refresh()
            return
        super().sync_notice(message)

    def action_refresh(self) -> None:
        """Reload the task list from the store: what is in progress first, then the pick
        tasks, the refills and put-aways, the counts."""
        tr = self.tr
        rows: list[tuple[bool, str, tuple[str, str, str, str, str]]] = []
        self._tasks = self.floor.ctx.picking.open_tasks(self.floor.user_id)
        for task in self._tasks:
            done, total = task.progress
            nxt = task.next_line()
            cells = (
                task.task_id,
                f"{done}/{total}",
                str(sum(ln.qty for ln in task.lines)),
                nxt.location if nxt else "-",
                tr(f"task_state.{task.state.value}"),
            )
            rows.append((task.state is TaskState.IN_PROGRESS, task.task_id, cells))
        self._moves = {t.task_id: t for t in self.floor.ctx.moves.open_moves()}
        for move in self._moves.values():
            urgent = f"{tr('move.urgent')} " if move.urgent else ""
            cells = (
                move.task_id,
                f"{urgent}{tr(f'move.{move.kind.value}')}",
                f"{move.open_qty} x {move.sku}",
                move.from_location,
                tr(f"task_state.{move.state.value}"),
            )
            rows.append((move.state is StockTaskState.IN_PROGRESS, move.task_id, cells))
        self._counts = {t.task_id: t for t in self.floor.ctx.counting.open_counts()}
        for count in self._counts.values():
            cells = (
                count.task_id,
                tr("count.recount" if count.attempt > 1 else "count.count"),
                count.sku or "*",
                count.from_location,
                tr(f"task_state.{count.state.value}"),
            )
            rows.append((count.state is StockTaskState.IN_PROGRESS, count.task_id, cells))
        table = self.query_one("#tasks", DataTable)
        table.clear()
        for _, key, cells in sorted(rows, key=lambda row: not row[0]):  # stable: in order
            table.add_row(*cells, key=key)
        self._in_progress = next((key for busy, key, _ in rows if busy), None)
        empty = not rows
        self.query_one("#empty", Static).update(tr("picker.none") if empty else "")

    def resume(self) -> bool:
        """Open the task in progress, where it stands (after a login, a restart or an
        error); False when none is."""
        task_id = self._in_progress
        if task_id is None:
            return False
        self.open_task(task_id)
        return True

    def action_start(self) -> None:
        table = self.query_one("#tasks", DataTable)
        if table.row_count == 0 or table.cursor_row < 0:
            return
        row_key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        if row_key.value:
            self.open_task(row_key.value)

    @on(DataTable.RowSelected, "#tasks")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_task(event.row_key.value)

    def open_task(self, task_id: str, *, at_location: str | None = None) -> None:
        """Start (or resume) ``task_id`` and walk it (or count it)."""
        from .pick import PickScreen

        if task_id in self._counts:
            self.open_count(task_id)
            return
        if task_id in self._moves:
            self.open_move(task_id)
            return

        try:
            task = self.floor.ctx.picking.start(task_id, self.floor.user_id).task
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            self.action_refresh()
            return
        self.floor.ctx.activity.task = task_id
        self.app.push_screen(PickScreen(task, at_location=at_location))

    def open_count(self, task_id: str) -> None:
        """Start (or resume) the count ``task_id``; a recount refuses its first counter."""
        from .stock_count import StockCountScreen

        try:
            task = self.floor.ctx.counting.start(task_id, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            self.action_refresh()
            return
        self.floor.ctx.activity.task = task_id
        self.app.push_screen(StockCountScreen(task))

    def open_move(self, task_id: str, *, at_source: bool = False) -> None:
        """Start (or resume) the refill or put-away ``task_id`` (at its source when the
        source was just scanned)."""
        from .stock_move import StockMoveScreen

        try:
            task = self.floor.ctx.moves.start(task_id, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            self.action_refresh()
            return
        self.floor.ctx.activity.task = task_id
        self.app.push_screen(StockMoveScreen(task, at_source=at_source))

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan of the first place of a task starts that task there."""
        try:
            code = classify(text)
        except DomainError as exc:
            self.flash_error(self.explain(exc))
            return
        if code.kind is CodeKind.LOCATION:
            for task in self._tasks:
                nxt = task.next_line()
                if nxt is not None and nxt.location == code.value:
                    self.open_task(task.task_id, at_location=code.value)
                    return
        for move in self._moves.values():
            if MoveService.source_refusal(move, code, text) is None:
                self.open_move(move.task_id, at_source=True)
                return
        if code.kind is CodeKind.LOCATION:
            for count in self._counts.values():
                if count.from_location == code.value:
                    self.open_count(count.task_id)
                    return
        self.flash_error(self.tr("picker.scan_first_stop", code=code.value))
