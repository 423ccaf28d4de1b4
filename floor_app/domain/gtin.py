"""GTIN-8/12/13/14: check digits, validation and the normalised 14-digit form."""

from __future__ import annotations

from .errors import InvalidBarcode

GTIN_LENGTHS = (8, 12, 13, 14)


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more of the digits 0-9 (``str.isdigit`` also accepts
    superscripts, full-width and other scripts' digits, which no barcode carries)."""
    return text.isascii() and text.isdigit()


def gs1_check_digit(payload: str) -> int:
    """Return the GS1 mod-10 check digit for ``payload`` (all digits, without the check digit).

    Weights alternate 3, 1, 3 ... starting from the rightmost payload digit, as for GTIN,
    SSCC and GLN.
    """
    if not is_ascii_digits(payload):
        raise InvalidBarcode(f"{payload!r} is not all digits")
    total = 0
    for i, ch in enumerate(reversed(payload)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def validate_gtin(code: str) -> str:
    """Validate a GTIN-8, -12, -13 or -14 and return it unchanged.

    Raises :class:`InvalidBarcode` naming what is wrong: characters, length or check digit.
    """
    code = code.strip()
    if not is_ascii_digits(code):
        raise InvalidBarcode(
            f"GTIN {code!r} must contain digits 0-9 only",
            code="gtin.not_digits",
            params={"code": code},
        )
    if len(code) not in GTIN_LENGTHS:
        raise InvalidBarcode(
            f"GTIN {code!r} has {len(code)} digits; expected 8, 12, 13 or 14",
            code="gtin.length",
            params={"code": code, "digits": len(code)},
        )
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise InvalidBarcode(
            f"GTIN {code} has a wrong check digit: expected {expected}, got {code[-1]}",
            hint="scan again or type the code from the label",
            code="gtin.check_digit",
            params={"code": code, "expected": expected, "got": code[-1]},
        )
    return code


def normalise_gtin(code: str) -> str:
    """Validate ``code`` and return it as GTIN-14 (left-padded with zeros)."""
    return validate_gtin(code).zfill(14)


def with_check_digit(payload: str) -> str:
    """Append the check digit to ``payload`` (used by demo data and tests)."""
    return payload + str(gs1_check_digit(payload))
