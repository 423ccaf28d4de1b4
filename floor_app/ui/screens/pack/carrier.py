"""The carrier service on the pack station: the hub's choice with its cost (in the carrier
rules' currency) and why, and changing it (F3) to another service quoted as fitting, each
shown with its cost and the difference, with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Static

from floor_app.domain.carriers import CarrierChoice, Quote
from floor_app.services.packing import PackView
from floor_app.ui.i18n import Translator
from floor_app.ui.screens.pack_dialogs import ReasonScreen


class CarrierLine(Static):
    """One line: the service the parcel ships with, its cost and why it was chosen."""

    @dataclass
    class Chosen(Message):
        """The packer chose another service, and why."""

        carrier: str
        service: str
        reason: str

    def __init__(self, tr: Translator) -> None:
        super().__init__("", id="carrier", classes="hint")
        self.tr = tr

    def show(self, view: PackView | None) -> None:
        """The service of ``view``'s order (nothing without a parcel or a carrier)."""
        if view is None or not view.order.carrier:
            self.update("")
            return
        order = view.order
        choice = order.carrier_choice
        name = f"{order.carrier} {order.service}".strip()
        if choice is None:
            self.update(self.tr("packer.carrier", name=name))
            return
        cost = self.tr.money(choice.cost, choice.currency) if choice.cost is not None else "-"
        self.update(self.tr("packer.carrier_why", name=name, cost=cost, why=choice.rule))

    def choose(self, choice: CarrierChoice, options: tuple[Quote, ...]) -> None:
        """Ask which of ``options`` and why (then :class:`Chosen`): each with its cost in the
        rules' currency and what it costs more or less than ``choice``, the current one."""
        tr = self.tr
        labels = [
            tr(
                "packer.carrier_option",
                name=q.name,
                cost=tr.money(q.cost, choice.currency) if q.cost is not None else "-",
                change=_change(choice, q),
                days=q.transit_days if q.transit_days is not None else "?",
                late=tr("packer.late") if q.late else "",
            ).strip()
            for q in options
        ]

        def chosen(text: str | None) -> None:
            if not text:
                return
            quote = options[labels.index(text)]

            def reasoned(reason: str | None) -> None:
                if reason:
                    self.post_message(self.Chosen(quote.carrier, quote.service, reason))

            self.app.push_screen(
                ReasonScreen(
                    tr("packer.carrier_reason_title", name=quote.name),
                    tr("carrier.reasons").split("|"),
                ),
                reasoned,
            )

        self.app.push_screen(
            ReasonScreen(tr("packer.carrier_title"), labels, dialog_id="carrier-choice"),
            chosen,
        )


def _change(choice: CarrierChoice, quote: Quote) -> str:
    """What ``quote`` costs more (+) or less (-) than ``choice``; "" when either is unknown."""
    if choice.cost is None or quote.cost is None:
        return ""
    return f"({quote.cost - choice.cost:+.2f})"
