"""Linux key codes to characters for scanners in keyboard (HID) mode: US and German layouts.

A USB scanner in keyboard mode sends key presses, not characters: the text depends on the
keyboard layout the scanner is programmed for. :class:`KeyDecoder` turns evdev key events
(code, value) into the text typed, with Shift, Caps Lock, AltGr (German), the German dead
keys (``^``, ``´``, ``` ` ```), Ctrl+``]`` as the GS1 group separator (0x1D, what scanners
send for FNC1 in keyboard mode) and Alt + keypad digits (``Alt+029``) as a character code.

Pure: the key codes are the kernel's (``linux/input-event-codes.h``) written out here, so
this module needs no evdev and is tested everywhere.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Layout = Literal["us", "de"]

# linux/input-event-codes.h
KEY_ESC = 1
KEY_MINUS, KEY_EQUAL, KEY_BACKSPACE, KEY_TAB = 12, 13, 14, 15
KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_LEFTCTRL = 26, 27, 28, 29
KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_LEFTSHIFT, KEY_BACKSLASH = 39, 40, 41, 42, 43
KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_KPASTERISK = 51, 52, 53, 54, 55
KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK = 56, 57, 58
KEY_KPMINUS, KEY_KPPLUS, KEY_KPDOT = 74, 78, 83
KEY_102ND, KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH, KEY_RIGHTALT = 86, 96, 97, 98, 100

KEY_DIGITS = {2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9", 11: "0"}
"""Top-row digit keys."""
KEY_LETTERS = {
    **dict(zip(range(16, 26), "qwertyuiop", strict=True)),
    **dict(zip(range(30, 39), "asdfghjkl", strict=True)),
    **dict(zip(range(44, 51), "zxcvbnm", strict=True)),
}
"""Letter keys by their US legend (KEY_Q is 16 ...)."""
KEY_KEYPAD_DIGITS = {
    82: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
}
"""Numeric keypad digits (Num Lock on, as scanners send them)."""
KEYPAD_OTHER = {KEY_KPMINUS: "-", KEY_KPPLUS: "+", KEY_KPDOT: ".", KEY_KPSLASH: "/"}
KEYPAD_OTHER[KEY_KPASTERISK] = "*"

SHIFT_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
CTRL_KEYS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})

GS = "\x1d"
"""ASCII group separator: the GS1 FNC1 separator between variable-length fields."""

_US_DIGITS_SHIFT = dict(zip("1234567890", "!@#$%^&*()", strict=True))
_DE_DIGITS_SHIFT = dict(zip("1234567890", '!"§$%&/()=', strict=True))

# key code -> (plain, shifted) for the keys that are not digits or letters
_US_SYMBOLS: dict[int, tuple[str, str]] = {
    KEY_MINUS: ("-", "_"),
    KEY_EQUAL: ("=", "+"),
    KEY_LEFTBRACE: ("[", "{"),
    KEY_RIGHTBRACE: ("]", "}"),
    KEY_SEMICOLON: (";", ":"),
    KEY_APOSTROPHE: ("'", '"'),
    KEY_GRAVE: ("`", "~"),
    KEY_BACKSLASH: ("\\", "|"),
    KEY_COMMA: (",", "<"),
    KEY_DOT: (".", ">"),
    KEY_SLASH: ("/", "?"),
    KEY_102ND: ("\\", "|"),
    KEY_SPACE: (" ", " "),
}
_DE_SYMBOLS: dict[int, tuple[str, str]] = {
    KEY_MINUS: ("ß", "?"),
    KEY_LEFTBRACE: ("ü", "Ü"),
    KEY_RIGHTBRACE: ("+", "*"),
    KEY_SEMICOLON: ("ö", "Ö"),
    KEY_APOSTROPHE: ("ä", "Ä"),
    KEY_BACKSLASH: ("#", "'"),
    KEY_COMMA: (",", ";"),
    KEY_DOT: (".", ":"),
    KEY_SLASH: ("-", "_"),
    KEY_102ND: ("<", ">"),
    KEY_SPACE: (" ", " "),
}
# German dead keys: key code -> (plain, shifted) accent, each as (spacing, combining)
_DE_DEAD: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {
    KEY_GRAVE: (("^", "\u0302"), ("°", "")),  # Shift+^ is a plain degree sign
    KEY_EQUAL: (("´", "\u0301"), ("`", "\u0300")),
}
_DE_ALTGR: dict[int, str] = {
    16: "@",  # Q
    18: "€",  # E
    3: "²",
    4: "³",
    8: "{",
    9: "[",
    10: "]",
    11: "}",
    KEY_MINUS: "\\",
    KEY_RIGHTBRACE: "~",
    KEY_102ND: "|",
    50: "µ",  # M
}


@dataclass(slots=True)
class KeyDecoder:
    """Turns key events into text for one layout; one instance per device (it holds the
    modifier state). Feed every event with :meth:`feed`; it returns the text typed by that
    event ("" for most), ``"\\r"`` for Enter and ``"\\t"`` for Tab."""

    layout: Layout = "us"
    _shift: set[int] = field(default_factory=set)
    _ctrl: set[int] = field(default_factory=set)
    _alt: bool = False
    _altgr: bool = False
    _caps: bool = False
    _dead: tuple[str, str] | None = None
    _alt_code: str = ""

    def reset(self) -> None:
        """Forget modifiers (after the device was reopened)."""
        self._shift.clear()
        self._ctrl.clear()
        self._alt = self._altgr = self._caps = False
        self._dead = None
        self._alt_code = ""

    def feed(self, code: int, value: int) -> str:
        """One key event: ``value`` 1 is a press, 0 a release, 2 an auto-repeat."""
        if code in SHIFT_KEYS:
            (self._shift.add if value else self._shift.discard)(code)
            return ""
        if code in CTRL_KEYS:
            (self._ctrl.add if value else self._ctrl.discard)(code)
            return ""
        if code == KEY_LEFTALT or (code == KEY_RIGHTALT and self.layout == "us"):
            self._alt = bool(value)
            if not value and self._alt_code:
                text, self._alt_code = _alt_code_char(self._alt_code), ""
                return text
            return ""
        if code == KEY_RIGHTALT:
            self._altgr = bool(value)
            return ""
        if value == 0:
            return ""
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return ""
        if self._alt and code in KEY_KEYPAD_DIGITS:
            self._alt_code += KEY_KEYPAD_DIGITS[code]
            return ""
        if self._ctrl:
            return GS if code == KEY_RIGHTBRACE else ""
        if code in (KEY_ENTER, KEY_KPENTER):
            return self._with_dead("\r")
        if code == KEY_TAB:
            return self._with_dead("\t")
        if self.layout == "de":
            if self._altgr:
                return self._with_dead(_DE_ALTGR.get(code, ""))
            if code in _DE_DEAD:
                return self._dead_key(code)
        return self._with_dead(self._char(code))

    def _char(self, code: int) -> str:
        shift = bool(self._shift)
        if code in KEY_LETTERS:
            letter = KEY_LETTERS[code]
            if self.layout == "de" and letter in "yz":
                letter = "z" if letter == "y" else "y"
            return letter.upper() if shift != self._caps else letter
        if code in KEY_DIGITS:
            digit = KEY_DIGITS[code]
            if not shift:
                return digit
            return (_DE_DIGITS_SHIFT if self.layout == "de" else _US_DIGITS_SHIFT)[digit]
        if code in KEY_KEYPAD_DIGITS:
            return KEY_KEYPAD_DIGITS[code]
        if code in KEYPAD_OTHER:
            return KEYPAD_OTHER[code]
        table = _DE_SYMBOLS if self.layout == "de" else _US_SYMBOLS
        if code in table:
            plain, shifted = table[code]
            if self.layout == "de" and plain in "üöä":
                return shifted if shift != self._caps else plain
            return shifted if shift else plain
        return ""

    def _dead_key(self, code: int) -> str:
        plain, shifted = _DE_DEAD[code]
        spacing, combining = shifted if self._shift else plain
        if not combining:
            return self._with_dead(spacing)
        if self._dead is not None:  # the same or another dead key twice: both literal
            previous, self._dead = self._dead[0], None
            return previous + spacing
        self._dead = (spacing, combining)
        return ""

    def _with_dead(self, text: str) -> str:
        if self._dead is None or not text:
            return text
        spacing, combining = self._dead
        self._dead = None
        if text == " ":
            return spacing
        composed = unicodedata.normalize("NFC", text + combining)
        return composed if len(composed) == 1 else spacing + text


def _alt_code_char(digits: str) -> str:
    value = int(digits)
    return chr(value) if 0 < value < 0x110000 else ""


def type_text(text: str, layout: Layout = "us") -> list[tuple[int, int]]:
    """The key events a scanner in ``layout`` sends for ``text`` (for tests and simulators).

    Each character becomes press/release pairs with Shift or AltGr around it as needed; GS
    becomes Ctrl+``]``; ``\\r`` Enter and ``\\t`` Tab. Raises ValueError for a character the
    layout cannot type.
    """
    reverse = _reverse_map(layout)
    events: list[tuple[int, int]] = []
    for char in text:
        if char not in reverse:
            raise ValueError(f"{char!r} cannot be typed on the {layout} layout")
        for code, value in reverse[char]:
            events.append((code, value))
    return events


def _reverse_map(layout: Layout) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}

    def tap(code: int, *mods: int) -> list[tuple[int, int]]:
        return [*((m, 1) for m in mods), (code, 1), (code, 0), *((m, 0) for m in reversed(mods))]

    decoder = KeyDecoder(layout)
    codes = [*KEY_LETTERS, *KEY_DIGITS, *(_DE_SYMBOLS if layout == "de" else _US_SYMBOLS)]
    for code in codes:
        for shift in (False, True):
            decoder.reset()
            if shift:
                decoder.feed(KEY_LEFTSHIFT, 1)
            char = decoder.feed(code, 1)
            if char and char not in out:
                out[char] = tap(code, KEY_LEFTSHIFT) if shift else tap(code)
    if layout == "de":
        for code, char in _DE_ALTGR.items():
            out.setdefault(char, tap(code, KEY_RIGHTALT))
        for code, ((plain, _), _shifted) in _DE_DEAD.items():
            out.setdefault(plain, [*tap(code), *tap(KEY_SPACE)])
        out.setdefault("°", tap(KEY_GRAVE, KEY_LEFTSHIFT))
        out.setdefault("`", [*tap(KEY_EQUAL, KEY_LEFTSHIFT), *tap(KEY_SPACE)])
    out["\r"] = tap(KEY_ENTER)
    out["\t"] = tap(KEY_TAB)
    out[GS] = tap(KEY_RIGHTBRACE, KEY_LEFTCTRL)
    return out
