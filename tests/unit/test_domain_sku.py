"""SKUs: GTINs kept as GTIN-14, dimensions and weights checked, labels in two languages."""

import pytest

from floor_app.domain.errors import DomainError, InvalidBarcode
from floor_app.domain.sku import Dimensions, Sku

pytestmark = pytest.mark.unit


def make_sku(**kw: object) -> Sku:
    fields: dict[str, object] = {
        "sku": "SKU-00001",
        "gtin": "4006381333931",
        "description": "Red Mug",
        "dimensions": Dimensions(120, 90, 100),
        "weight_g": 350,
    }
    fields.update(kw)
    return Sku(**fields)  # type: ignore[arg-type]


def test_gtins_are_stored_as_gtin_14() -> None:
    sku = make_sku(extra_gtins=("96385074", "036000291452"))
    assert sku.gtin == "04006381333931"
    assert sku.extra_gtins == ("00000096385074", "00036000291452")


def test_matches_any_of_its_barcodes() -> None:
    sku = make_sku(extra_gtins=("96385074",))
    assert sku.matches("04006381333931")
    assert sku.matches("00000096385074")
    assert not sku.matches("09501101530003")
    assert not sku.matches("4006381333931")  # callers pass GTIN-14


@pytest.mark.parametrize("gtin", ["4006381333932", "ABC", "", "12345"])
def test_bad_gtin_is_refused(gtin: str) -> None:
    with pytest.raises(InvalidBarcode):
        make_sku(gtin=gtin)


def test_bad_extra_gtin_is_refused() -> None:
    with pytest.raises(InvalidBarcode, match="wrong check digit"):
        make_sku(extra_gtins=("96385075",))


def test_empty_sku_code_is_refused() -> None:
    with pytest.raises(DomainError, match="must not be empty"):
        make_sku(sku="")


def test_negative_weight_is_refused_zero_is_allowed() -> None:
    with pytest.raises(DomainError, match="SKU-00001: weight must not be negative, got -1"):
        make_sku(weight_g=-1)
    assert make_sku(weight_g=0).weight_g == 0


def test_dimensions_may_be_unknown() -> None:
    assert make_sku(dimensions=None).dimensions is None


@pytest.mark.parametrize(
    ("dims", "name"),
    [((0, 1, 1), "length_mm"), ((1, -5, 1), "width_mm"), ((1, 1, 0), "height_mm")],
)
def test_dimensions_must_be_positive(dims: tuple[int, int, int], name: str) -> None:
    with pytest.raises(DomainError, match=f"dimension {name} must be positive"):
        Dimensions(*dims)


def test_volume_and_sorted() -> None:
    dims = Dimensions(90, 120, 100)
    assert dims.volume_mm3 == 1_080_000
    assert dims.sorted() == (120, 100, 90)


def test_label_in_two_languages() -> None:
    sku = make_sku(description_zh="红色马克杯")
    assert sku.label() == "Red Mug"
    assert sku.label("en") == "Red Mug"
    assert sku.label("zh") == "红色马克杯"
    assert sku.label("de") == "Red Mug"


def test_chinese_label_falls_back_to_english() -> None:
    assert make_sku().label("zh") == "Red Mug"


def test_sku_is_immutable() -> None:
    sku = make_sku()
    with pytest.raises(AttributeError):
        sku.weight_g = 1  # type: ignore[misc]
