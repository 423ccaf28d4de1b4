"""Guided picking: one stop at a time in route order, by scans alone.

At each stop the picker scans the location, then the item; every item scan counts one
unit (a quantity may be typed after the first item scan). A wrong location or item is a
red flash, the bell and the reason, and changes nothing. When a line is done the screen
says which tote it goes in and moves on; when the task is done it goes back to the list.
F6 reports a short, F7 skips the stop to the end of the route, F8 undoes the last scan.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Digits, Footer, Input, Static

from floor_app.domain.codes import CodeKind, ScannedCode, classify
from floor_app.domain.errors import DomainError
from floor_app.domain.picking import PickLine, PickTask, ShortReason, TaskState
from floor_app.domain.sku import Sku
from floor_app.services.scanning import QuantityEntry, read_quantity
from floor_app.store import StoreError
from floor_app.ui.messages import SyncNotice
from floor_app.ui.widgets.scan_input import ScanInput
from floor_app.ui.widgets.text import set_text

from .base import FloorScreen, error_text
from .pick_dialogs import ShortReasonScreen, TaskStoppedScreen

_DIGITS_OK = set(" 0123456789+-^x:ABCDEF")


class PickScreen(FloorScreen):
    """Walks one pick task (see the module docstring)."""

    BINDINGS = [
        Binding("f6", "short", "keys.short", id="pick.short"),
        Binding("f7", "skip", "keys.skip", id="pick.skip"),
        Binding("f8", "undo", "keys.undo", id="pick.undo"),
        Binding("escape", "back", "keys.back", id="pick.back"),
    ]

    def __init__(self, task: PickTask, *, at_location: str | None = None) -> None:
        super().__init__()
        self.pick_task = task
        self._skus: dict[str, Sku] = {}
        self._undo: list[tuple[str, int]] = []
        self._line: PickLine | None = task.next_line()
        self._at_location = at_location is not None and self._line is not None
        self._item_seen = False
        self._stopped = False
        #: called after a confirmed scan is on screen (benchmarks hook in here)
        self.shown_hooks: list[Callable[[str], None]] = []
        #: called as soon as the widgets show a confirmed scan (before the next paint)
        self.updated_hooks: list[Callable[[str], None]] = []

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static("", id="pick-title", classes="title")
        with Vertical(id="pick-body"):
            yield Digits("", id="loc-big")
            yield Static("", id="loc-text", classes="loc")
            yield Static("", id="item", classes="item")
            yield Static("", id="desc", classes="item")
            yield Static("", id="qty", classes="qty")
        yield Static("", id="prompt", classes="prompt")
        if self.floor.ctx.demo:
            yield Static("", id="demo", classes="hint")
        yield ScanInput(id="scan", placeholder=self.tr("pick.placeholder"))
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()
        self.show_line()

    def _sku(self, code: str) -> Sku:
        sku = self._skus.get(code)
        if sku is None:
            with self.floor.ctx.store.unit_of_work() as uow:
                sku = uow.catalogue.sku(code)
            self._skus[code] = sku
        return sku

    def show_line(self) -> None:
        """Draw the current stop."""
        task = self.pick_task
        line = self._line
        done, total = task.progress
        if line is None:
            set_text(self.query_one("#pick-title", Static), f"{task.task_id} · {done}/{total}")
            return
        tote = task.tote_for(line.tote_position)
        tote_text = self.tr(
            "pick.tote", position=line.tote_position, tote=tote.tote_id if tote else "-"
        )
        set_text(
            self.query_one("#pick-title", Static),
            f"{task.task_id} · {self.tr('pick.stop', n=done + 1, total=total)} · {tote_text}",
        )
        big = self.query_one("#loc-big", Digits)
        text = self.query_one("#loc-text", Static)
        fits = set(line.location) <= _DIGITS_OK and self.size.width >= 3 * len(line.location)
        if big.value != (line.location if fits else ""):
            big.update(line.location if fits else "")
        big.display = fits
        set_text(text, line.location)
        text.display = not fits
        sku = self._sku(line.sku)
        gtin = line.gtin.lstrip("0") if len(line.gtin.lstrip("0")) >= 13 else line.gtin
        set_text(self.query_one("#item", Static), f"{line.sku}  {gtin}")
        set_text(self.query_one("#desc", Static), sku.label(self.floor.tr.language))
        set_text(
            self.query_one("#qty", Static),
            self.tr("pick.qty", picked=line.picked, qty=line.qty, position=line.tote_position),
        )
        step = "pick.scan_item" if self._at_location else "pick.scan_location"
        set_text(self.query_one("#prompt", Static), self.tr(step, location=line.location))
        if self.floor.ctx.demo:
            set_text(
                self.query_one("#demo", Static),
                self.tr("pick.demo", location=line.location, gtin=gtin),
            )

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan or a typed quantity at the current stop."""
        line = self._line
        if self._stopped or line is None:
            return
        try:
            if self._at_location and self._item_seen:
                entry = read_quantity(text, line.open_qty, machine_typed=source != "keyboard")
            else:
                entry = classify(text)
        except DomainError as exc:
            self.flash_error(error_text(exc))
            return
        if isinstance(entry, QuantityEntry):
            self._confirm(line, entry.qty)
        else:
            self._code(line, entry)

    def _code(self, line: PickLine, code: ScannedCode) -> None:
        if code.kind is CodeKind.LOCATION:
            if code.value != line.location:
                self.flash_error(
                    self.tr("pick.wrong_location", scanned=code.value, location=line.location)
                )
            elif not self._at_location:
                self._at_location = True
                self.show_message("")
                self.show_line()
            else:
                self.show_message(self.tr("pick.already_here", location=line.location))
            return
        if code.kind is CodeKind.PRODUCT:
            if not self._at_location:
                self.flash_error(self.tr("pick.location_first", location=line.location))
                return
            if code.value != line.gtin:
                scanned = self._identify(code.value)
                if scanned is None or scanned.sku != line.sku:
                    what = (
                        f"{scanned.sku} {scanned.label(self.floor.tr.language)}"
                        if scanned
                        else code.value.lstrip("0")
                    )
                    self.flash_error(self.tr("pick.wrong_item", scanned=what, sku=line.sku))
                    return
            qty = code.count or 1
            self._confirm(line, qty)
            return
        if code.kind is CodeKind.BADGE:
            self.flash_error(self.tr("pick.badge_here"))
            return
        expected = "pick.scan_item" if self._at_location else "pick.scan_location"
        self.flash_error(
            self.tr("pick.not_now", kind=self.tr(f"kinds.{code.kind.value}"), code=code.value)
            + " — "
            + self.tr(expected, location=line.location)
        )

    def _identify(self, gtin: str) -> Sku | None:
        try:
            with self.floor.ctx.store.unit_of_work() as uow:
                return uow.catalogue.sku_by_gtin(gtin)
        except DomainError:
            return None

    def _confirm(self, line: PickLine, qty: int) -> None:
        if qty > line.open_qty:
            self.flash_error(self.tr("pick.too_many", qty=qty, open=line.open_qty))
            return
        try:
            result = self.floor.ctx.picking.confirm(
                self.pick_task.task_id, line.line_id, qty, self.floor.user_id, task=self.pick_task
            )
        except (DomainError, StoreError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        self._item_seen = True
        self._undo.append((line.line_id, qty))
        current = self.pick_task.line(line.line_id)
        if current.is_done:
            self._advance(self.tr("pick.put_in_tote", position=current.tote_position))
        else:
            self.show_message(
                self.tr("pick.counted", picked=current.picked, qty=current.qty), error=False
            )
            self._line = current
            self.show_line()
        self._shown(line.line_id)

    def _shown(self, what: str) -> None:
        for hook in self.updated_hooks:
            hook(what)
        hooks = list(self.shown_hooks)
        if hooks:
            self.call_after_refresh(lambda: [hook(what) for hook in hooks])

    def _advance(self, message: str) -> None:
        previous = self._line
        self._line = self.pick_task.next_line()
        self._item_seen = False
        self._at_location = (
            self._line is not None
            and previous is not None
            and self._line.location == previous.location
        )
        if self._line is None:
            self._complete(message)
            return
        self.show_message(message)
        self.show_line()

    def _complete(self, message: str) -> None:
        try:
            self.floor.ctx.picking.complete(self.pick_task.task_id, self.floor.user_id)
        except (DomainError, StoreError) as exc:
            self._action_failed(exc)
            return
        self.floor.ctx.activity.task = ""
        done = self.tr("pick.task_done", task=self.pick_task.task_id)
        self.app.pop_screen()
        screen = self.app.screen
        if isinstance(screen, FloorScreen):
            screen.show_message(f"{message} · {done}")

    def _action_failed(self, exc: Exception) -> None:
        try:
            state = self.floor.ctx.picking.task(self.pick_task.task_id).state
        except (DomainError, StoreError):
            state = None
        if state is TaskState.CANCELLED:
            self._stop(self.tr("pick.cancelled_by_hub"))
            return
        self.flash_error(error_text(exc))

    # -- keys --------------------------------------------------------------------------------

    def action_undo(self) -> None:
        """Take back the last confirmed scan on this screen."""
        if not self._undo:
            self.flash_error(self.tr("pick.nothing_to_undo"))
            return
        line_id, qty = self._undo[-1]
        try:
            result = self.floor.ctx.picking.undo(
                self.pick_task.task_id, line_id, qty, self.floor.user_id, task=self.pick_task
            )
        except (DomainError, StoreError) as exc:
            self._action_failed(exc)
            return
        self._undo.pop()
        self.pick_task = result.task
        line = self.pick_task.line(line_id)
        self._line = line
        self._at_location = True
        self._item_seen = line.picked > 0
        self.show_message(self.tr("pick.undone", qty=qty, sku=line.sku, location=line.location))
        self.show_line()

    def action_skip(self) -> None:
        """Move this stop to the end of the route."""
        line = self._line
        if line is None:
            return
        try:
            self.pick_task = self.floor.ctx.picking.skip(self.pick_task.task_id, line.line_id)
        except (DomainError, StoreError) as exc:
            self._action_failed(exc)
            return
        self._line = self.pick_task.next_line()
        self._at_location = False
        self._item_seen = False
        self.show_message(self.tr("pick.skipped", location=line.location))
        self.show_line()

    def action_short(self) -> None:
        """Report the rest of this line short, with a reason."""
        line = self._line
        if line is None:
            return

        def chosen(reason: ShortReason | None) -> None:
            if reason is not None:
                self._report_short(line, reason)

        self.app.push_screen(ShortReasonScreen(line.sku, line.open_qty), chosen)

    def _report_short(self, line: PickLine, reason: ShortReason) -> None:
        qty = line.open_qty
        try:
            result = self.floor.ctx.picking.report_short(
                self.pick_task.task_id, line.line_id, qty, reason, self.floor.user_id
            )
        except (DomainError, StoreError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        self._undo = [u for u in self._undo if u[0] != line.line_id]
        self._advance(
            self.tr("pick.short_recorded", qty=qty, sku=line.sku, reason=self.tr(f"short.{reason}"))
        )

    def action_back(self) -> None:
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()

    # -- the hub -----------------------------------------------------------------------------

    def sync_notice(self, message: SyncNotice) -> None:
        if message.task_id == self.pick_task.task_id and message.kind in (
            "task_cancelled",
            "refused",
        ):
            reason = message.reason or self.tr("pick.cancelled_by_hub")
            self._stop(reason)
            return
        super().sync_notice(message)

    def _stop(self, reason: str) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.floor.error_bell()
        try:
            task = self.floor.ctx.picking.task(self.pick_task.task_id)
        except (DomainError, StoreError):
            task = self.pick_task
        self.app.push_screen(TaskStoppedScreen(task, reason), lambda _: self._leave())

    def _leave(self) -> None:
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()
