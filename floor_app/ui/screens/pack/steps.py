"""What the packer does next, from where the parcel is: the prompt, and in demo mode what
to type."""

from __future__ import annotations

from dataclasses import dataclass

from floor_app.domain.packing import PackState
from floor_app.services.packing import PackView
from floor_app.ui.i18n import Translator


@dataclass(frozen=True, slots=True)
class Step:
    """The prompt and the demo's hint; None leaves the one on screen as it is."""

    prompt: str | None
    demo: str | None


def next_step(view: PackView | None, tr: Translator) -> Step:
    """The step of ``view``'s parcel (scan a tote or order when there is none: the screen
    knows which totes wait here, for the demo's hint)."""
    if view is None:
        return Step(tr("packer.prompt"), None)
    session = view.session
    state = session.state
    label = view.label
    if state is PackState.VERIFYING:
        first = next(iter(session.missing), None)
        demo = tr("packer.demo_item", gtin=view.skus[first].gtin.lstrip("0")) if first else ""
        return Step(tr("packer.verify", left=sum(session.missing.values())), demo)
    if state is PackState.WEIGHING:
        carton = view.carton
        return Step(
            tr("packer.weigh", carton=carton.code if carton else "-"),
            tr("packer.demo_weight", weight=view.expected_weight_g),
        )
    if state is PackState.LABELLING:
        return Step(tr("packer.printing"), "")
    if state is PackState.CONFIRMING and label is not None:
        return Step(
            tr("packer.scan_label", tracking=label.tracking),
            tr("packer.demo_label", tracking=label.tracking),
        )
    return Step(None, None)
