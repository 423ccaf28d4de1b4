"""The supervisor's home: orders by state, refreshed live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from floor_app.domain.order import OrderState

from .base import FloorScreen


class SupervisorHomeScreen(FloorScreen):
    """Orders per state as this device knows them, every two seconds."""

    BINDINGS = [Binding("ctrl+l", "app.logout", "Log out", id="app.logout")]

    def compose(self) -> ComposeResult:
        tr = self.floor.tr
        yield self.header()
        yield Static(tr("supervisor.title"), classes="title")
        yield Static(tr("supervisor.orders_by_state"), classes="prompt")
        table: DataTable[str] = DataTable(id="states", cursor_type="row")
        yield table
        yield Static("", id="outbox", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        tr = self.floor.tr
        self.query_one("#states", DataTable).add_columns(
            tr("supervisor.state"), tr("supervisor.count")
        )
        self.refresh_counts()
        self.set_interval(2.0, self.refresh_counts)

    def refresh_counts(self) -> None:
        """Re-read the counts."""
        with self.floor.ctx.store.unit_of_work() as uow:
            counts = uow.orders.count_by_state()
        table = self.query_one("#states", DataTable)
        table.clear()
        for state in OrderState:
            table.add_row(state.value, str(counts.get(state.value, 0)))
        depth, _, _ = self.floor.ctx.store.outbox_stats()
        self.query_one("#outbox", Static).update(self.floor.tr("supervisor.outbox", depth=depth))
