"""A parcel's documents: the packing slip of an order, printed at the pack station.

:meth:`DocumentService.print_packing_slip` reads the order as this station has it (its
lines packed or picked, and the lots and serial numbers the hub sent with it once it was
picked), the items' names and the label's tracking number, and hands the slip to the
station's document output (:class:`device_drivers.base.DocumentOutput`): printed on the
A4 printer, or kept as a PDF file the screen names.
"""

from __future__ import annotations

import datetime as dt

from device_drivers.base import DocumentError, DocumentOutput
from floor_app.domain.documents import PackingSlip, packing_slip
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.order import Address
from floor_app.store import Store

from .errors import reports_store_failures


@reports_store_failures
class DocumentService:
    """The pack station's documents (see the module docstring)."""

    def __init__(self, store: Store, output: DocumentOutput, sender: Address | None) -> None:
        self.store = store
        self.output = output
        self.sender = sender

    def slip(self, order_id: str, today: dt.date | None = None) -> PackingSlip:
        """The packing slip of ``order_id`` as this station knows the order."""
        with self.store.unit_of_work() as uow:
            try:
                order = uow.orders.get(order_id)
            except NotFound:
                raise DomainError(
                    f"order {order_id} is not on this station",
                    code="documents.unknown_order",
                    params={"order": order_id},
                ) from None
            names: dict[str, str] = {}
            for line in order.lines:
                try:
                    names[line.sku] = uow.catalogue.sku(line.sku).description
                except NotFound:
                    names[line.sku] = ""
            jobs = uow.packs.labels_for(order_id)
        sender = self.sender
        from_lines = (
            [sender.name, *sender.lines, f"{sender.postcode} {sender.city}", sender.country]
            if sender
            else []
        )
        tracking = next((j.tracking for j in reversed(jobs) if j.tracking), "")
        slip = packing_slip(
            order,
            names,
            sender=[p for p in from_lines if p.strip()],
            date=(today or dt.date.today()).isoformat(),
            tracking=tracking,
        )
        if not slip.lines:
            raise DomainError(
                f"nothing of order {order_id} is picked or packed yet: no slip to print",
                code="documents.nothing_packed",
                params={"order": order_id},
            )
        return slip

    def print_packing_slip(self, order_id: str) -> str:
        """Print the slip of ``order_id``; where it went. Raises :class:`DomainError` with
        the reason when it could not (the PDF kept when it was made)."""
        slip = self.slip(order_id)
        try:
            data = self.output.packing_slip(slip)
            return self.output.print_pdf(f"slip-{order_id}", data, f"Packing slip {order_id}")
        except DocumentError as exc:
            raise DomainError(
                f"the packing slip of {order_id} was not printed: {exc.reason}",
                code="documents.not_printed",
                params={"order": order_id, "reason": exc.reason[:200]},
            ) from exc
