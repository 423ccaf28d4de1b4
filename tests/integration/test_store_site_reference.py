"""A version of the site's reference data applied to a real device store: items with every
barcode and its pack quantity, a barcode moving to another item, removals, and the version
taken only once its last part is in."""

from __future__ import annotations

from pathlib import Path

import pytest

from floor_app.domain.errors import NotFound
from floor_app.store import Store
from sync.device import PushApplier
from sync.protocol import (
    CartonModel,
    ItemBarcodeModel,
    ItemModel,
    LocationModel,
    PushMessage,
    SiteReference,
)

pytestmark = pytest.mark.integration


def item(sku: str, unit: str, *cases: tuple[str, int], name: str = "Tea") -> ItemModel:
    barcodes = [ItemBarcodeModel(gtin=unit, pack_qty=1)]
    barcodes += [ItemBarcodeModel(gtin=g, pack_qty=q) for g, q in cases]
    return ItemModel(
        sku=sku, gtin=unit, description=name, weight_g=250, lot_tracked=True, barcodes=barcodes
    )


def place(code: str) -> LocationModel:
    return LocationModel(
        code=code,
        zone="A",
        aisle=1,
        bay=1,
        level=1,
        bin="A",
        x=1.5,
        y=2.0,
        kind="pick",
        side="left",
    )


def pack_qty(store: Store, gtin: str) -> tuple[str, int]:
    from sqlalchemy import select

    from floor_app.store.tables import BarcodeRow

    with store.read() as session:
        row = session.scalar(select(BarcodeRow).where(BarcodeRow.gtin == gtin))
        assert row is not None
        return row.sku, row.pack_qty


def test_a_version_in_two_parts_then_a_change_and_a_removal(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "hh.db", device_id="hh-01", site="dc1")
    applier = PushApplier(store)
    tea = item("TEA-1", "05060321000108", ("15060321000105", 12))
    mug = item("MUG-1", "05060321000207", name="Mug")
    parts = [
        SiteReference(version=1, part=1, parts=2, items=[tea, mug]),
        SiteReference(
            version=1,
            part=2,
            parts=2,
            locations=[place("A01-01-1A")],
            cartons=[
                CartonModel(
                    code="BOX-S",
                    length_mm=200,
                    width_mm=150,
                    height_mm=90,
                    tare_g=100,
                    max_weight_g=5000,
                )
            ],
        ),
    ]
    assert applier.apply(PushMessage(device_id="hh-01", cursor=1, item=parts[0])).applied
    assert store.meta("site_version") is None  # not until its last part
    assert applier.apply(PushMessage(device_id="hh-01", cursor=2, item=parts[1])).applied
    assert store.meta("site_version") == "1"
    with store.unit_of_work() as uow:
        assert uow.catalogue.sku_by_gtin("15060321000105").sku == "TEA-1"
        assert uow.catalogue.location("A01-01-1A").x == 1.5
        assert [c.code for c in uow.catalogue.cartons()] == ["BOX-S"]
    assert pack_qty(store, "15060321000105") == ("TEA-1", 12)
    # version 2: the case barcode moves to the mug (a fix of the item master), the tea goes
    moved = item("MUG-1", "05060321000207", ("15060321000105", 6), name="Mug")
    change = SiteReference(
        version=2, items=[moved], removed_items=["TEA-1"], removed_cartons=["BOX-S"]
    )
    assert applier.apply(PushMessage(device_id="hh-01", cursor=3, item=change)).applied
    assert store.meta("site_version") == "2"
    assert pack_qty(store, "15060321000105") == ("MUG-1", 6)
    with store.unit_of_work() as uow:
        with pytest.raises(NotFound):
            uow.catalogue.sku("TEA-1")
        with pytest.raises(NotFound):
            uow.catalogue.sku_by_gtin("05060321000108")
        assert uow.catalogue.cartons() == []
    store.close()
