"""One row of each site file as a pydantic model whose fields are the file's columns.

Each model checks what one row can tell on its own (formats, ranges, check digits, dates);
what needs other rows or other files (duplicates, a stock row's location, a barcode's
item) is checked by :mod:`hub.site_files.check`. Empty cells of optional columns are None
or their default.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from floor_app.domain.codes import BADGE_RE, CART_RE, LOCATION_RE, SPECIAL_LOCATION_RE, TOTE_RE
from floor_app.domain.errors import DomainError
from floor_app.domain.gtin import normalise_gtin
from floor_app.domain.location import LocationKind
from floor_app.domain.users import Role

#: Most units of one stock row, pack quantity, weight in grams: as the events allow.
MAX_QTY = 1_000_000
MAX_WEIGHT_G = 2_000_000
MAX_MM = 10_000
#: GS1 lots (AI 10) and serials (AI 21) are at most 20 characters.
MAX_LOT = 20
MAX_SERIAL = 20
LANGUAGES = ("en", "zh")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_GS1_TEXT = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")  # GS1 AI encodable set 82


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _blank_default(default: Any) -> BeforeValidator:
    return BeforeValidator(lambda v: default if isinstance(v, str) and not v.strip() else v)


def _yes_no(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("", "no", "n", "false", "0"):
            return False
        if word in ("yes", "y", "true", "1"):
            return True
        raise ValueError(f"{value!r} is not yes or no")
    return value


OptInt = Annotated[int | None, BeforeValidator(_blank_none)]


#: Optional numbers within their range (an empty cell is None).
MM = Annotated[Annotated[int, Field(ge=1, le=MAX_MM)] | None, BeforeValidator(_blank_none)]
METRES = Annotated[
    Annotated[float, Field(ge=-10_000, le=10_000)] | None, BeforeValidator(_blank_none)
]
DAYS = Annotated[Annotated[int, Field(ge=1, le=36_500)] | None, BeforeValidator(_blank_none)]
PLACE = Annotated[Annotated[int, Field(ge=1, le=1_000)] | None, BeforeValidator(_blank_none)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]


class SiteRow(BaseModel):
    """A row: text cells, no extra columns (the header check names unknown ones)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _code(value: str, what: str) -> str:
    if not _CODE.match(value):
        raise ValueError(f"{what} {value!r}: letters, digits and . _ / - only, no spaces")
    return value


class ItemRow(SiteRow):
    """``items.csv``: one SKU."""

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    name_zh: str = Field(default="", max_length=200)
    length_mm: MM = None
    width_mm: MM = None
    height_mm: MM = None
    weight_g: int = Field(ge=0, le=MAX_WEIGHT_G)
    lot_tracked: YesNo = False
    serial_tracked: YesNo = False
    shelf_life_days: DAYS = None

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        return _code(value, "SKU")

    def dimensions(self) -> tuple[int, int, int] | None:
        dims = (self.length_mm, self.width_mm, self.height_mm)
        return None if None in dims else (dims[0] or 0, dims[1] or 0, dims[2] or 0)

    def incomplete_dimensions(self) -> bool:
        dims = (self.length_mm, self.width_mm, self.height_mm)
        return any(d is None for d in dims) and any(d is not None for d in dims)


class BarcodeRow(SiteRow):
    """``barcodes.csv``: a barcode of an item and the units it stands for."""

    barcode: str
    sku: str = Field(min_length=1, max_length=64)
    pack_qty: Annotated[int, _blank_default(1), Field(ge=1, le=MAX_QTY)] = 1

    @field_validator("barcode")
    @classmethod
    def _gtin(cls, value: str) -> str:
        try:
            return normalise_gtin(value)
        except DomainError as exc:
            raise ValueError(exc.reason) from None


class LocationRow(SiteRow):
    """``locations.csv``: a storage or station location."""

    code: str = Field(min_length=1, max_length=32)
    type: LocationKind
    zone: str = Field(default="", max_length=8)
    aisle: OptInt = None
    bay: OptInt = None
    level: OptInt = None
    x_m: METRES = None
    y_m: METRES = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if LOCATION_RE.match(value) or SPECIAL_LOCATION_RE.match(value):
            return value
        raise ValueError(
            f"{value!r} is not a location code: racks look like A03-12-2A "
            "(zone, aisle-bay-level, bin), stations like PACK-01, STAGE-01, DOCK-01, "
            "QUAR-01 or RET-01"
        )

    @property
    def rack(self) -> bool:
        return LOCATION_RE.match(self.code) is not None


def _roles(value: Any) -> Any:
    if isinstance(value, str):
        return list(dict.fromkeys(r for r in re.split(r"[\s;|,]+", value.strip().lower()) if r))
    return value


