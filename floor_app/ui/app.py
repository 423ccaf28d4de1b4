"""The floor app: handed a built :class:`AppContext`, it shows login and then the role's screens."""

from __future__ import annotations

import time

from textual import events
from textual.app import App
from textual.binding import Binding

from floor_app.context import AppContext
from floor_app.domain.users import Role
from floor_app.services.session import LoggedIn
from floor_app.ui.i18n import Translator

from .screens.base import FloorScreen
from .screens.login import LoginScreen
from .screens.packer_home import PackerHomeScreen
from .screens.picker_home import PickerHomeScreen
from .screens.supervisor_home import SupervisorHomeScreen

HOME: dict[Role, type[FloorScreen]] = {
    Role.PICKER: PickerHomeScreen,
    Role.PACKER: PackerHomeScreen,
    Role.SUPERVISOR: SupervisorHomeScreen,
}


class FloorApp(App[int]):
    """The Textual app of a floor device."""

    CSS_PATH = "app.tcss"
    TITLE = "floor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("ctrl+c", "quit", "Quit", id="app.quit_c", show=False, priority=True),
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
        if self.ctx.settings.ui.idle_lock_s:
            self.set_interval(5.0, self._check_idle)

    def set_language(self, language: str) -> None:
        """Switch the language of every screen shown from now on."""
        self.tr = Translator(language)

    def logged_in(self, session: LoggedIn) -> None:
        """Called by the login screen: show the role's home screen."""
        self.session = session
        if session.user.language:
            self.set_language(session.user.language)
        self.switch_screen(HOME[session.role]())

    def action_logout(self, reason: str = "logout") -> None:
        """Log out and return to the login screen."""
        if self.session is not None:
            try:
                self.ctx.sessions.logout(self.session.user.user_id, reason)
            except Exception as exc:
                self.notify(str(exc), severity="error")
        self.session = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen())

    def error_bell(self) -> None:
        """Ring the terminal bell when configured to."""
        if self.ctx.settings.ui.bell:
            self.bell()

    def on_key(self, event: events.Key) -> None:
        self._last_activity = time.monotonic()

    def _check_idle(self) -> None:
        idle = time.monotonic() - self._last_activity
        if self.session is not None and idle > self.ctx.settings.ui.idle_lock_s:
            self.action_logout("idle")
