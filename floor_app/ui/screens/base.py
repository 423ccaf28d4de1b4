"""The common base of the floor's screens: the header, the footer, error flashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from floor_app.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from floor_app.ui.app import FloorApp


class FloorScreen(Screen[None]):
    """A screen of the floor app. ``floor`` is the typed app."""

    @property
    def floor(self) -> FloorApp:
        """The app, typed."""
        from floor_app.ui.app import FloorApp

        return cast(FloorApp, self.app)

    def header(self) -> StatusHeader:
        """A fresh header for this screen."""
        return StatusHeader(self.floor.ctx, self.floor.tr, self.floor.user_name, self.floor.role)
