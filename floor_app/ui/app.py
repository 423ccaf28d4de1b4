"""The floor app: handed a built :class:`AppContext`, it shows login and then the role's screens.

Scans reach the active screen the same way whatever their source: typed into a scan field
and submitted, or read by a hardware scanner or camera on its driver thread, which only
posts a :class:`ScanArrived` message (thread-safe). Device state changes and what the hub
says (refused claims, cancelled tasks) arrive as messages too.

With a keyboard-wedge scanner (``ctx.wedge``) every key typed into a scan field passes
:class:`~floor_app.ui.wedge_keys.WedgeKeys` first: a scanner's burst becomes a scan like a
hardware scanner's, a person's keys are typed into the field (docs/decisions/0405).

Input never goes to a screen that is still being built: :class:`InputGate` holds keys and
scans until it is ready. An error no handler caught is logged with its traceback and the
user is taken back to a safe screen (their role's home, or the login) with their work kept
in the store; more than :data:`MAX_ERRORS` in a minute end the app with status 70.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from device_drivers.base import DeviceKind, DeviceState, Scan, StateChange
from floor_app.context import AppContext
from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState
from floor_app.domain.users import Role
from floor_app.hub_sync import ClaimRefusal, LinkState, PushApplied, PushKind
from floor_app.services.errors import ServiceError
from floor_app.services.session import LoggedIn
from floor_app.ui.i18n import Translator

from .input_gate import InputGate
from .messages import DeviceChanged, ScanArrived, StoreNews, SyncNotice
from .screens.base import FloorDialog, FloorScreen, explain
from .screens.lock import LockScreen
from .screens.login import LoginScreen
from .wedge_keys import WedgeKeys
from .widgets.scan_input import MAX_SCAN

log = logging.getLogger("floor.ui")

#: More unhandled errors than this within :data:`ERROR_WINDOW_S` end the app with
#: :data:`EXIT_SOFTWARE` (the kiosk unit starts it again) instead of recovering once more.
MAX_ERRORS = 3
ERROR_WINDOW_S = 60.0
EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: an internal error


def home_screen(role: Role) -> type[FloorScreen]:
    """The class of ``role``'s home screen.

    The home screens and the screens they open are imported here, once the login screen is
    drawn (or at login), not when the app starts: 20-35 ms less to the first screen.
    """
    if role is Role.PICKER:
        from .screens.picker_home import PickerHomeScreen

        return PickerHomeScreen
    if role is Role.PACKER:
        from .screens.packer_home import PackerHomeScreen

        return PackerHomeScreen
    from .screens.supervisor_home import SupervisorHomeScreen

    return SupervisorHomeScreen


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
        #: keys and scans wait here while the screen they are for is being built
        self.input_gate = InputGate(self, self._deliver_held, self._held_dropped)
        #: recover from unhandled errors (None: unless run headless, as tests run it, where
        #: an error must fail the test)
        self.recover_errors: bool | None = None
        self._errors: deque[float] = deque()

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
        for source in self.ctx.devices.scan_sources():
            source.on_scan(self._scan_from_device)
        for device in self.ctx.devices.all():
            device.on_state_change(self._device_listener(device.kind))
        self._listen_to_sync()

    def _first_screen_drawn(self) -> None:
        for role in Role:  # imported now, so that they are frozen with the rest of startup
            home_screen(role)
        settle_memory()

    # -- hand-offs from other threads: only post_message --------------------------------------

    def _scan_from_device(self, scan: Scan) -> None:
        self.post_message(ScanArrived(scan.with_aim, scan.source, scan.received_monotonic))

    def _device_listener(self, kind: DeviceKind) -> Callable[[StateChange[DeviceState]], None]:
        def changed(change: StateChange[DeviceState]) -> None:
            self.post_message(DeviceChanged(kind, change))

        return changed

    def _listen_to_sync(self) -> None:
        sync = self.ctx.sync
        if sync is None:
            return
        sync.on_claim_refused(self._claim_refused)
        sync.on_event_rejected(  # an event failed the hub's checks
            lambda rejection: self.post_message(SyncNotice("rejected", rejection.why))
        )
        sync.on_push_applied(self._push_applied)
        sync.on_store_stale(lambda stale: self.post_message(StoreNews(stale)))
        sync.on_store_recovered(lambda done: self.post_message(StoreNews(None, done)))
        stale = sync.stale_store()  # left stale when the app last ran
        if stale is not None:
            self.post_message(StoreNews(stale))
        sync.on_online_changed(
            lambda online: self.post_message(
                SyncNotice(LinkState.ONLINE if online else LinkState.OFFLINE, "")
            )
        )

    def _claim_refused(self, refusal: ClaimRefusal) -> None:
        notice = SyncNotice(
            "refused",
            refusal.why,
            task_id=refusal.task_id,
            order_id=refusal.order_id,
            claim=refusal.type,
        )
        self.post_message(notice)

    def _push_applied(self, push: PushApplied) -> None:
        if push.ends_task:
            self.post_message(SyncNotice("task_cancelled", push.why, task_id=push.task_id))
        elif push.kind in (PushKind.TASK_ASSIGNED, PushKind.STOCK_TASK_ASSIGNED):
            self.post_message(SyncNotice("task_assigned", ""))
        elif push.kind is PushKind.ORDER_SNAPSHOT and push.order_state is OrderState.PICKED:
            self.post_message(SyncNotice("order_picked", "", order_id=push.order_id))
        elif push.kind is PushKind.TOTE_CONTENTS:
            self.post_message(SyncNotice("totes", ""))

    # -- input: held while the screen is being built ---------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key | events.Paste)
            and not event.is_forwarded
            and self.input_gate.hold(event)
        ):
            return
        try:
            await super().on_event(event)
        except Exception as error:  # a key's action failed: the app goes on
            if not self._recovers():
                raise
            self.recover(error)

    async def _deliver_held(self, item: Message) -> None:
        if isinstance(item, ScanArrived):
            self._take_scan(item)
        elif isinstance(item, events.Event):
            await super().on_event(item)

    def _held_dropped(self, count: int) -> None:
        screen = self.screen
        if isinstance(screen, FloorScreen):
            screen.flash_error(self.tr("errors.input_dropped", count=count))

    # -- messages on the UI thread ------------------------------------------------------------

    def on_scan_arrived(self, message: ScanArrived) -> None:
        self.touch()
        if not self.input_gate.hold(message):
            self._take_scan(message)

    def _take_scan(self, message: ScanArrived) -> None:
        screen = self.screen
        if len(message.text) > MAX_SCAN:  # no floor code is that long: say so in one line
            if isinstance(screen, FloorScreen):
                screen.flash_error(self.tr("errors.scan_too_long", limit=MAX_SCAN))
            elif isinstance(screen, FloorDialog):
                screen.show_message(self.tr("errors.scan_too_long", limit=MAX_SCAN), error=True)
            return
        self.ctx.activity.scanned(message.text)
        if isinstance(screen, FloorScreen | FloorDialog):
            screen.handle_scan(message.text.strip(), message.source)

    def on_device_changed(self, message: DeviceChanged) -> None:
        screen = self.screen
        if isinstance(screen, FloorScreen):
            screen.device_changed(message)

    def on_sync_notice(self, message: SyncNotice) -> None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FloorScreen):
                screen.sync_notice(message)
                break

    # -- errors nobody caught ----------------------------------------------------------------

    def _recovers(self) -> bool:
        return self.recover_errors if self.recover_errors is not None else not self.is_headless

    async def _on_message(self, message: Message) -> None:
        try:
            await super()._on_message(message)
        except Exception as error:  # a handler's bug: the app goes on (see _handle_exception)
            if not self._recovers():
                raise
            self.recover(error)

    def _handle_exception(self, error: Exception) -> None:
        """An error no handler caught, in a screen's or widget's handler, a timer or a
        worker: recover from it (the failed screen is replaced) rather than end."""
        if self._recovers() and self.return_code is None:
            self.recover(error)
            return
        log.critical("unhandled error: the app ends", exc_info=error)
        super()._handle_exception(error)
        if self.return_code == 1:
            self._return_code = EXIT_SOFTWARE

    def recover(self, error: BaseException) -> None:
        """Log ``error`` with its traceback and take the user back to a safe screen; after
        more than :data:`MAX_ERRORS` in :data:`ERROR_WINDOW_S`, end with status 70."""
        now = time.monotonic()
        self._errors.append(now)
        while self._errors and now - self._errors[0] > ERROR_WINDOW_S:
            self._errors.popleft()
        screen = type(self.screen).__name__ if self.screen_stack else "-"
        if len(self._errors) > MAX_ERRORS:
            log.critical(
                "unhandled error on %s, the %d. within %.0f s: the app ends (status %d)",
                screen, len(self._errors), ERROR_WINDOW_S, EXIT_SOFTWARE, exc_info=error,
            )  # fmt: skip
            self.exit(return_code=EXIT_SOFTWARE)
            return
        log.error("unhandled error on %s: back to a safe screen", screen, exc_info=error)
        self.call_later(self._back_to_safe_screen, type(error).__name__)

    def _back_to_safe_screen(self, error: str) -> None:
        """The role's home screen, fresh (or the login), opening the work in progress where
        the store has it: what was confirmed is there."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        safe: FloorScreen = (
            home_screen(self.session.role)() if self.session is not None else LoginScreen()
        )
        safe.resume_work = True
        if len(self.screen_stack) > 1:
            self.switch_screen(safe)
        else:
            self.push_screen(safe)
        self.notify(self.tr("errors.unexpected", error=error), severity="error", timeout=15)
        self.error_bell()

    # -- a stale store ------------------------------------------------------------------------

    def on_store_news(self, message: StoreNews) -> None:
        """The hub found the store stale: say so and let a supervisor start the recovery;
        or the recovery is done: say what it did."""
        from .screens.guard_dialogs import StoreStaleScreen

        sync = self.ctx.sync
        done = message.recovered
        if done is not None:
            self.notify(
                self.tr(
                    "store_stale.recovered",
                    hub=done.hub_seq,
                    sent=done.renumbered,
                    missing=done.missing_count,
                ),
                timeout=30,
            )
            return
        stale = message.stale
        if stale is None or sync is None or isinstance(self.screen, StoreStaleScreen):
            return
        ask = StoreStaleScreen(stale.hub_seq, stale.store_seq, stale.reason)

        def answered(yes: bool | None) -> None:
            if yes and sync.recover_store(ask.by):
                log.warning("store recovery started by supervisor %s", ask.by)
                self.notify(self.tr("store_stale.asked"), timeout=15)

        self.error_bell()
        self.push_screen(ask, answered)

    # -- quitting -----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit once confirmed: ``y``, or in kiosk mode a supervisor's badge."""
        from .screens.guard_dialogs import QuitScreen

        if isinstance(self.screen, QuitScreen):
            return  # already asking
        ask = QuitScreen(kiosk=self.ctx.settings.ui.kiosk)

        def answered(yes: bool | None) -> None:
            if yes:
                log.info("the app is quit%s", f" by supervisor {ask.by}" if ask.by else "")
                self.exit()

        self.push_screen(ask, answered)

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
        home = home_screen(session.role)()
        home.resume_work = True  # the work in progress opens where it stands
        self.switch_screen(home)

    def action_logout(self, reason: str = "logout") -> None:
        """Log out and return to the login screen."""
        if self.session is not None:
            try:
                self.ctx.sessions.logout(self.session.user.user_id, reason)
            except (DomainError, ServiceError) as exc:
                self.notify(explain(self.tr, exc), severity="error")
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
            except (DomainError, ServiceError) as exc:
                self.notify(explain(self.tr, exc), severity="error")
            self.session = None
        try:
            session = login()
        except (DomainError, ServiceError) as exc:
            self.notify(explain(self.tr, exc), severity="error")
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
