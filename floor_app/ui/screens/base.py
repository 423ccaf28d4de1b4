"""The common base of the floor's screens: the header, translated key bindings, error flashes.

Every screen takes scans through :meth:`FloorScreen.handle_scan`, whether they were typed
into its scan field or came from a hardware scanner; errors are shown by
:meth:`FloorScreen.flash_error` (red flash, the terminal bell, and the reason on screen).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from textual import events, on
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.types import NoActiveAppError
from textual.widgets import Input, Static

from device_drivers.base import DeviceKind
from floor_app.domain.errors import DomainError, Reason
from floor_app.services.errors import ServiceError
from floor_app.ui.devices import LOST, READY, RETURNS_FROM
from floor_app.ui.i18n import Translator
from floor_app.ui.messages import ScanArrived, SyncNoticeKind
from floor_app.ui.widgets.scan_input import ScanInput
from floor_app.ui.widgets.status_header import StatusHeader
from floor_app.ui.widgets.text import set_text

if TYPE_CHECKING:
    from floor_app.ui.app import FloorApp
    from floor_app.ui.messages import DeviceChanged, SyncNotice

#: Kinds whose loss the user works around by typing the codes.
_SCANS = (DeviceKind.SCANNER, DeviceKind.CAMERA)

FLASH_S = 0.6


def error_text(exc: DomainError | ServiceError) -> str:
    """The reason and what to do, as one line in English (see :meth:`FloorScreen.explain`)."""
    return f"{exc.reason} — {exc.hint}" if exc.hint else exc.reason


def explain(tr: Translator, why: DomainError | ServiceError | Reason) -> str:
    """The reason and what to do, as one line in ``tr``'s language (English for a
    rejection whose code the catalogue does not know)."""
    reason = why if isinstance(why, Reason) else why.why
    return tr.reason(reason.code, reason.params, reason.text)


class TakesInput:
    """What every floor screen and dialog does with input (see
    :mod:`floor_app.ui.input_gate`): it is ready for keys and scans once mounted, and a
    code submitted in its scan field after it gave way to another screen (typed ahead,
    behind the scan that changed the screen) goes to the screen now shown."""

    #: True once mounted: the app's input gate delivers what waited for this screen
    floor_ready = False

    def _on_mount(self, event: events.Mount) -> None:
        # runs after the subclass's on_mount (which sets the focus): Textual dispatches
        # handlers from the most derived class up
        self.floor_ready = True
        self.floor.input_gate.opened()  # type: ignore[attr-defined]

    async def _on_message(self, message: Message) -> None:
        if (
            isinstance(message, Input.Submitted)
            and isinstance(message.input, ScanInput)
            and message.input.clear_on_submit
            and message.value.strip()
            and self.is_attached  # type: ignore[attr-defined]
            and self.app.screen is not self  # type: ignore[attr-defined]
        ):
            self.floor.post_message(ScanArrived(message.value, "keyboard"))  # type: ignore[attr-defined]
            return
        await super()._on_message(message)  # type: ignore[misc]


class FloorScreen(TakesInput, Screen[None]):
    """A screen of the floor app. ``floor`` is the typed app."""

    #: a home screen set to this opens the user's work in progress once mounted (after a
    #: login, a restart or an error)
    resume_work = False

    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._translated = False
        try:
            self.translate_bindings()
        except NoActiveAppError:  # built outside a running app: keep the keys as they are
            self._translated = False

    @property
    def floor(self) -> FloorApp:
        """The app, typed."""
        from floor_app.ui.app import FloorApp

        return cast(FloorApp, self.app)

    def tr(self, key: str, **values: object) -> str:
        """A text in the app's language."""
        return self.floor.tr(key, **values)

    def trn(self, key: str, n: int, **values: object) -> str:
        """A text in the app's language in its plural form for ``n``."""
        return self.floor.tr.trn(key, n, **values)

    def explain(self, why: DomainError | ServiceError | Reason) -> str:
        """Why something was refused, and what to do, in the app's language."""
        return explain(self.floor.tr, why)

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
        if message.new in LOST:
            text = self.tr(
                f"devices.lost_{message.kind}" if message.kind in _SCANS else "devices.fault",
                device=message.device,
                state=self.tr(f"devices.state.{message.new}"),
                error=message.error,
            )
            self.show_message(text, error=True)
            self.floor.error_bell()
        elif message.new in READY and message.old in RETURNS_FROM:
            self.show_message(self.tr("devices.back", device=message.device))

    def sync_notice(self, message: SyncNotice) -> None:
        """The hub said something the user must see."""
        if message.kind is SyncNoticeKind.REFUSED:
            self.flash_error(self.tr("sync.refused", reason=self.explain(message.why)))
        elif message.kind is SyncNoticeKind.REJECTED:
            self.flash_error(self.tr("sync.rejected", reason=self.explain(message.why)))

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

    @on(ScanInput.Capped)
    def _capped(self, message: ScanInput.Capped) -> None:
        self.show_message(self.tr("errors.too_long", limit=message.limit), error=True)


class FloorDialog(TakesInput, ModalScreen[Any]):
    """A modal of the floor app with translated texts; scans go to :meth:`handle_scan`."""

    @property
    def floor(self) -> FloorApp:
        """The app, typed."""
        from floor_app.ui.app import FloorApp

        return cast(FloorApp, self.app)

    def tr(self, key: str, **values: object) -> str:
        """A text in the app's language."""
        return self.floor.tr(key, **values)

    def explain(self, why: DomainError | ServiceError | Reason) -> str:
        """Why something was refused, and what to do, in the app's language."""
        return explain(self.floor.tr, why)

    def show_message(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` in the dialog's message line, if it has one."""
        message = self.query_one_optional("#message")
        if isinstance(message, Static):
            set_text(message, text)
            message.set_class(error, "error")

    @on(ScanInput.Capped)
    def _capped(self, message: ScanInput.Capped) -> None:
        self.show_message(self.tr("errors.too_long", limit=message.limit), error=True)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A scan arrived while this dialog is open: ignored unless the dialog takes scans."""
