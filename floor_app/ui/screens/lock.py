"""The idle lock: the screen under it is kept; a badge scan opens it again.

The same user's badge goes back to where they were; another user's badge logs the first
one out and starts the new user's shift.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from floor_app.domain.errors import DomainError
from floor_app.services.errors import ServiceError
from floor_app.services.session import LoggedIn
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen


class LockScreen(FloorScreen):
    """Shown after ``ui.idle_lock_s`` seconds without a key or a scan."""

    def __init__(self) -> None:
        super().__init__()

    def compose(self) -> ComposeResult:
        yield self.header()
        with Vertical(id="lock-box"):
            yield Static(self.tr("lock.title"), classes="title")
            yield Static(self.tr("lock.prompt", name=self.floor.user_name), classes="prompt")
            yield ScanInput(id="scan", placeholder="B1001")
            yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()  # the field emptied itself on Enter
        if text:
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        sessions = self.floor.ctx.sessions
        current = self.floor.session
        try:
            user = sessions.identify_badge(text)
            if current is not None and user.user_id == current.user.user_id:
                self.floor.unlocked(LoggedIn(user, current.role))
                return
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        role = self.floor.ctx.settings.device.role or self.floor.forced_role
        self.floor.switch_user(lambda: sessions.login_badge(text, role))
