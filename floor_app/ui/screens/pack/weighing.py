"""Carton and weight on the pack station: the parcel line, the scale, an override.

The parcel line shows the order, the carton (suggested, or the one scanned: ``CTN-…``) and
the expected weight with its tolerance. The scale is read in a worker (reads block) and
its weight comes back as :class:`ParcelWeight.Weighed`; a weight outside tolerance can be
accepted by a supervisor: their badge (:meth:`ParcelWeight.ask_badge`), then one of the
site's reasons (:meth:`ParcelWeight.ask_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.widgets import Static

from device_drivers.base import Scale
from device_drivers.weighing import ScaleError
from floor_app.services.packing import PackView, WeightMismatch
from floor_app.ui.i18n import Translator
from floor_app.ui.screens.pack_dialogs import BadgeScreen, ReasonScreen

#: Longer numbers typed while weighing are codes, not grams.
MAX_WEIGHT_DIGITS = 6


def weight_off(tr: Translator, exc: WeightMismatch) -> str:
    """What the packer reads when the weight is outside tolerance."""
    return tr(
        "packer.weight_off",
        weight=tr.grams(exc.weight_g),
        expected=tr.grams(exc.expected_g),
        tolerance=tr.grams(exc.tolerance_g),
    )


class ParcelWeight(Static):
    """The parcel line (order, carton, expected weight and tolerance); reads the scale."""

    @dataclass
    class Weighed(Message):
        """The scale gave a stable weight."""

        grams: int

    @dataclass
    class ScaleFailed(Message):
        """The scale could not be read; ``error`` says why."""

        error: str

    @dataclass
    class BadgeGiven(Message):
        """A badge was scanned to accept ``weight`` although it is outside tolerance."""

        weight: int
        badge: str

    @dataclass
    class OverrideGiven(Message):
        """The supervisor of ``badge`` accepts ``weight`` for the reason code ``reason``."""

        weight: int
        badge: str
        reason: str

    def __init__(self, tr: Translator) -> None:
        super().__init__("", id="parcel", classes="item")
        self.tr = tr

    def show(self, view: PackView | None) -> None:
        """Draw the parcel line of ``view`` (empty without a parcel)."""
        if view is None:
            self.update("")
            return
        carton = view.carton
        self.update(
            self.tr(
                "packer.parcel",
                order=view.order.order_id,
                carton=carton.code if carton else "-",
                expected=self.tr.grams(view.expected_weight_g),
                tolerance=self.tr.grams(view.tolerance_g),
            )
        )

    @work(thread=True, exclusive=True, group="scale")
    def read(self, scale: Scale) -> None:
        """Read a stable weight from ``scale`` (in a worker thread)."""
        try:
            grams = scale.read(stable=True, timeout=3.0).grams
        except ScaleError as exc:
            self.post_message(self.ScaleFailed(str(exc)))
            return
        self.post_message(self.Weighed(grams))

    def ask_badge(self, weight: int) -> None:
        """Ask for a supervisor's badge to accept ``weight`` (then :class:`BadgeGiven`)."""

        def badge(scanned: str | None) -> None:
            if scanned:
                self.post_message(self.BadgeGiven(weight, scanned))

        self.app.push_screen(
            BadgeScreen(self.tr("packer.override_prompt", weight=self.tr.grams(weight))), badge
        )

    def ask_reason(self, weight: int, badge: str, supervisor: str, codes: tuple[str, ...]) -> None:
        """Ask the supervisor why ``weight`` is accepted (then :class:`OverrideGiven`)."""
        texts = [self._reason(code) for code in codes]

        def chosen(text: str | None) -> None:
            if text:
                self.post_message(self.OverrideGiven(weight, badge, codes[texts.index(text)]))

        title = self.tr("packer.override_why", weight=self.tr.grams(weight), user=supervisor)
        self.app.push_screen(ReasonScreen(title, texts, dialog_id="override-reason"), chosen)

    def _reason(self, code: str) -> str:
        key = f"reason.accept_weight.{code}"
        text = self.tr(key)
        return code if text == key else text
