"""The parcel's lines on the pack station: each item with how many units were verified.

A tote or order scanned opens the parcel; each item scan verifies one unit (the screen
calls :class:`~floor_app.services.packing.PackingService`). F4 holds the parcel: the packer
chooses why (:meth:`ParcelLines.ask_hold`) and the missing items are added to the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import DataTable

from floor_app.services.packing import PackView
from floor_app.ui.i18n import Translator
from floor_app.ui.screens.pack_dialogs import ReasonScreen


class ParcelLines(DataTable[str]):
    """SKU, description and units verified of each line (✓ once all are)."""

    @dataclass
    class HoldAsked(Message):
        """The packer chose why the parcel is held; ``reason`` names the missing items."""

        reason: str

    def __init__(self, tr: Translator) -> None:
        super().__init__(id="lines", cursor_type="none", show_cursor=False)
        self.tr = tr
        self.add_columns(tr("packer.sku"), tr("packer.item"), tr("packer.count"))

    def show(self, view: PackView | None) -> None:
        """Draw the lines of ``view`` (none without a parcel)."""
        self.clear()
        if view is None:
            return
        language = self.tr.language
        session = view.session
        for sku, qty in session.expected.items():
            have = session.verified.get(sku, 0)
            mark = "✓" if have >= qty else " "
            self.add_row(sku, view.skus[sku].label(language), f"{mark} {have}/{qty}", key=sku)

    def ask_hold(self, view: PackView) -> None:
        """Ask why ``view``'s parcel is held (then :class:`HoldAsked`)."""
        missing = ", ".join(f"{q}x {s}" for s, q in view.session.missing.items())

        def chosen(text: str | None) -> None:
            if text:
                self.post_message(self.HoldAsked(f"{text}: {missing}" if missing else text))

        self.app.push_screen(
            ReasonScreen(self.tr("packer.hold_title"), self.tr("hold.reasons").split("|")),
            chosen,
        )
