"""Login: scan a badge (or type user and PIN); choose a role when the user has several."""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from floor_app.domain.errors import DomainError
from floor_app.domain.users import Role, User
from floor_app.services.errors import ServiceError
from floor_app.services.session import LoggedIn
from floor_app.ui.i18n import LANGUAGES
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen

Login = Callable[[Role], LoggedIn]
#: the longest user id and PIN the fields take (a PIN is 4 to 8 digits)
MAX_USER = 32
MAX_PIN = 8


class LoginScreen(FloorScreen):
    """The first screen: who is working on this device."""

    BINDINGS = [
        Binding("f2", "toggle_pin", "keys.pin", id="login.pin"),
        Binding("f3", "language", "keys.language", id="login.language"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._pin_mode = False
        self._pending: Login | None = None

    def compose(self) -> ComposeResult:
        tr = self.floor.tr
        yield self.header()
        with Vertical(id="login-box"):
            yield Static(tr("login.title"), id="login-title", classes="title")
            yield Static(tr("login.prompt"), id="login-prompt", classes="prompt")
            yield ScanInput(id="badge", placeholder="B1001")
            yield ScanInput(
                id="user",
                placeholder=tr("login.user"),
                classes="hidden",
                clear_on_submit=False,
                max_length=MAX_USER,
            )
            yield ScanInput(
                id="pin",
                placeholder=tr("login.pin"),
                password=True,
                classes="hidden",
                max_length=MAX_PIN,
            )
            yield OptionList(id="roles", classes="hidden")
            yield Static("", id="message", classes="message")
            if self.floor.ctx.demo:
                yield Static(tr("login.demo_hint"), id="demo-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#badge", Input).focus()

    def action_toggle_pin(self) -> None:
        self._pin_mode = not self._pin_mode
        tr = self.floor.tr
        self.query_one("#badge").set_class(self._pin_mode, "hidden")
        self.query_one("#user").set_class(not self._pin_mode, "hidden")
        self.query_one("#pin").set_class(not self._pin_mode, "hidden")
        prompt = tr("login.pin_prompt" if self._pin_mode else "login.prompt")
        self.query_one("#login-prompt", Static).update(prompt)
        self.query_one("#user" if self._pin_mode else "#badge", Input).focus()

    def action_language(self) -> None:
        langs = list(LANGUAGES)
        nxt = langs[(langs.index(self.floor.tr.language) + 1) % len(langs)]
        self.floor.set_language(nxt)
        self.floor.switch_screen(LoginScreen())

    @on(Input.Submitted, "#badge")
    def _badge(self, event: Input.Submitted) -> None:
        value = event.value.strip()  # the field emptied itself on Enter
        if value:
            self.submit_badge(value)

    @on(Input.Submitted, "#user")
    def _user(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def _pin(self, event: Input.Submitted) -> None:
        user_id = self.query_one("#user", Input).value
        pin = event.value  # the field emptied itself on Enter
        sessions = self.floor.ctx.sessions
        self._attempt(
            lambda: sessions.identify_pin(user_id, pin),
            lambda role: sessions.login_pin(user_id, pin, role),
        )

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """A badge scanned by a hardware scanner."""
        self.submit_badge(text)

    def submit_badge(self, badge: str) -> None:
        """Log in with a scanned badge (also called for hardware scans)."""
        sessions = self.floor.ctx.sessions
        self._attempt(
            lambda: sessions.identify_badge(badge), lambda role: sessions.login_badge(badge, role)
        )

    def _attempt(self, identify: Callable[[], User], login: Login) -> None:
        locked = self.floor.ctx.settings.device.role or self.floor.forced_role
        try:
            user = identify()
            roles = [locked] if locked else [r for r in Role if r in user.roles]
            if len(roles) > 1:
                self._offer_roles(roles, login)
                return
            session = login(roles[0])
        except (DomainError, ServiceError) as exc:
            self.show_error(self.explain(exc))
            return
        self.floor.logged_in(session)

    def _offer_roles(self, roles: list[Role], login: Login) -> None:
        tr = self.floor.tr
        options = self.query_one("#roles", OptionList)
        options.clear_options()
        for i, role in enumerate(roles, start=1):
            options.add_option(Option(f"{i}  {tr('roles.' + role.value)}", id=role.value))
        options.remove_class("hidden")
        self.query_one("#login-prompt", Static).update(tr("login.choose_role"))
        self._pending = login
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#roles")
    def _role_chosen(self, event: OptionList.OptionSelected) -> None:
        if self._pending is None:
            return
        try:
            session = self._pending(Role(event.option.id or Role.PICKER.value))
        except (DomainError, ServiceError) as exc:
            self.show_error(self.explain(exc))
            return
        self.floor.logged_in(session)

    def on_key(self, event: events.Key) -> None:
        options = self.query_one("#roles", OptionList)
        if not options.has_class("hidden") and event.key.isdigit():
            index = int(event.key) - 1
            if 0 <= index < options.option_count:
                options.highlighted = index
                options.action_select()
                event.stop()

    def show_error(self, text: str) -> None:
        """Show what went wrong, in red, with the bell."""
        self.flash_error(text)
