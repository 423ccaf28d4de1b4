"""The packer's home: scan a tote or an order to see what is in it and where it goes."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError

from .base import FloorScreen


class PackerHomeScreen(FloorScreen):
    """Scan an order (or type its id) to see its lines and ship-to."""

    BINDINGS = [Binding("ctrl+l", "app.logout", "Log out", id="app.logout")]

    def compose(self) -> ComposeResult:
        tr = self.floor.tr
        station = self.floor.ctx.settings.device.station or "-"
        yield self.header()
        yield Static(tr("packer.title", station=station), classes="title")
        yield Static(tr("packer.prompt"), classes="prompt")
        yield Input(id="scan", placeholder="SO-100001")
        yield Static("", id="message", classes="message")
        table: DataTable[str] = DataTable(id="lines", cursor_type="row")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lines", DataTable).add_columns("#", "SKU", "Qty", "Picked")
        self.query_one("#scan", Input).focus()

    @on(Input.Submitted, "#scan")
    def _scan(self, event: Input.Submitted) -> None:
        text, event.input.value = event.value.strip(), ""
        if text:
            self.handle_scan(text)

    def handle_scan(self, text: str) -> None:
        """Look up the scanned order and show it."""
        tr = self.floor.tr
        message = self.query_one("#message", Static)
        table = self.query_one("#lines", DataTable)
        try:
            code = classify(text)
            if code.kind is not CodeKind.ORDER:
                raise DomainError(
                    f"{text} is a {code.kind.value} code, not an order",
                    hint="scan the order or tote label",
                )
            with self.floor.ctx.store.unit_of_work() as uow:
                order = uow.orders.get(code.value)
        except DomainError as exc:
            message.update(str(exc))
            message.add_class("error")
            table.clear()
            self.floor.error_bell()
            return
        message.remove_class("error")
        message.update(
            tr(
                "packer.order",
                order=order.order_id,
                state=order.state.value,
                lines=len(order.lines),
                city=order.ship_to.city,
            )
        )
        table.clear()
        for ln in order.lines:
            table.add_row(str(ln.line_no), ln.sku, str(ln.qty), str(ln.picked))
