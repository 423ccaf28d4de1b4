"""Dialogs of the supervisor's board: the details of a row, and a yes/no confirmation.

:class:`DetailsScreen` shows every field of the row under the cursor (what the columns of a
40x16 handheld leave out); Enter or Esc closes it. :class:`ConfirmScreen` names what a key
is about to do and does it only on Enter or ``y``; Esc or ``n`` leaves everything as it was.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from .base import FloorDialog


class DetailsScreen(FloorDialog):
    """A title and ``label: value`` lines; Enter or Esc closes."""

    BINDINGS = [
        Binding("escape", "close", "Esc", id="details.close"),
        Binding("enter", "close", show=False, id="details.close_enter"),
    ]

    def __init__(self, title: str, lines: list[tuple[str, str]]) -> None:
        super().__init__(id="details")
        self.title_text = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="title")
            with VerticalScroll(id="details-body"):
                yield Static(
                    "\n".join(f"{label}: {value}" for label, value in self.lines),
                    id="details-lines",
                    markup=False,
                )
            yield Static(self.tr("supervisor.close_hint"), classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmScreen(FloorDialog):
    """``question``: Enter or ``y`` answers yes (True), Esc or ``n`` no (False)."""

    BINDINGS = [
        Binding("escape", "answer(False)", "Esc", id="confirm.no"),
        Binding("enter", "answer(True)", show=False, id="confirm.yes"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(id="confirm")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="title", markup=False)
            yield Static(self.tr("supervisor.confirm_hint"), classes="hint")

    def on_key(self, event: events.Key) -> None:
        if event.key in ("y", "n"):
            event.stop()
            self.dismiss(event.key == "y")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
