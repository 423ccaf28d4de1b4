"""Guards where a slip costs goods: taking back a confirmed pick, and quitting the app.

:class:`UndoScreen` names what an undo takes back (units, item, location, tote) and does it
only on ``y`` or a scan of the same item; Enter alone, which a scanner sends after every
code, never confirms. :class:`QuitScreen` asks before the app ends: ``y`` on a device, a
supervisor's badge in kiosk mode (``ui.kiosk``). :class:`StoreStaleScreen` says the hub
found this device's store stale and lets a supervisor's badge start its recovery.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from floor_app.domain.codes import classify
from floor_app.domain.errors import DomainError
from floor_app.domain.users import Role
from floor_app.services.errors import ServiceError
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorDialog


class GuardScreen(FloorDialog):
    """A question, what answers it, a scan field; Esc (or ``n``) answers no (False)."""

    BINDINGS = [Binding("escape", "answer(False)", "Esc", id="guard.no")]
    #: ``y`` answers yes (False: only a scan does)
    yes_key = True

    def question(self) -> str:
        raise NotImplementedError

    def hint(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question(), id="guard-question", classes="title", markup=False)
            yield Static(self.hint(), classes="hint")
            yield ScanInput(id="guard-scan")
            yield Static("", id="message", classes="message")

    def on_mount(self) -> None:
        self.query_one("#guard-scan", Input).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "n" or (event.key == "y" and self.yes_key):
            event.stop()
            event.prevent_default()
            self.dismiss(event.key == "y")

    @on(Input.Changed, "#guard-scan")
    def _typed(self, event: Input.Changed) -> None:
        """``y`` or ``n`` typed alone in the field answers (no code starts with them)."""
        if event.value in ("y", "n"):
            event.input.value = ""
            if event.value == "n" or self.yes_key:
                self.dismiss(event.value == "y")
            else:
                self.show_message(self.hint(), error=True)

    @on(Input.Submitted, "#guard-scan")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.handle_scan(event.value.strip())

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def supervisor_of(self, badge: str, refused: str) -> str:
        """The user id of the active supervisor whose badge ``badge`` is; "" (and the
        reason shown, ``refused`` for another role's badge) when it is not one."""
        try:
            user = self.floor.ctx.sessions.identify_badge(badge)
        except (DomainError, ServiceError) as exc:
            self.show_message(self.explain(exc), error=True)
            return ""
        if Role.SUPERVISOR not in user.roles:
            self.show_message(self.tr(refused, badge=badge), error=True)
            return ""
        return user.user_id


class UndoScreen(GuardScreen):
    """Take back ``qty`` x ``sku`` (barcode ``gtin``) picked at ``location`` into ``tote``?
    Yes on ``y`` or a scan of the item."""

    def __init__(self, qty: int, sku: str, gtin: str, location: str, tote: str) -> None:
        super().__init__(id="undo")
        self.qty, self.sku, self.gtin, self.location, self.tote = qty, sku, gtin, location, tote

    def question(self) -> str:
        return self.tr(
            "undo.question",
            qty=self.qty,
            sku=self.sku,
            location=self.location,
            tote=self.tote or "-",
        )

    def hint(self) -> str:
        return self.tr("undo.hint", sku=self.sku)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """The same item's barcode confirms; any other scan is refused, nothing changes."""
        try:
            same = classify(text).value.lstrip("0") == classify(self.gtin).value.lstrip("0")
        except DomainError:
            same = False
        if same:
            self.dismiss(True)
        else:
            self.show_message(self.tr("undo.other_scan", code=text, sku=self.sku), error=True)


class QuitScreen(GuardScreen):
    """End the app? ``y`` on a device; in kiosk mode only a supervisor's badge."""

    def __init__(self, kiosk: bool) -> None:
        super().__init__(id="quit")
        self.kiosk = kiosk
        self.yes_key = not kiosk
        #: who let the app end (a supervisor's user id in kiosk mode)
        self.by = ""

    def question(self) -> str:
        return self.tr("quit.question")

    def hint(self) -> str:
        return self.tr("quit.kiosk_hint" if self.kiosk else "quit.hint")

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """In kiosk mode an active supervisor's badge ends the app; other scans do not."""
        if not self.kiosk:
            self.show_message(self.tr("quit.hint"), error=True)
            return
        by = self.supervisor_of(text, "quit.not_supervisor")
        if by:
            self.by = by
            self.dismiss(True)


class StoreStaleScreen(GuardScreen):
    """The hub says this device's store does not continue its record: nothing is sent. A
    supervisor's badge starts the recovery (the hub's history, the store going on after it);
    Esc goes on working (what is confirmed here is kept and sent after the recovery)."""

    def __init__(self, hub_seq: int, store_seq: int, reason: str) -> None:
        super().__init__(id="store-stale")
        self.yes_key = False
        self.hub_seq, self.store_seq, self.reason = hub_seq, store_seq, reason
        #: the supervisor who started the recovery
        self.by = ""

    def question(self) -> str:
        return self.tr("store_stale.question", hub=self.hub_seq, here=self.store_seq)

    def hint(self) -> str:
        return self.tr("store_stale.hint")

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """An active supervisor's badge starts the recovery; other scans do not."""
        by = self.supervisor_of(text, "store_stale.not_supervisor")
        if by:
            self.by = by
            self.dismiss(True)
