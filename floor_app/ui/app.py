"""The floor app: handed a built :class:`AppContext`, it shows login and then the role's screens.

Scans reach the active screen the same way whatever their source: typed into a scan field
and submitted, or read by a hardware scanner or camera on its driver thread, which only
posts a :class:`ScanArrived` message (thread-safe). Device state changes and what the hub
says (refused claims, cancelled tasks) arrive as messages too.

With a keyboard-wedge scanner (``ctx.wedge``) every key typed into a scan field passes
:class:`~floor_app.ui.wedge_keys.WedgeKeys` first: a scanner's burst becomes a scan like a
hardware scanner's, a person's keys are typed into the field (docs/decisions/0405).
"""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding

from device_drivers.base import Scan, StateChange
from floor_app.context import AppContext
from floor_app.domain.users import Role
from floor_app.services.session import LoggedIn
from floor_app.ui.i18n import Translator

from .messages import DeviceChanged, ScanArrived, SyncNotice
from .screens.base import FloorScreen
from .screens.lock import LockScreen
from .screens.login import LoginScreen
from .wedge_keys import WedgeKeys

#: each role's home screen (module in floor_app.ui.screens, class). They and the screens
#: they open are imported once the login screen is drawn, not before: 20-35 ms of start.
HOME: dict[Role, tuple[str, str]] = {
    Role.PICKER: ("picker_home", "PickerHomeScreen"),
    Role.PACKER: ("packer_home", "PackerHomeScreen"),
    Role.SUPERVISOR: ("supervisor_home", "SupervisorHomeScreen"),
}


def home_screen(role: Role) -> type[FloorScreen]:
    """The class of ``role``'s home screen."""
    module, name = HOME[role]
    screen: type[FloorScreen] = getattr(
        importlib.import_module(f"floor_app.ui.screens.{module}"), name
    )
    return screen


#: Textual's own themes; "high-contrast" is the app stylesheet on black.
THEMES = {"high-contrast": "textual-dark", "dark": "textual-dark", "light": "textual-light"}


_settled = False


def settle_memory() -> None:
    """Once per process, when the first screen has been drawn: freeze what startup built.

    The objects made while starting (modules, SQLAlchemy's and Textual's structures, the
    store, the first screen: some 120,000) live as long as the process, yet every full
    collection of the cyclic garbage collector traversed them all again: 100-130 ms on
    the event loop, long enough to hold a scan's screen update for several frames, and it
    came every few hundred scans. A collection first frees what startup left behind,
    then ``gc.freeze()`` moves the survivors out of the collector's generations; later
    collections look at newer objects only. The collector is turned back on here if
    ``floor-app`` kept it off during startup (floor_app/__main__.py).
    """
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.enable()


