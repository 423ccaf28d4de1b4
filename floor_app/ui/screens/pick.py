"""Guided picking: the task's totes first, then one stop at a time in route order, by scans
alone.

The picker first scans an empty tote for each position on the cart (or the cart itself);
a tote still holding an unpacked order is refused, naming the order. At each stop the
picker scans the location, then the item; every item scan counts one unit (a quantity may
be typed after the first item scan). A wrong location, item or tote is a red flash, the
bell and the reason, and changes nothing. When a line is done the screen says which tote
it goes in; where the task fills more than one tote, a scan of that tote confirms the put
(every line, or the first put per tote, as the site says). When the task is done, a
summary names each tote with its order and where to take it
(:class:`~floor_app.ui.screens.pick_dialogs.TaskDoneScreen`). F6 reports a short, F7 skips
the stop to the end of the route, F8 undoes the last scan.
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
from floor_app.domain.events import ToteAssigned
from floor_app.domain.lots import PickedLot
from floor_app.domain.picking import PickLine, PickTask, PutConfirmation, ShortReason, TaskState
from floor_app.domain.sku import Sku
from floor_app.domain.totes import ToteBusy
from floor_app.services.errors import ServiceError
from floor_app.services.scanning import QuantityEntry, read_quantity
from floor_app.ui.messages import SyncNotice, SyncNoticeKind
from floor_app.ui.widgets.scan_input import ScanInput
from floor_app.ui.widgets.text import set_text

from .base import FloorScreen
from .guard_dialogs import UndoScreen
from .pick_dialogs import ShortReasonScreen, TaskDoneScreen, TaskStoppedScreen

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
        #: confirmed scans that F8 may take back: line, units, their lot and serial
        self._undo: list[tuple[str, int, PickedLot | None, str]] = []
        self._line: PickLine | None = task.next_line()
        self._at_location = at_location is not None and self._line is not None
        self._item_seen = False
        #: the lot the item scan of the current line picks (a typed quantity after it too)
        self._lot: PickedLot | None = None
        self._stopped = False
        #: the line whose put waits for a scan of its tote
        self._put: PickLine | None = None
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
        self._put = self.floor.ctx.picking.put_due(self.pick_task)
        if self._put is not None:  # resumed with a put not yet confirmed
            self._line, self._at_location = self._put, True
        self.show_line()

    def _sku(self, code: str) -> Sku:
        sku = self._skus.get(code)
        if sku is None:
            sku = self.floor.ctx.catalogue.sku(code)
            self._skus[code] = sku
        return sku

    def show_line(self) -> None:
        """Draw the current step: a tote to scan, or the current stop."""
        task = self.pick_task
        if task.totes_to_scan():
            self._show_totes()
            return
        line = self._line
        done, total = task.progress
        if line is None:
            set_text(self.query_one("#pick-title", Static), f"{task.task_id} · {done}/{total}")
            return
        tote = task.tote_for(line.tote_position)
        tote_text = self.tr(
            "pick.tote", position=line.tote_position, tote=tote.tote_id if tote else "-"
        )
        n = done if self._put is not None else done + 1  # a put: its line is done
        set_text(
            self.query_one("#pick-title", Static),
            f"{task.task_id} · {self.tr('pick.stop', n=n, total=total)} · {tote_text}",
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
        item = f"{line.sku}  {gtin}"
        if line.lot_tracked and line.lot:
            item += "  " + self.tr("pick.lot", lot=line.lot)
        set_text(self.query_one("#item", Static), item)
        set_text(self.query_one("#desc", Static), sku.label(self.floor.tr.language))
        set_text(
            self.query_one("#qty", Static),
            self.tr("pick.qty", picked=line.picked, qty=line.qty, position=line.tote_position),
        )
        if self._put is not None:
            code = tote.tote_id if tote else "-"
            prompt = self.tr("pick.scan_put", position=line.tote_position, tote=code)
            set_text(self.query_one("#prompt", Static), prompt)
            self._demo_hint(code)
            return
        step = "pick.scan_item" if self._at_location else "pick.scan_location"
        set_text(self.query_one("#prompt", Static), self.tr(step, location=line.location))
        if self.floor.ctx.demo:
            set_text(
                self.query_one("#demo", Static),
                self.tr("pick.demo", location=line.location, gtin=gtin),
            )

    def _show_totes(self) -> None:
        """Draw the totes step: the next position waiting for a tote, those scanned."""
        task = self.pick_task
        waiting = task.totes_to_scan()
        position = waiting[0]
        scanned = len(task.totes) - len(waiting)
        set_text(
            self.query_one("#pick-title", Static),
            f"{task.task_id} · {self.tr('pick.totes', n=scanned, total=len(task.totes))}",
        )
        self.query_one("#loc-big", Digits).display = False
        text = self.query_one("#loc-text", Static)
        text.display = True
        set_text(
            text,
            self.tr("pick.tote_for", position=position.position, order=position.order_id or "-"),
        )
        done = " · ".join(f"{t.position} {t.tote_id}" for t in task.totes if t.is_scanned)
        set_text(self.query_one("#item", Static), done)
        set_text(self.query_one("#desc", Static), "")
        set_text(self.query_one("#qty", Static), "")
        set_text(
            self.query_one("#prompt", Static),
            self.tr("pick.scan_tote", position=position.position),
        )
        if self.floor.ctx.demo:
            picking = self.floor.ctx.picking
            codes = picking.free_totes(2)
            cart = picking.free_cart(len(waiting)) if len(waiting) > 1 else None
            self._demo_hint(" · ".join([*codes, *([cart] if cart else [])]) or "-")

    def _demo_hint(self, codes: str) -> None:
        """In the demo, the codes the step takes."""
        if self.floor.ctx.demo:
            set_text(self.query_one("#demo", Static), self.tr("pick.demo_codes", codes=codes))

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan or a typed quantity at the current step."""
        if self._stopped:
            return
        if self.pick_task.totes_to_scan():
            self._scan_tote(text)
            return
        line = self._line
        if line is None:
            return
        if self._put is not None:
            self._scan_put(self._put, text)
            return
        try:
            if self._at_location and self._item_seen:
                entry = read_quantity(text, line.open_qty, machine_typed=source != "keyboard")
            else:
                entry = classify(text)
        except DomainError as exc:
            self.flash_error(self.explain(exc))
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
            try:
                self._lot = self.floor.ctx.picking.lot_of_scan(line, code)
                serial = self.floor.ctx.picking.serial_of_scan(line, code)
            except DomainError as exc:
                self.flash_error(self.explain(exc))
                return
            if serial:  # one unit, with its serial number
                self._confirm(line, 1, serial)
                return
            # an inner pack's or a case's barcode counts the units it holds
            pack = 1 if code.value == line.gtin else self.floor.ctx.catalogue.pack_qty(code.value)
            qty = code.count or pack
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

    # -- totes -------------------------------------------------------------------------------

    def _scan_tote(self, text: str) -> None:
        """A tote (or a cart) for the next position of the cart."""
        try:
            result = self.floor.ctx.picking.assign_totes(
                self.pick_task.task_id, text, self.floor.user_id
            )
        except ToteBusy as exc:
            self.flash_error(self.tr("pick.tote_busy", tote=exc.tote, order=exc.order_id))
            return
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        placed = ", ".join(f"{t.position} {t.tote_id}" for t in result.totes)
        if result.task.totes_to_scan():
            self.show_message(self.tr("pick.tote_set", totes=placed))
        else:
            self.show_message(self.tr("pick.totes_ready", n=len(result.task.totes)))
            self._line = self._line or self.pick_task.next_line()
        self.show_line()
        self._shown("totes")

    def _scan_put(self, line: PickLine, text: str) -> None:
        """The scan of the tote that ``line``'s units went into."""
        tote = self.pick_task.tote_for(line.tote_position)
        code = tote.tote_id if tote else "-"
        try:
            scanned = classify(text)
        except DomainError as exc:
            self.flash_error(self.explain(exc))
            return
        if scanned.kind is not CodeKind.TOTE:
            self.flash_error(self.tr("pick.put_first", position=line.tote_position, tote=code))
            return
        if scanned.value != code:
            self.flash_error(
                self.tr(
                    "pick.wrong_tote", scanned=scanned.value, position=line.tote_position, tote=code
                )
            )
            return
        try:
            result = self.floor.ctx.picking.confirm_put(
                self.pick_task.task_id, line.line_id, text, self.floor.user_id
            )
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        self._put = None
        self._advance(self.tr("pick.put_done", position=line.tote_position, tote=code))
        self._shown(line.line_id)

    def _identify(self, gtin: str) -> Sku | None:
        try:
            return self.floor.ctx.catalogue.sku_by_gtin(gtin)
        except DomainError:
            return None

    def _confirm(self, line: PickLine, qty: int, serial: str = "") -> None:
        if qty > line.open_qty:
            self.flash_error(self.tr("pick.too_many", qty=qty, open=line.open_qty))
            return
        try:
            result = self.floor.ctx.picking.confirm(
                self.pick_task.task_id,
                line.line_id,
                qty,
                self.floor.user_id,
                task=self.pick_task,
                lot=self._lot if line.lot_tracked else None,
                serial=serial,
            )
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        self._item_seen = True
        self._undo.append((line.line_id, qty, self._lot if line.lot_tracked else None, serial))
        current = self.pick_task.line(line.line_id)
        if current.is_done:
            self._line_done(
                current,
                self.tr("pick.counted", picked=current.picked, qty=current.qty),
                self.tr("pick.put_in_tote", position=current.tote_position),
            )
        else:
            self.show_message(
                self.tr("pick.counted", picked=current.picked, qty=current.qty), error=False
            )
            self._line = current
            self.show_line()
        self._shown(line.line_id)

    def _line_done(self, line: PickLine, counted: str, moving_on: str) -> None:
        """``line`` is done: its put waits for a scan of its tote, or the next stop."""
        if self.pick_task.put_due(line, self._put_mode):
            self._put, self._line, self._at_location = line, line, True
            self.show_message(counted)
            self.show_line()
        else:
            self._advance(moving_on)

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
        self._lot = None
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

    @property
    def _put_mode(self) -> PutConfirmation:
        return self.floor.ctx.picking.put_confirmation

    def _complete(self, message: str) -> None:
        try:
            result = self.floor.ctx.picking.complete(self.pick_task.task_id, self.floor.user_id)
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self.floor.ctx.activity.task = ""
        task_id = self.pick_task.task_id
        home = self.app.screen_stack[-2]  # the task list, under this screen
        if isinstance(home, FloorScreen):  # there when the summary closes
            home.show_message(f"{message} · {self.tr('pick.task_done', task=task_id)}")
        self.app.pop_screen()
        if result.drops:
            self.app.push_screen(TaskDoneScreen(task_id, result.drops))

    def _action_failed(self, exc: DomainError | ServiceError) -> None:
        try:
            state = self.floor.ctx.picking.task(self.pick_task.task_id).state
        except (DomainError, ServiceError):
            state = None
        if state is TaskState.CANCELLED:
            self._stop(self.tr("pick.cancelled_by_hub"))
            return
        self.flash_error(self.explain(exc))

    # -- keys --------------------------------------------------------------------------------

    def action_undo(self) -> None:
        """Take back the last confirmed scan on this screen, once the picker confirms
        what it takes back (``y`` or a scan of the item)."""
        if not self._undo:
            self.flash_error(self.tr("pick.nothing_to_undo"))
            return
        if isinstance(self.app.screen, UndoScreen):
            return  # already asking
        line_id, qty, lot, serial = self._undo[-1]
        line = self.pick_task.line(line_id)
        tote = self.pick_task.tote_for(line.tote_position)

        def answered(yes: bool | None) -> None:
            if yes:
                self._take_back(line_id, qty, lot, serial)
            else:
                self.show_message(self.tr("undo.kept", qty=qty, sku=line.sku))

        self.app.push_screen(
            UndoScreen(qty, line.sku, line.gtin, line.location, tote.tote_id if tote else ""),
            answered,
        )

    def _take_back(self, line_id: str, qty: int, lot: PickedLot | None, serial: str) -> None:
        try:
            result = self.floor.ctx.picking.undo(
                self.pick_task.task_id,
                line_id,
                qty,
                self.floor.user_id,
                task=self.pick_task,
                lot=lot,
                serial=serial,
            )
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self._undo.pop()
        self.pick_task = result.task
        line = self.pick_task.line(line_id)
        self._line = line
        self._put = None
        self._at_location = True
        self._item_seen = line.picked > 0
        self.show_message(self.tr("pick.undone", qty=qty, sku=line.sku, location=line.location))
        self.show_line()

    def action_skip(self) -> None:
        """Move this stop to the end of the route."""
        line = self._line
        if line is None or self._waiting_for_tote():
            return
        try:
            self.pick_task = self.floor.ctx.picking.skip(self.pick_task.task_id, line.line_id)
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self._line = self.pick_task.next_line()
        self._at_location = False
        self._item_seen = False
        self._lot = None
        self.show_message(self.tr("pick.skipped", location=line.location))
        self.show_line()

    def action_short(self) -> None:
        """Report the rest of this line short, with a reason."""
        line = self._line
        if line is None or self._waiting_for_tote():
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
        except (DomainError, ServiceError) as exc:
            self._action_failed(exc)
            return
        self.pick_task = result.task
        self._undo = [u for u in self._undo if u[0] != line.line_id]
        recorded = self.tr(
            "pick.short_recorded", qty=qty, sku=line.sku, reason=self.tr(f"short.{reason}")
        )
        self._line_done(self.pick_task.line(line.line_id), recorded, recorded)

    def _waiting_for_tote(self) -> bool:
        """True (and the picker told so) while a tote scan is what the step needs."""
        if self.pick_task.totes_to_scan():
            self.flash_error(self.tr("pick.totes_first"))
            return True
        if self._put is not None:
            tote = self.pick_task.tote_for(self._put.tote_position)
            self.flash_error(
                self.tr(
                    "pick.put_first",
                    position=self._put.tote_position,
                    tote=tote.tote_id if tote else "-",
                )
            )
            return True
        return False

    def action_back(self) -> None:
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()

    # -- the hub -----------------------------------------------------------------------------

    def sync_notice(self, message: SyncNotice) -> None:
        if message.kind is SyncNoticeKind.REFUSED and message.claim == ToteAssigned.TYPE:
            self._tote_refused(self.explain(message.why))
            return
        if message.task_id == self.pick_task.task_id and message.kind in (
            SyncNoticeKind.TASK_CANCELLED,
            SyncNoticeKind.REFUSED,
        ):
            reason = self.explain(message.why) if message.reason else ""
            reason = reason or self.tr("pick.cancelled_by_hub")
            self._stop(reason)
            return
        super().sync_notice(message)

    def _tote_refused(self, reason: str) -> None:
        """The hub refused a tote of this device: the task as it is now (the tote off its
        position if it was this task's), and the reason."""
        try:
            self.pick_task = self.floor.ctx.picking.task(self.pick_task.task_id)
        except (DomainError, ServiceError) as exc:
            self.flash_error(f"{self.tr('pick.tote_refused', reason=reason)} · {self.explain(exc)}")
            return
        self._put = self.floor.ctx.picking.put_due(self.pick_task)
        if self._line is not None:
            self._line = self.pick_task.line(self._line.line_id)
        self.show_line()
        self.flash_error(self.tr("pick.tote_refused", reason=reason))

    def _stop(self, reason: str) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.floor.error_bell()
        try:
            task = self.floor.ctx.picking.task(self.pick_task.task_id)
        except (DomainError, ServiceError):
            task = self.pick_task
        self.app.push_screen(TaskStoppedScreen(task, reason), lambda _: self._leave())

    def _leave(self) -> None:
        self.floor.ctx.activity.task = ""
        self.app.pop_screen()
