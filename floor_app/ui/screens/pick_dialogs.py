"""Dialogs of guided picking: the short-pick reason, a task stopped by the hub, and the end
of a task naming each tote with its order and where to take it."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import PickTask, ShortReason
from floor_app.domain.totes import ToteDrop
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorDialog

RETURNS_AREA = "RET-01"


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
            self.query_one("#message", Static).update(self.explain(exc))
            return
        if code.kind is CodeKind.LOCATION and code.value.startswith("RET-"):
            self.action_done()
        else:
            self.query_one("#message", Static).update(
                self.tr("stopped.scan_returns", area=RETURNS_AREA)
            )

    def action_done(self) -> None:
        self.dismiss(None)


class TaskDoneScreen(FloorDialog):
    """The task is done: each tote with its order and where it goes (a pack station, or the
    staging location for an order left short); an empty tote back to the stack. Enter (or
    any scan) closes it."""

    BINDINGS = [Binding("enter", "done", "OK", id="done.ok", show=False)]

    def __init__(self, task_id: str, drops: tuple[ToteDrop, ...]) -> None:
        super().__init__(id="task-done")
        self.task_id = task_id
        self.drops = drops

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.tr("done.title", task=self.task_id), classes="title")
            for drop in self.drops:
                if drop.units:
                    text = self.tr(
                        "done.line",
                        tote=drop.tote,
                        order=drop.order_id,
                        destination=drop.destination,
                    )
                else:
                    text = self.tr("done.empty", tote=drop.tote)
                yield Static(text, classes="done-line")
            yield Static(self.tr("done.hint"), classes="hint")
            yield ScanInput(id="scan", placeholder=self.tr("done.placeholder"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_done()

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """Any scan closes the summary (the picker is on the way)."""
        self.action_done()

    def action_done(self) -> None:
        self.dismiss(None)
