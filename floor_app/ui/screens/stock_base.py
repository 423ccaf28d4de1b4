"""What the screens of stock work share (counts, refills, put-aways): the next place shown
large, going back to the task list with a message, and a task the hub cancels or refuses
stopping the screen with the reason."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Footer, Input, Static

from floor_app.domain.errors import DomainError
from floor_app.domain.stockwork import StockTask, StockTaskState
from floor_app.services.errors import ServiceError
from floor_app.ui.messages import SyncNotice, SyncNoticeKind
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen

_DIGITS_OK = set(" 0123456789+-^x:ABCDEF")


class StockTaskScreen(FloorScreen):
    """A screen working one stock task (``stock_task``).

    Subclasses name their widgets and texts (``NAME``: ``#NAME-title``, ``#NAME-body``, the
    ``NAME.placeholder`` text; ``QTY_ID``: the line of units counted or carried;
    ``CANCELLED_KEY``), load the task from the store
    (:meth:`load_task`), draw it (:meth:`show_state`) and say what to do once stopped
    (:meth:`stopped_prompt`).
    """

    NAME: ClassVar[str]
    QTY_ID: ClassVar[str]
    CANCELLED_KEY: ClassVar[str]

    def __init__(self, task: StockTask) -> None:
        super().__init__()
        self.stock_task = task
        self._stopped = False

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static("", id=f"{self.NAME}-title", classes="title")
        with Vertical(id=f"{self.NAME}-body"):
            yield Digits("", id="loc-big")
            yield Static("", id="loc-text", classes="loc")
            yield Static("", id="item", classes="item")
            yield Static("", id="desc", classes="item")
            yield Static("", id=self.QTY_ID, classes="qty")
        yield Static("", id="prompt", classes="prompt")
        yield ScanInput(id="scan", placeholder=self.tr(f"{self.NAME}.placeholder"))
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()
        self.show_state()

    def load_task(self) -> StockTask:
        """The task as the store has it now."""
        raise NotImplementedError

    def show_state(self) -> None:
        """Draw where the task is."""
        raise NotImplementedError

    def reload_task(self) -> bool:
        """Take the task as the store has it now; False when the store could not be read
        (the screen keeps its copy)."""
        try:
            self.stock_task = self.load_task()
        except (DomainError, ServiceError):
            return False
        return True

    def stopped_prompt(self) -> str:
        """The prompt once the hub stopped the task."""
        raise NotImplementedError

    def show_place(self, place: str) -> None:
        """Show ``place`` large (as digits when it fits, else as reversed text)."""
        big = self.query_one("#loc-big", Digits)
        text = self.query_one("#loc-text", Static)
        fits = set(place) <= _DIGITS_OK and self.size.width >= 3 * len(place)
        big.update(place if fits else "")
        big.display = fits
        text.update(place)
        text.display = not fits

    def leave(self, message: str) -> None:
        """Back to the task list, showing ``message`` there."""
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()
        screen = self.app.screen
        if isinstance(screen, FloorScreen):
            screen.show_message(message)

    def failed(self, exc: DomainError | ServiceError) -> None:
        """Recording failed: a task cancelled meanwhile stops the screen, anything else is
        shown with its reason."""
        try:
            state: StockTaskState | None = self.load_task().state
        except (DomainError, ServiceError):
            state = None
        if state is StockTaskState.CANCELLED:
            self.stop(self.tr(self.CANCELLED_KEY))
            return
        self.flash_error(self.explain(exc))

    def sync_notice(self, message: SyncNotice) -> None:
        cancelled = message.kind is SyncNoticeKind.TASK_CANCELLED
        if cancelled and message.task_id == self.stock_task.task_id:
            self.stop(self.explain(message.why) if message.reason else self.tr(self.CANCELLED_KEY))
            return
        super().sync_notice(message)
        if message.kind is SyncNoticeKind.REJECTED and not self._stopped and self.reload_task():
            self.show_state()  # a rejected move was taken back: its units are to move again

    def stop(self, reason: str) -> None:
        """The hub took the task away: say why and what to do; nothing more is recorded."""
        if self._stopped:
            return
        self._stopped = True
        self.floor.error_bell()
        self.show_message(reason, error=True)
        self.query_one("#prompt", Static).update(self.stopped_prompt())
