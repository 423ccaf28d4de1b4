"""The returns desk (from the pack station, F5): receive a returned parcel by scans.

Scan the parcel's tracking number (or its order number); then, for each item: scan it,
grade it (1 resaleable, 2 damaged, 3 wrong item, typed into the scan field), put it where
the screen says (the SKU's pick face, or quarantine) and scan that location. Each unit is
recorded there and then (one ``return.received`` event, offline like picking). Esc drops
the item in hand, then closes the parcel, then goes back to the pack station.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from floor_app.domain.errors import DomainError
from floor_app.domain.sku import Sku
from floor_app.domain.stockwork import ReturnGrade
from floor_app.services.errors import ServiceError
from floor_app.services.returns import ReturnParcel, ReturnsService
from floor_app.ui.widgets.scan_input import ScanInput

from .base import FloorScreen

#: What is typed to grade the item in hand.
GRADES = {"1": ReturnGrade.RESALEABLE, "2": ReturnGrade.DAMAGED, "3": ReturnGrade.WRONG_ITEM}


class ReturnsScreen(FloorScreen):
    """One parcel at a time, one unit at a time (see the module docstring)."""

    BINDINGS = [
        Binding("escape", "back", "keys.back", id="returns.back"),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.parcel: ReturnParcel | None = None
        self.sku: Sku | None = None
        self.grade: ReturnGrade | None = None
        self.where: str | None = None

    @property
    def returns(self) -> ReturnsService:
        return self.floor.ctx.returns

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.tr("returns.title"), id="returns-title", classes="title")
        yield Static("", id="prompt", classes="prompt")
        table: DataTable[str] = DataTable(id="lines", cursor_type="none", show_cursor=False)
        yield table
        yield Static("", id="parcel", classes="item")
        if self.floor.ctx.demo:
            yield Static("", id="demo", classes="hint")
        yield ScanInput(id="scan", placeholder="TRK… / SO-100001")
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#lines", DataTable).add_columns(
            self.tr("packer.sku"), self.tr("packer.item"), self.tr("returns.count")
        )
        self.query_one("#scan", Input).focus()
        self.show_parcel()

    # -- drawing -----------------------------------------------------------------------------

    def show_parcel(self) -> None:
        """Draw the parcel and the step as they are now."""
        parcel = self.parcel
        table = self.query_one("#lines", DataTable)
        table.clear()
        prompt = self.query_one("#prompt", Static)
        info = self.query_one("#parcel", Static)
        if parcel is None:
            prompt.update(self.tr("returns.prompt"))
            info.update("")
            self._demo(self.tr("returns.demo_parcel", tracking=self._demo_tracking()))
            return
        lang = self.floor.tr.language
        shipped = parcel.shipped()
        for sku in sorted(set(shipped) | set(parcel.returned)):
            item = parcel.skus[sku].label(lang) if sku in parcel.skus else ""
            count = (
                f"{parcel.returned.get(sku, 0)}/{shipped[sku]}"
                if sku in shipped
                else str(parcel.returned.get(sku, 0))
            )
            table.add_row(sku, item, count, key=sku)
        info.update(
            self.tr(
                "returns.parcel" if parcel.checked else "returns.parcel_unchecked",
                order=parcel.order_ref,
                reference=parcel.reference,
                received=len(parcel.received),
            )
        )
        if self.sku is None:
            prompt.update(self.tr("returns.scan_item"))
            left = sorted(s for s, n in shipped.items() if parcel.returned.get(s, 0) < n)
            self._demo(
                self.tr("returns.demo_item", gtin=parcel.skus[left[0]].gtin.lstrip("0"))
                if left
                else ""
            )
        elif self.grade is None:
            prompt.update(self.tr("returns.grade", sku=self.sku.sku))
            self._demo(self.tr("returns.demo_grade"))
        else:
            key = "returns.put" if self.where else "returns.put_anywhere"
            prompt.update(
                self.tr(
                    key,
                    sku=self.sku.sku,
                    grade=self.tr(f"returns.grades.{self.grade.value}"),
                    location=self.where or "",
                )
            )
            self._demo(self.tr("returns.demo_location", location=self.where or "A01-01-1A"))

    def _demo(self, text: str) -> None:
        for demo in self.query("#demo").results(Static):
            demo.update(text)

    def _demo_tracking(self) -> str:
        return self.returns.demo_tracking()

    # -- scans -------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self.floor.ctx.activity.scanned(text)
            self.handle_scan(text)

    def handle_scan(self, text: str, source: str = "keyboard") -> None:
        """Whatever the step needs: a parcel, an item, a grade, the location."""
        try:
            if self.parcel is None:
                self._open(text)
            elif self.sku is None:
                self.sku = self.returns.item(self.parcel, text)
                self.show_message(self.tr("returns.item", sku=self.sku.sku))
            elif self.grade is None:
                self._grade(text)
            else:
                self._put(text)
        except (DomainError, ServiceError) as exc:
            self.flash_error(self.explain(exc))
            return
        self.show_parcel()

    def _open(self, text: str) -> None:
        self.parcel = self.returns.open(text)
        if self.parcel.checked:
            self.show_message(self.tr("returns.opened", order=self.parcel.order_ref))
        else:
            self.show_message(
                self.tr("returns.not_here", reference=self.parcel.reference), error=True
            )

    def _grade(self, text: str) -> None:
        grade = GRADES.get(text)
        if grade is None or self.sku is None:
            raise DomainError(self.tr("returns.bad_grade", text=text))
        self.grade = grade
        self.where = self.returns.suggest(self.sku.sku, grade)
        self.show_message(self.tr(f"returns.grades.{grade.value}"))

    def _put(self, text: str) -> None:
        assert self.parcel is not None and self.sku is not None and self.grade is not None
        self.returns.put(self.parcel, self.sku.sku, self.grade, text, self.floor.user_id)
        grade = self.tr(f"returns.grades.{self.grade.value}")
        self.show_message(self.tr("returns.received", sku=self.sku.sku, grade=grade, location=text))
        self.sku, self.grade, self.where = None, None, None

    # -- leaving -----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Drop the item in hand; else close the parcel; else back to the pack station."""
        if self.sku is not None:
            self.show_message(self.tr("returns.dropped", sku=self.sku.sku))
            self.sku, self.grade, self.where = None, None, None
        elif self.parcel is not None:
            parcel = self.parcel
            self.parcel = None
            self.show_message(
                self.trn("returns.closed", len(parcel.received), order=parcel.order_ref)
            )
        else:
            self.app.pop_screen()
            return
        self.show_parcel()
