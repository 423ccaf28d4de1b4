"""The header on every screen: device, user, online/offline, outbox depth and age, device health."""

from __future__ import annotations

from textual.widgets import Static

from floor_app.context import AppContext
from floor_app.services.errors import Unavailable
from floor_app.ui.devices import health_mark
from floor_app.ui.i18n import Translator
from floor_app.ui.widgets.text import set_text


def format_age(seconds: float, tr: Translator | None = None) -> str:
    """A short age: 45s, 12m, 3h, 2d (in ``tr``'s language: 45秒 ...)."""
    if seconds < 60:
        n, unit = int(seconds), "s"
    elif seconds < 3600:
        n, unit = int(seconds // 60), "m"
    elif seconds < 86400:
        n, unit = int(seconds // 3600), "h"
    else:
        n, unit = int(seconds // 86400), "d"
    return tr(f"age.{unit}", n=tr.number(n)) if tr is not None else f"{n}{unit}"


class StatusHeader(Static):
    """One line at the top of every screen, refreshed every second.

    Its height is one line whatever the text, so a new text is only repainted: no layout
    pass of the screen (and nothing at all when the text did not change).
    """

    DEFAULT_CSS = """
    StatusHeader { height: 1; width: 100%; }
    """

    def __init__(self, ctx: AppContext, tr: Translator, user: str = "", role: str = "") -> None:
        super().__init__("", id="status-header")
        self.ctx = ctx
        self.tr = tr
        self.user = user
        self.role = role

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def on_resize(self) -> None:
        self.refresh_status()  # narrow or wide as soon as the width is known

    def refresh_status(self) -> None:
        """Read the outbox and sync state and redraw."""
        try:
            backlog = self.ctx.outbox.backlog()
            depth, oldest = backlog.depth, backlog.oldest_at
        except Unavailable:  # a busy store must not break the header: "?" until it answers
            depth, oldest = -1, None
        sync = self.ctx.sync_status()
        narrow = self.size.width and self.size.width < 60
        parts = [self.ctx.settings.device.id]
        who = self.user or self.tr("header.nobody")
        online = sync.online
        if narrow:
            parts.append(who.split(" ")[0])
            parts.append(("●" if online else "○") + f" ↑{depth if depth >= 0 else '?'}")
            marks = "".join(
                f"{name[:1].upper()}{health_mark(state, other='!')}"
                for name, state in self.ctx.devices.states().items()
            )
            if marks:
                parts.append(marks)
            self.set_class(not online, "-offline")
            self.set_class(depth > 0 and not online, "-backlog")
            set_text(self, " ".join(parts))
            return
        parts.append(who if not self.role else f"{who} ({self.tr('roles.' + self.role)})")
        state = self.tr("header.online") if online else self.tr("header.offline")
        parts.append(("● " if online else "○ ") + state)
        outbox = self.tr("header.outbox", depth=depth if depth >= 0 else "?")
        if oldest is not None and depth > 0:
            outbox += " " + self.tr(
                "header.oldest", age=format_age(max(0.0, self.ctx.clock() - oldest), self.tr)
            )
        parts.append(outbox)
        for name, state in self.ctx.devices.states().items():
            word = f"devices.kind.{name}"
            shown = self.tr(word) if self.tr.knows(word) else name
            parts.append(f"{shown} {health_mark(state, other='!')}")
        self.set_class(not sync.online, "-offline")
        self.set_class(depth > 0 and not sync.online, "-backlog")
        set_text(self, " · ".join(parts))