class UserRow(SiteRow):
    """``users.csv``: a person on the floor. ``pin`` is hashed on load and never stored;
    ``pin_hash`` (what an export writes) is taken as it is."""

    user_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    badge: str
    roles: Annotated[list[Role], BeforeValidator(_roles), Field(min_length=1)]
    language: str = ""
    pin: str = ""
    pin_hash: str = Field(default="", max_length=128)
    active: Annotated[YesNo, _blank_default(True)] = True

    @field_validator("user_id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _code(value, "user id")

    @field_validator("badge")
    @classmethod
    def _badge(cls, value: str) -> str:
        if not BADGE_RE.match(value):
            raise ValueError(f"{value!r} is not a badge: B and 4 to 8 digits, e.g. B1001")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and value not in LANGUAGES:
            raise ValueError(f"{value!r} is not a language of the app ({', '.join(LANGUAGES)})")
        return value

    @field_validator("pin")
    @classmethod
    def _pin(cls, value: str) -> str:
        if value and not (value.isascii() and value.isdigit() and 4 <= len(value) <= 8):
            raise ValueError("a PIN is 4 to 8 digits")
        return value

    @field_validator("pin_hash")
    @classmethod
    def _pin_hash(cls, value: str) -> str:
        legacy = len(value) == 64 and all(c in "0123456789abcdef" for c in value)
        if value and not value.startswith("$argon2") and not legacy:
            raise ValueError("not a PIN hash; give the PIN in the pin column instead")
        return value


class ToteRow(SiteRow):
    """``totes.csv``: a tote, and the cart it stands on (with its place, 1 = first)."""

    tote: str
    cart: str = ""
    position: PLACE = None

    @field_validator("tote")
    @classmethod
    def _tote(cls, value: str) -> str:
        if not TOTE_RE.match(value):
            raise ValueError(f"{value!r} is not a tote code: T and 4 digits, e.g. T0001")
        return value

    @field_validator("cart")
    @classmethod
    def _cart(cls, value: str) -> str:
        if value and not CART_RE.match(value):
            raise ValueError(f"{value!r} is not a cart code: CART- and 2 to 4 digits")
        return value


class CartonRow(SiteRow):
    """``cartons.csv``: a carton type (inner dimensions)."""

    code: str = Field(min_length=1, max_length=16)
    length_mm: int = Field(ge=1, le=MAX_MM)
    width_mm: int = Field(ge=1, le=MAX_MM)
    height_mm: int = Field(ge=1, le=MAX_MM)
    tare_g: int = Field(ge=0, le=MAX_WEIGHT_G)
    max_weight_g: int = Field(ge=1, le=MAX_WEIGHT_G)
    cost: Annotated[float, _blank_default(0.0), Field(ge=0, le=1_000_000)] = 0.0

    @field_validator("code")
    @classmethod
    def _carton(cls, value: str) -> str:
        return _code(value, "carton")


class FaceRow(SiteRow):
    """``pick_faces.csv``: a pick face and its refill levels."""

    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    min: int = Field(ge=0, le=MAX_QTY)
    max: int = Field(ge=1, le=MAX_QTY)


def _serials(value: Any) -> Any:
    if isinstance(value, str):
        return [s for s in re.split(r"[\s;|]+", value.strip()) if s]
    return value


def _lot(value: str) -> str:
    if value and not _GS1_TEXT.match(value):
        raise ValueError(f"lot {value!r}: only the characters a GS1 barcode can carry")
    return value


def _expiry(value: str) -> str:
    if not value:
        return value
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date as YYYY-MM-DD") from None
    if len(value) != 10:
        raise ValueError(f"{value!r} is not a date as YYYY-MM-DD")
    return day.isoformat()


#: A GS1 lot (AI 10) and a best-before date as YYYY-MM-DD; either may be empty.
Lot = Annotated[str, Field(max_length=MAX_LOT), AfterValidator(_lot)]
Expiry = Annotated[str, AfterValidator(_expiry)]


class StockRow(SiteRow):
    """``stock.csv``: opening stock of a SKU at a location (one lot per location and SKU)."""

    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=0, le=MAX_QTY)
    lot: Lot = ""
    expiry: Expiry = ""
    serials: Annotated[list[str], BeforeValidator(_serials)] = Field(default_factory=list)

    @field_validator("serials")
    @classmethod
    def _serial_list(cls, value: list[str]) -> list[str]:
        for serial in value:
            if len(serial) > MAX_SERIAL or not _GS1_TEXT.match(serial):
                raise ValueError(
                    f"serial {serial!r}: at most {MAX_SERIAL} characters a GS1 barcode can carry"
                )
        return value
