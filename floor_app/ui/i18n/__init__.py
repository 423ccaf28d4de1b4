"""Language catalogues (TOML, one file per language) and the lookup used by every screen.

Keys are dotted (``login.prompt``); values are ``str.format`` templates. A key missing
from a catalogue falls back to English, and a key missing from English shows the key
itself, so a gap is visible rather than a crash.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = {"en": "English", "zh": "中文"}
_HERE = Path(__file__).parent


def _flatten(prefix: str, data: dict[str, Any], out: dict[str, str]) -> dict[str, str]:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)
    return out


@cache
def catalogue(language: str) -> dict[str, str]:
    """The flattened catalogue of ``language`` (empty for an unknown language)."""
    path = _HERE / f"{language}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return _flatten("", tomllib.load(fh), {})


class Translator:
    """Looks up texts in one language with English as the fallback."""

    def __init__(self, language: str = "en") -> None:
        self.language = language if language in LANGUAGES else "en"

    def __call__(self, key: str, **values: Any) -> str:
        text = catalogue(self.language).get(key) or catalogue("en").get(key) or key
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
