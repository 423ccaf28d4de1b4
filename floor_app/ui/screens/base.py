"""The common base of the floor's screens: the header, translated key bindings, error flashes.

Every screen takes scans through :meth:`FloorScreen.handle_scan`, whether they were typed
into its scan field or came from a hardware scanner; errors are shown by
:meth:`FloorScreen.flash_error` (red flash, the terminal bell, and the reason on screen).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.widgets import Static

from floor_app.domain.errors import DomainError
from floor_app.ui.widgets.status_header import StatusHeader
from floor_app.ui.widgets.text import set_text

if TYPE_CHECKING:
    from floor_app.ui.app import FloorApp
    from floor_app.ui.messages import DeviceChanged, SyncNotice

FLASH_S = 0.6


def error_text(exc: Exception) -> str:
    """The reason and what to do, as one line for the screen."""
    if isinstance(exc, DomainError):
        return f"{exc.reason} — {exc.hint}" if exc.hint else exc.reason
    return str(exc)


class FloorScreen(Screen[None]):
    """A screen of the floor app. ``floor`` is the typed app."""

    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._translated = False
        try:
            self.translate_bindings()
        except Exception:  # built outside a running app (a test helper): keep the keys
            self._translated = False

    @property
    def floor(self) -> FloorApp:
        """The app, typed."""
        from floor_app.ui.app import FloorApp

        return cast(FloorApp, self.app)

    def tr(self, key: str, **values: object) -> str:
        """A text in the app's language."""
        return self.floor.tr(key, **values)

    def translate_bindings(self) -> None:
        """Replace binding descriptions (i18n keys) by their texts, once."""
        if self._translated:
            return
        self._translated = True
        bindings = self._bindings.key_to_bindings
        for key, items in bindings.items():
            bindings[key] = [
                replace(b, description=self.tr(b.description)) if b.description else b
                for b in items
            ]

    def header(self) -> StatusHeader:
        """A fresh header for this screen."""
        return StatusHeader(self.floor.ctx, self.floor.tr, self.floor.user_name, self.floor.role)

    # -- scans and messages ------------------------------------------------------------------

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan arrived (typed or from a device). Screens that take scans override this."""
        self.flash_error(self.tr("errors.no_scan_here", code=text))

    def device_changed(self, message: DeviceChanged) -> None:
        """A device changed state: show it when it went away or came back."""
        if message.new in ("disconnected", "error", "paper_out", "head_open"):
            text = self.tr(
                f"devices.lost_{message.kind}"
                if message.kind in ("scanner", "camera")
                else "devices.fault",
                device=message.device,
                state=self.tr(f"devices.state.{message.new}"),
                error=message.error,
            )
            self.show_message(text, error=True)
            self.floor.error_bell()
        elif message.new == "ready" and message.old in ("disconnected", "error", "connecting"):
            self.show_message(self.tr("devices.back", device=message.device))

    def sync_notice(self, message: SyncNotice) -> None:
        """The hub said something the user must see."""
        if message.kind == "refused":
            self.flash_error(self.tr("sync.refused", reason=message.reason))
        elif message.kind == "rejected":
            self.flash_error(self.tr("sync.rejected", reason=message.reason))

    # -- showing -----------------------------------------------------------------------------

    def show_message(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` in the screen's message line (red for an error)."""
        # query_one by id is cached by Textual until the DOM changes; query() walked
        # every widget of the screen on every scan
        message = self.query_one_optional("#message")
        if isinstance(message, Static):
            set_text(message, text)
            message.set_class(error, "error")
            message.set_class(not error and bool(text), "ok")

    def flash_error(self, text: str) -> None:
        """A red flash, the bell and the reason: nothing was changed."""
        self.show_message(text, error=True)
        self.add_class("-flash")
        self.set_timer(FLASH_S, lambda: self.remove_class("-flash"))
        self.floor.error_bell()
