"""The picker's home: the pick tasks on this device, and each task's stops in route order."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from floor_app.domain.picking import PickTask

from .base import FloorScreen


class PickerHomeScreen(FloorScreen):
    """Lists the open pick tasks; Enter shows a task's stops."""

    BINDINGS = [
        Binding("f5", "refresh", "Refresh", id="picker.refresh"),
        Binding("ctrl+l", "app.logout", "Log out", id="app.logout"),
    ]

    def compose(self) -> ComposeResult:
        tr = self.floor.tr
        yield self.header()
        yield Static(tr("picker.title"), classes="title")
        table: DataTable[str] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="empty", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        tr = self.floor.tr
        table = self.query_one("#tasks", DataTable)
        table.add_columns(
            tr("picker.task"),
            tr("picker.lines"),
            tr("picker.units"),
            tr("picker.first_stop"),
            tr("picker.state"),
        )
        self.action_refresh()
        table.focus()

    def action_refresh(self) -> None:
        """Reload the task list from the store."""
        tasks = self.floor.ctx.picking.open_tasks(self.floor.user_id)
        table = self.query_one("#tasks", DataTable)
        table.clear()
        for task in tasks:
            done, total = task.progress
            nxt = task.next_line()
            table.add_row(
                task.task_id,
                f"{done}/{total}",
                str(sum(ln.qty for ln in task.lines)),
                nxt.location if nxt else "-",
                task.state.value,
                key=task.task_id,
            )
        self.query_one("#empty", Static).update("" if tasks else self.floor.tr("picker.none"))

    @on(DataTable.RowSelected, "#tasks")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            task = self.floor.ctx.picking.task(event.row_key.value)
            self.app.push_screen(TaskStopsScreen(task))


class TaskStopsScreen(FloorScreen):
    """The stops of one task in walking order: location, item, quantity, tote."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="app.back")]

    def __init__(self, task: PickTask) -> None:
        super().__init__()
        self.pick_task = task

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(f"{self.pick_task.task_id} · {self.pick_task.zone}", classes="title")
        table: DataTable[str] = DataTable(id="stops", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#stops", DataTable)
        table.add_columns("#", "Loc", "SKU", "Qty", "Tote")
        for i, ln in enumerate(self.pick_task.ordered_lines(), start=1):
            table.add_row(
                str(i), ln.location, ln.sku, f"{ln.picked}/{ln.qty}", str(ln.tote_position)
            )
        table.focus()
