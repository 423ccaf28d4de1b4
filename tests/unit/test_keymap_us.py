"""US layout: key codes to characters, with Shift, Caps Lock, Ctrl+] and Alt codes."""

from __future__ import annotations

import pytest

from device_drivers.keymaps import (
    GS,
    KEY_CAPSLOCK,
    KEY_ENTER,
    KEY_LEFTALT,
    KEY_LEFTCTRL,
    KEY_LEFTSHIFT,
    KEY_RIGHTBRACE,
    KEY_RIGHTSHIFT,
    KEY_TAB,
    KeyDecoder,
    type_text,
)

pytestmark = pytest.mark.unit

KEY_A, KEY_Z, KEY_Y, KEY_2, KEY_7, KEY_MINUS, KEY_SLASH = 30, 44, 21, 3, 8, 12, 53
KP_0, KP_2, KP_9 = 82, 80, 73


def tap(decoder: KeyDecoder, code: int) -> str:
    return decoder.feed(code, 1) + decoder.feed(code, 0)


def test_plain_and_shifted_keys() -> None:
    d = KeyDecoder("us")
    assert tap(d, KEY_A) == "a"
    assert tap(d, KEY_Z) == "z" and tap(d, KEY_Y) == "y"
    assert tap(d, KEY_2) == "2" and tap(d, KEY_MINUS) == "-" and tap(d, KEY_SLASH) == "/"
    d.feed(KEY_RIGHTSHIFT, 1)
    assert tap(d, KEY_A) == "A"
    assert tap(d, KEY_2) == "@" and tap(d, KEY_7) == "&"
    assert tap(d, KEY_MINUS) == "_" and tap(d, KEY_SLASH) == "?"
    d.feed(KEY_RIGHTSHIFT, 0)
    assert tap(d, KEY_A) == "a"


def test_releases_and_repeats_type_nothing_extra() -> None:
    d = KeyDecoder("us")
    assert d.feed(KEY_A, 1) == "a"
    assert d.feed(KEY_A, 2) == "a"  # auto-repeat types again, as on a console
    assert d.feed(KEY_A, 0) == ""


def test_caps_lock_flips_letters_only() -> None:
    d = KeyDecoder("us")
    tap(d, KEY_CAPSLOCK)
    assert tap(d, KEY_A) == "A" and tap(d, KEY_2) == "2"
    d.feed(KEY_LEFTSHIFT, 1)
    assert tap(d, KEY_A) == "a"


def test_enter_tab_and_group_separator() -> None:
    d = KeyDecoder("us")
    assert tap(d, KEY_ENTER) == "\r" and tap(d, KEY_TAB) == "\t"
    d.feed(KEY_LEFTCTRL, 1)
    assert tap(d, KEY_RIGHTBRACE) == GS
    assert tap(d, KEY_A) == ""  # other Ctrl combinations type nothing
    d.feed(KEY_LEFTCTRL, 0)
    assert tap(d, KEY_RIGHTBRACE) == "]"


def test_alt_keypad_code_types_the_character() -> None:
    d = KeyDecoder("us")
    d.feed(KEY_LEFTALT, 1)
    for code in (KP_0, KP_2, KP_9):
        assert tap(d, code) == ""
    assert d.feed(KEY_LEFTALT, 0) == GS  # Alt+029


def test_a_gs1_code_round_trips_through_key_events() -> None:
    text = "]C1010950110153000310LOT-42/A\x1d21SER#7\r"
    d = KeyDecoder("us")
    assert "".join(d.feed(c, v) for c, v in type_text(text, "us")) == text


def test_untypeable_character_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be typed"):
        type_text("ß", "us")
