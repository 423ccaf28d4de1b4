"""German (QWERTZ) layout: Y/Z swapped, shifted digits, umlauts, AltGr and dead keys."""

from __future__ import annotations

import pytest

from device_drivers.keymaps import (
    GS,
    KEY_102ND,
    KEY_APOSTROPHE,
    KEY_EQUAL,
    KEY_GRAVE,
    KEY_LEFTBRACE,
    KEY_LEFTCTRL,
    KEY_LEFTSHIFT,
    KEY_MINUS,
    KEY_RIGHTALT,
    KEY_RIGHTBRACE,
    KEY_SEMICOLON,
    KEY_SLASH,
    KEY_SPACE,
    KeyDecoder,
    type_text,
)

pytestmark = pytest.mark.unit

KEY_Q, KEY_E, KEY_Y, KEY_Z = 16, 18, 21, 44
KEY_2, KEY_3, KEY_7, KEY_8, KEY_0 = 3, 4, 8, 9, 11


def tap(decoder: KeyDecoder, code: int) -> str:
    return decoder.feed(code, 1) + decoder.feed(code, 0)


def shifted(decoder: KeyDecoder, code: int) -> str:
    decoder.feed(KEY_LEFTSHIFT, 1)
    out = tap(decoder, code)
    decoder.feed(KEY_LEFTSHIFT, 0)
    return out


def altgr(decoder: KeyDecoder, code: int) -> str:
    decoder.feed(KEY_RIGHTALT, 1)
    out = tap(decoder, code)
    decoder.feed(KEY_RIGHTALT, 0)
    return out


def test_y_and_z_are_swapped() -> None:
    d = KeyDecoder("de")
    assert tap(d, KEY_Y) == "z" and tap(d, KEY_Z) == "y"
    assert shifted(d, KEY_Y) == "Z"


def test_shifted_digits_differ_from_us() -> None:
    d = KeyDecoder("de")
    assert shifted(d, KEY_2) == '"' and shifted(d, KEY_3) == "§"
    assert shifted(d, KEY_7) == "/" and shifted(d, KEY_0) == "="
    assert KeyDecoder("us").feed(KEY_7, 1) == "7"


def test_umlauts_sharp_s_and_punctuation() -> None:
    d = KeyDecoder("de")
    assert tap(d, KEY_LEFTBRACE) == "ü" and shifted(d, KEY_LEFTBRACE) == "Ü"
    assert tap(d, KEY_SEMICOLON) == "ö" and tap(d, KEY_APOSTROPHE) == "ä"
    assert tap(d, KEY_MINUS) == "ß" and shifted(d, KEY_MINUS) == "?"
    assert tap(d, KEY_SLASH) == "-" and shifted(d, KEY_SLASH) == "_"
    assert tap(d, KEY_RIGHTBRACE) == "+" and tap(d, KEY_102ND) == "<"


def test_altgr_characters() -> None:
    d = KeyDecoder("de")
    assert altgr(d, KEY_Q) == "@" and altgr(d, KEY_E) == "€"
    assert altgr(d, KEY_7) == "{" and altgr(d, KEY_8) == "["
    assert altgr(d, KEY_MINUS) == "\\" and altgr(d, KEY_102ND) == "|"


def test_dead_keys_compose_or_stand_alone() -> None:
    d = KeyDecoder("de")
    assert tap(d, KEY_GRAVE) == ""  # dead: waits for the next key
    assert tap(d, KEY_E) == "ê"
    assert tap(d, KEY_EQUAL) == "" and tap(d, KEY_E) == "é"
    assert tap(d, KEY_GRAVE) == "" and tap(d, KEY_SPACE) == "^"
    assert tap(d, KEY_EQUAL) == "" and tap(d, 2) == "´1"  # no composed form: both
    assert shifted(d, KEY_GRAVE) == "°"


def test_group_separator_on_german_layout() -> None:
    d = KeyDecoder("de")
    d.feed(KEY_LEFTCTRL, 1)
    assert tap(d, KEY_RIGHTBRACE) == GS


def test_a_code_round_trips_through_german_key_events() -> None:
    text = "]C1Größe/Maß-Z_y@{1}\x1d21#A\r"
    d = KeyDecoder("de")
    assert "".join(d.feed(c, v) for c, v in type_text(text, "de")) == text


def test_the_same_keys_mean_different_text_per_layout() -> None:
    events = type_text("zy/", "us")
    de = KeyDecoder("de")
    assert "".join(de.feed(c, v) for c, v in events) == "yz-"
