"""Dialogs of guided picking: the short-pick reason, and a task stopped by the hub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import PickTask, ShortReason
from floor_app.ui.widgets.scan_input import ScanInput

if TYPE_CHECKING:
    from floor_app.ui.app import FloorApp

RETURNS_AREA = "RET-01"


class FloorDialog(ModalScreen[Any]):
    """A modal of the floor app with translated texts."""

    @property
    def floor(self) -> FloorApp:
        """The app, typed."""
        from floor_app.ui.app import FloorApp

        return cast(FloorApp, self.app)

    def tr(self, key: str, **values: object) -> str:
        """A text in the app's language."""
        return self.floor.tr(key, **values)


class ShortReasonScreen(FloorDialog):
    """Why can the rest of the line not be picked? 1 empty, 2 damaged, 3 not found."""

    BINDINGS = [Binding("escape", "cancel", "Esc", id="short.cancel")]

    def __init__(self, sku: str, qty: int) -> None:
        super().__init__(id="short-reason")
        self.sku = sku
        self.qty = qty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.tr("short.title", qty=self.qty, sku=self.sku), classes="title")
            options = OptionList(
                *(
                    Option(f"{i}  {self.tr(f'short.{r.value}')}", id=r.value)
                    for i, r in enumerate(ShortReason, start=1)
                ),
                id="reasons",
            )
            yield options
            yield Static(self.tr("short.hint"), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one("#reasons", OptionList)
        options.highlighted = 0
        options.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key.isdigit() and 1 <= int(event.key) <= len(ShortReason):
            event.stop()
            self.dismiss(list(ShortReason)[int(event.key) - 1])

    @on(OptionList.OptionSelected, "#reasons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(ShortReason(event.option.id or ShortReason.EMPTY.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TaskStoppedScreen(FloorDialog):
    """The hub cancelled (or took back) the task: what to do with the goods already picked."""

    BINDINGS = [Binding("enter", "done", "OK", id="stopped.ok", show=False)]

    def __init__(self, task: PickTask, reason: str) -> None:
        super().__init__(id="task-stopped")
        self.pick_task = task
        self.reason = reason

    def compose(self) -> ComposeResult:
        picked = [ln for ln in self.pick_task.ordered_lines() if ln.picked > 0]
        with Vertical(classes="dialog error-dialog"):
            yield Static(self.tr("stopped.title", task=self.pick_task.task_id), classes="title")
            yield Static(self.reason, id="stopped-reason", classes="message error")
            if picked:
                yield Static(self.tr("stopped.goods"), classes="prompt")
                for ln in picked:
                    tote = self.pick_task.tote_for(ln.tote_position)
                    yield Static(
                        self.tr(
                            "stopped.line",
                            position=ln.tote_position,
                            tote=tote.tote_id if tote else "-",
                            qty=ln.picked,
                            sku=ln.sku,
                        ),
                        classes="stopped-line",
                    )
                yield Static(self.tr("stopped.returns", area=RETURNS_AREA), id="stopped-do")
            else:
                yield Static(self.tr("stopped.nothing"), id="stopped-do")
            yield ScanInput(id="scan", placeholder=RETURNS_AREA)
            yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """Scan the returns area (or press Enter) to acknowledge."""
        if not text:
            self.action_done()
            return
        try:
            code = classify(text)
        except DomainError as exc:
            self.query_one("#message", Static).update(exc.reason)
            return
        if code.kind is CodeKind.LOCATION and code.value.startswith("RET-"):
            self.action_done()
        else:
            self.query_one("#message", Static).update(
                self.tr("stopped.scan_returns", area=RETURNS_AREA)
            )

    def action_done(self) -> None:
        self.dismiss(None)