class FloorApp(App[int]):
    """The Textual app of a floor device."""

    CSS_PATH = "app.tcss"
    TITLE = "floor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", "keys.quit", id="app.quit", priority=True),
        Binding("ctrl+c", "quit", "keys.quit", id="app.quit_c", show=False, priority=True),
    ]

    def __init__(
        self, ctx: AppContext, *, role: Role | None = None, language: str | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.forced_role = role
        self.tr = Translator(language or ctx.settings.ui.language)
        self.session: LoggedIn | None = None
        self._last_activity = time.monotonic()
        self.theme = THEMES.get(ctx.settings.ui.theme, "textual-dark")
        if ctx.settings.ui.theme == "light":
            self.add_class("-light")
        #: the app's key descriptions as i18n keys, translated again when the language changes
        self._binding_keys = {
            key: [b.description for b in items]
            for key, items in self._bindings.key_to_bindings.items()
        }
        self._translate_app_bindings()
        #: routes keys of scan fields through the keyboard wedge (None: no wedge configured)
        self.wedge_keys: WedgeKeys | None = (
            WedgeKeys(self, ctx.wedge) if ctx.wedge is not None else None
        )

    def _translate_app_bindings(self) -> None:
        """The app's own key descriptions in the current language (from their i18n keys,
        so a language chosen at login applies to them too)."""
        bindings = self._bindings.key_to_bindings
        for key, items in bindings.items():
            originals = self._binding_keys.get(key, [b.description for b in items])
            bindings[key] = [
                replace(b, description=self.tr(text)) if text.startswith("keys.") else b
                for b, text in zip(items, originals, strict=True)
            ]

    @property
    def user_id(self) -> str:
        """The logged-in user's id, or empty."""
        return self.session.user.user_id if self.session else ""

    @property
    def user_name(self) -> str:
        """The logged-in user's name, or empty."""
        return self.session.user.name if self.session else ""

    @property
    def role(self) -> str:
        """The role being worked, or empty."""
        return self.session.role.value if self.session else ""

    def on_mount(self) -> None:
        self.push_screen(LoginScreen())
        self.call_after_refresh(self._first_screen_drawn)
        if self.ctx.settings.ui.idle_lock_s:
            self.set_interval(min(5.0, self.ctx.settings.ui.idle_lock_s / 2), self.check_idle_lock)
        for source in self.ctx.scanners:
            source.on_scan(self._scan_from_device)
        for device in self.ctx.all_devices():
            device.on_state_change(self._device_state)
        self._listen_to_sync()

    def _first_screen_drawn(self) -> None:
        for role in HOME:  # imported now, so that they are frozen with the rest of startup
            home_screen(role)
        settle_memory()

    # -- hand-offs from other threads: only post_message --------------------------------------

    def _scan_from_device(self, scan: Scan) -> None:
        self.post_message(ScanArrived(scan.with_aim, scan.source, scan.received_monotonic))

    def _device_state(self, change: StateChange[Any]) -> None:
        device = next((d for d in self.ctx.all_devices() if d.name == change.device), None)
        kind = device.kind if device is not None else "device"
        self.post_message(
            DeviceChanged(change.device, kind, str(change.old), str(change.new), change.error)
        )

    def _listen_to_sync(self) -> None:
        sync = self.ctx.sync
        if sync is None:
            return
        if hasattr(sync, "on_claim_refused"):
            sync.on_claim_refused(
                lambda r: self.post_message(
                    SyncNotice(
                        "refused",
                        str(getattr(r, "reason", "")),
                        task_id=getattr(r, "task_id", None),
                        order_id=getattr(r, "order_id", None),
                    )
                )
            )
        if hasattr(sync, "on_event_rejected"):  # an event failed the hub's checks
            sync.on_event_rejected(
                lambda r: self.post_message(SyncNotice("rejected", str(getattr(r, "reason", ""))))
            )
        if hasattr(sync, "on_push_applied"):
            sync.on_push_applied(self._push_applied)
        if hasattr(sync, "on_online_changed"):
            sync.on_online_changed(
                lambda online: self.post_message(SyncNotice("online" if online else "offline", ""))
            )

    def _push_applied(self, message: Any) -> None:
        item = getattr(message, "item", None)
        task_id = getattr(item, "task_id", None)
        if type(item).__name__ in ("TaskCancelled", "StockTaskCancelled") and task_id:
            reason = str(getattr(item, "reason", ""))
            self.post_message(SyncNotice("task_cancelled", reason, task_id=task_id))

    # -- messages on the UI thread ------------------------------------------------------------

    def on_scan_arrived(self, message: ScanArrived) -> None:
        self.touch()
        self.ctx.activity.scanned(message.text)
        handler = getattr(self.screen, "handle_scan", None)
        if callable(handler):
            handler(message.text.strip(), message.source)

    def on_device_changed(self, message: DeviceChanged) -> None:
        screen = self.screen
        if isinstance(screen, FloorScreen):
            screen.device_changed(message)

    def on_sync_notice(self, message: SyncNotice) -> None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FloorScreen):
                screen.sync_notice(message)
                break

    # -- session ------------------------------------------------------------------------------

    def set_language(self, language: str) -> None:
        """Switch the language of every screen shown from now on (and of the app's keys)."""
        self.tr = Translator(language)
        self._translate_app_bindings()

    def logged_in(self, session: LoggedIn) -> None:
        """Called by the login screen: show the role's home screen."""
        self.session = session
        self.touch()
        if session.user.language:
            self.set_language(session.user.language)
        self.switch_screen(home_screen(session.role)())

    def action_logout(self, reason: str = "logout") -> None:
        """Log out and return to the login screen."""
        if self.session is not None:
            try:
                self.ctx.sessions.logout(self.session.user.user_id, reason)
            except Exception as exc:
                self.notify(str(exc), severity="error")
        self.session = None
        self.ctx.activity.task = ""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    def unlocked(self, session: LoggedIn) -> None:
        """The same user scanned their badge on the lock screen: go on where they were."""
        self.pop_screen()
        self.touch()

    def switch_user(self, login: Callable[[], LoggedIn]) -> None:
        """Another user opened the lock screen: log the first out, then the new one in."""
        if self.session is not None:
            try:
                self.ctx.sessions.logout(self.session.user.user_id, "idle")
            except Exception as exc:
                self.notify(str(exc), severity="error")
            self.session = None
        try:
            session = login()
        except Exception as exc:
            self.notify(str(exc), severity="error")
            self.action_logout()
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.logged_in(session)

    def wedge_rejected(self, reason: str) -> None:
        """A fast burst of keys was neither a scan nor typing: say so on the screen."""
        screen = self.screen
        if isinstance(screen, FloorScreen):
            screen.flash_error(self.tr("errors.wedge_rejected", reason=reason))

    def error_bell(self) -> None:
        """Ring the terminal bell when configured to."""
        if self.ctx.settings.ui.bell:
            self.bell()

    def touch(self) -> None:
        """Note user activity (a key or a scan): the idle lock starts counting again."""
        self._last_activity = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        self.touch()

    def check_idle_lock(self, now: float | None = None) -> None:
        """Lock the screen when nobody touched it for ``ui.idle_lock_s`` seconds."""
        now = time.monotonic() if now is None else now
        idle = now - self._last_activity
        limit = self.ctx.settings.ui.idle_lock_s
        if (
            limit
            and self.session is not None
            and idle > limit
            and not isinstance(self.screen, LockScreen)
        ):
            self.push_screen(LockScreen())
