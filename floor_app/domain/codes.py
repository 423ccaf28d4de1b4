"""What a scanned code means on the floor.

:func:`classify` turns the text of one scan (with or without an AIM symbology identifier)
into exactly one kind of code: a product (GTIN, possibly with GS1 lot, expiry, serial,
quantity or weight), a logistic unit (SSCC), a location, a tote, a cart of totes, a badge,
an order or a carton type. Anything else is an :class:`InvalidBarcode` with a reason; a
scan never silently means nothing.

GS1 element strings are parsed by biip. Keyboard-wedge scanners lose the group separator
(ASCII 29); a code whose variable-length field swallowed the next AI is reported, not
guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from types import ModuleType
from typing import Any

from .errors import InvalidBarcode
from .gtin import is_ascii_digits, normalise_gtin, validate_gtin
from .symbology import Symbology, split_aim

GS = "\x1d"


@cache
def _biip() -> tuple[ModuleType, Any]:
    """biip and its parse config, imported on the first GS1 scan (its tables take ~70 ms
    to load, which start-up should not pay)."""
    import biip

    return biip, biip.ParseConfig(separator_chars=[GS])


LOCATION_RE = re.compile(
    r"^(?P<zone>[A-Z])(?P<aisle>\d{2})-(?P<bay>\d{2})-(?P<level>\d)(?P<bin>[A-Z])$"
)
SPECIAL_LOCATION_RE = re.compile(r"^(?:PACK|STAGE|DOCK|QUAR|RET)-\d{2}$")
TOTE_RE = re.compile(r"^T\d{4}$")
CART_RE = re.compile(r"^CART-\d{2,4}$")
BADGE_RE = re.compile(r"^B\d{4,8}$")
ORDER_RE = re.compile(r"^SO-?\d{4,10}$")
CARTON_RE = re.compile(r"^CTN-[A-Z0-9]{1,8}$")
TRACKING_RE = re.compile(r"^1Z[0-9A-Z]{16}$|^TRK\d{10,20}$")


class CodeKind(StrEnum):
    """The kinds of code the floor knows."""

    PRODUCT = "product"
    SSCC = "sscc"
    LOCATION = "location"
    TOTE = "tote"
    CART = "cart"
    BADGE = "badge"
    ORDER = "order"
    CARTON = "carton"
    TRACKING = "tracking"


@dataclass(frozen=True, slots=True)
class ScannedCode:
    """One classified scan. ``value`` is the key the floor looks things up by.

    For a product it is the GTIN-14; for a location, tote, badge, order or carton the code
    as printed; for an SSCC its 18 digits. GS1 extras are filled where the symbol had them.
    """

    kind: CodeKind
    value: str
    raw: str
    symbology: Symbology = Symbology.UNKNOWN
    batch: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    serial: str | None = None
    count: int | None = None
    net_weight_kg: Decimal | None = None
    ais: dict[str, str] = field(default_factory=dict)


def _symbology_for_plain(text: str) -> Symbology:
    if is_ascii_digits(text):
        return {8: Symbology.EAN8, 12: Symbology.UPCA, 13: Symbology.EAN13}.get(
            len(text), Symbology.CODE128
        )
    return Symbology.CODE128


def parse_gs1(
    element_string: str, symbology: Symbology = Symbology.GS1_128, raw: str | None = None
) -> ScannedCode:
    """Parse a GS1 element string (no AIM prefix; ``\\x1d`` separates variable fields).

    Returns a PRODUCT code when AI 01 or 02 is present, an SSCC code for AI 00.
    """
    raw = element_string if raw is None else raw
    text = element_string.lstrip(GS)
    if not text.isascii():
        raise InvalidBarcode(
            f"not a valid GS1 element string: {text!r} has characters outside ASCII",
            hint="GS1 codes carry only plain letters, digits and punctuation; rescan",
            code="scan.gs1_not_ascii",
        )
    biip, config = _biip()
    try:
        message = biip.gs1_messages.GS1Message.parse(text, config=config)
    except biip.ParseError as exc:
        raise InvalidBarcode(
            f"not a valid GS1 element string: {exc}",
            hint="the scanner may have dropped a group separator; rescan",
            code="scan.gs1_invalid",
        ) from exc
    ais: dict[str, str] = {}
    fields: dict[str, object] = {}
    for es in message.element_strings:
        ai = es.ai.ai
        if not es.value:  # biip lets AI (30) through empty
            raise InvalidBarcode(
                f"GS1 code has AI ({ai}) without data",
                hint="the scanner may have cut the code short; rescan",
                code="scan.gs1_empty_ai",
                params={"ai": ai},
            )
        if ais.get(ai, es.value) != es.value:
            raise InvalidBarcode(
                f"GS1 code has AI ({ai}) twice with different values: {ais[ai]!r} and {es.value!r}",
                hint="the label is faulty; check it",
                code="scan.gs1_ai_twice",
                params={"ai": ai},
            )
        ais[ai] = es.value
        if ai == "00" and es.sscc is None:
            raise InvalidBarcode(
                f"SSCC {es.value} is invalid: {es.sscc_error}",
                code="scan.sscc_invalid",
                params={"code": es.value},
            )
        if ai in ("01", "02") and es.gtin is None:
            raise InvalidBarcode(
                f"GTIN {es.value} is invalid: {es.gtin_error}",
                code="scan.gtin_invalid",
                params={"code": es.value},
            )
        if ai == "10":
            fields["batch"] = es.value
        elif ai == "17":
            fields["expiry"] = es.date
        elif ai == "15":
            fields["best_before"] = es.date
        elif ai == "21":
            fields["serial"] = es.value
        elif ai in ("30", "37"):
            fields["count"] = int(es.value)
        elif ai.startswith("310") and es.decimal is not None:
            fields["net_weight_kg"] = es.decimal
    if GS not in text and message.element_strings:
        _refuse_swallowed_ai(message.element_strings[-1], ais)
    if "00" in ais:
        return ScannedCode(CodeKind.SSCC, ais["00"], raw, symbology, ais=ais)
    gtin = ais.get("01") or ais.get("02")
    if gtin is None:
        raise InvalidBarcode(
            f"GS1 code carries no GTIN (AI 01/02) or SSCC (AI 00): AIs {sorted(ais)}",
            code="scan.gs1_no_gtin",
        )
    return ScannedCode(
        CodeKind.PRODUCT,
        normalise_gtin(gtin),
        raw,
        symbology,
        ais=ais,
        **fields,  # type: ignore[arg-type]
    )


#: Dates and weights (AI and its length with data) that a variable-length field can swallow
#: when a keyboard wedge drops the group separator after it: the expiry lost in a lot number.
_SWALLOWABLE_AIS: dict[str, int] = {
    "11": 8,
    "15": 8,
    "17": 8,
    **{f"310{d}": 10 for d in range(6)},
}


def _refuse_swallowed_ai(last: Any, ais: dict[str, str]) -> None:
    """Refuse a scan without group separators whose last, variable-length field ends with a
    complete, valid date or weight the code does not carry otherwise (``10ABC123`` +
    ``17261231``): the scan cannot say whether that tail is part of the lot or serial or a
    field of its own, and guessing could lose an expiry date."""
    if not last.ai.separator_required:
        return
    biip, config = _biip()
    value: str = last.value
    for ai, length in _SWALLOWABLE_AIS.items():
        tail = value[-length:]
        if ai in ais or len(value) <= length or not tail.startswith(ai):
            continue
        try:
            (es,) = biip.gs1_messages.GS1Message.parse(tail, config=config).element_strings
        except (biip.ParseError, ValueError):
            continue
        if es.date is not None or es.decimal is not None:
            raise InvalidBarcode(
                f"GS1 code is ambiguous: {last.ai.data_title} {value!r} ends with "
                f"({ai}) {tail[len(ai) :]}; the scanner seems to have dropped a group separator",
                hint="set the scanner to send group separators (FNC1 as ASCII 29), "
                "or type the item's GTIN",
                code="scan.gs1_ambiguous",
            )


def classify(text: str) -> ScannedCode:
    """Classify one scan. Raises :class:`InvalidBarcode` with the reason when it means nothing.

    Accepts an AIM identifier prefix; GS1 symbols (``]C1``, ``]d2``, ``]Q3``, ``]e0``) are
    parsed as element strings, all-digit codes of GTIN length as GTINs (check digit
    enforced), everything else by the floor's own code patterns.
    """
    raw = text
    aim, body = split_aim(text.strip("\r\n\t "))
    if not body:
        raise InvalidBarcode("empty scan", hint="scan again", code="scan.empty")
    if any(ord(c) < 32 and c != GS for c in body) or "\x7f" in body:
        raise InvalidBarcode(
            f"scan contains control characters: {body!r}",
            hint="scan again",
            code="scan.control_chars",
        )
    symbology = aim.symbology if aim else _symbology_for_plain(body)
    if symbology.is_gs1 or body.startswith(GS):
        return parse_gs1(body, symbology, raw)
    if is_ascii_digits(body):
        if len(body) in (8, 12, 13, 14):
            return ScannedCode(CodeKind.PRODUCT, normalise_gtin(body), raw, symbology)
        if len(body) == 18:
            return _sscc(body, raw, symbology)
        if len(body) > 14 and body[:2] in ("01", "02", "00"):
            # A GS1 string scanned without its symbology identifier.
            return parse_gs1(body, Symbology.GS1_128, raw)
        raise InvalidBarcode(
            f"{body} has {len(body)} digits: not a GTIN (8, 12, 13 or 14) or SSCC (18)",
            code="scan.digits_length",
            params={"code": body, "digits": len(body)},
        )
    upper = body.upper()
    for kind, pattern in (
        (CodeKind.LOCATION, LOCATION_RE),
        (CodeKind.LOCATION, SPECIAL_LOCATION_RE),
        (CodeKind.TOTE, TOTE_RE),
        (CodeKind.CART, CART_RE),
        (CodeKind.BADGE, BADGE_RE),
        (CodeKind.ORDER, ORDER_RE),
        (CodeKind.CARTON, CARTON_RE),
        (CodeKind.TRACKING, TRACKING_RE),
    ):
        if pattern.match(upper):
            value = (
                upper.replace("SO", "SO-", 1)
                if kind is CodeKind.ORDER and "-" not in upper
                else upper
            )
            return ScannedCode(kind, value, raw, symbology)
    raise InvalidBarcode(
        f"unknown code {body!r}",
        hint="this is not a floor barcode; check the label",
        code="scan.unknown_code",
        params={"code": body},
    )


def _sscc(body: str, raw: str, symbology: Symbology) -> ScannedCode:
    biip, config = _biip()
    result = biip.parse(body, config=config)
    if result.sscc is None:
        raise InvalidBarcode(
            f"SSCC {body} is invalid: {result.sscc_error}",
            code="scan.sscc_invalid",
            params={"code": body},
        )
    return ScannedCode(CodeKind.SSCC, body, raw, symbology, ais={"00": body})


def is_valid_gtin(code: str) -> bool:
    """True when ``code`` is a GTIN with a correct check digit."""
    try:
        validate_gtin(code)
    except InvalidBarcode:
        return False
    return True
