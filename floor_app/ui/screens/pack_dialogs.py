"""Dialogs of the pack station: a reason from a short list, and a supervisor's badge."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorDialog


class ReasonScreen(FloorDialog):
    """Choose a reason by its digit (or arrows and Enter); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Esc", id="reason.cancel")]

    def __init__(self, title: str, reasons: list[str], *, dialog_id: str = "reason") -> None:
        super().__init__(id=dialog_id)
        self.title_text = title
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="title")
            yield OptionList(
                *(Option(f"{i}  {r}", id=str(i)) for i, r in enumerate(self.reasons, start=1)),
                id="reasons",
            )

    def on_mount(self) -> None:
        options = self.query_one("#reasons", OptionList)
        options.highlighted = 0
        options.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key.isdigit() and 1 <= int(event.key) <= len(self.reasons):
            event.stop()
            self.dismiss(self.reasons[int(event.key) - 1])

    @on(OptionList.OptionSelected, "#reasons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.reasons[int(event.option.id or "1") - 1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class BadgeScreen(FloorDialog):
    """Scan a badge (a supervisor's, for an override); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Esc", id="badge.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__(id="badge-dialog")
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.prompt, classes="title")
            yield ScanInput(id="badge", placeholder="B3001")

    def on_mount(self) -> None:
        self.query_one("#badge", Input).focus()

    @on(Input.Submitted, "#badge")
    def _submitted(self, event: Input.Submitted) -> None:
        self.handle_scan(event.value.strip())

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """The badge scanned."""
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
