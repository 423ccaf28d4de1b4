"""Language catalogues (gettext ``.po``, read with Babel) and the lookup used by every screen.

Msgids are dotted keys (``login.prompt``); the English catalogue holds the English texts,
and texts are ``str.format`` templates. A key missing from a catalogue falls back to English,
and a key missing from English shows the key itself, so a gap is visible rather than a
crash. A plural entry (``msgid_plural``) picks its form by the locale's plural rule from the
count given to :meth:`Translator.trn`.

Rejections from the domain, the services and the hub arrive as a code with parameters and
their English text (:class:`~floor_app.domain.errors.Reason`); :meth:`Translator.reason`
shows the catalogue's ``errors.<code>`` text, or the English text in English and for a code
the catalogue does not know. Numbers, money and times are shown by the locale
(:meth:`Translator.number` ...).

The catalogues are kept by ``floor_app/ui/i18n/extract.py`` (extraction, the check that
``make test`` runs, porting TOML entries).
"""

from __future__ import annotations

import gettext
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

#: the app's languages (the ``ui.language`` setting, a user's language) and their names
LANGUAGES = {"en": "English", "zh": "中文"}
#: the gettext locale of each language (the catalogue's folder)
LOCALES = {"en": "en", "zh": "zh_CN"}
CATALOGUE_LOCALES = tuple(LOCALES.values())
DOMAIN = "floor"
LOCALE_DIR = Path(__file__).parent / "locale"

#: parameters of a rejection whose value is a word the catalogue translates: the name of the
#: parameter -> the catalogue section holding the word (``order_state`` "picked" ->
#: ``order_state.picked``)
WORDS = {
    "order_state": "order_state",
    "to_order_state": "order_state",
    "held_from": "order_state",
    "task_state": "task_state",
    "to_task_state": "task_state",
    "label_state": "label_state",
    "pack_state": "pack_state",
    "expected_pack_state": "pack_state",
    "location_kind": "location_kind",
    "code_kind": "kinds",
    "grade": "returns.grades",
    "role": "roles",
}
#: a parameter without a space (a scan, a code) keeps at most this many characters inside a
#: sentence, one with spaces (a reason) at most :data:`MAX_SENTENCE`: a 500-character scan
#: must not fill the screen
MAX_PARAM = 40
MAX_SENTENCE = 240

Text = str | tuple[str, ...]


def po_path(locale: str, base: Path = LOCALE_DIR) -> Path:
    """Where the ``.po`` catalogue of ``locale`` lives."""
    return base / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _catalogue(locale: str) -> tuple[dict[str, Text], str]:
    path = po_path(locale)
    if not path.exists():
        return {}, "nplurals=2; plural=(n != 1);"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    texts: dict[str, Text] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        if isinstance(string, str):
            if string:
                texts[key] = string
        elif string and all(string):
            texts[key] = tuple(string)
    return texts, catalog.plural_forms


@cache
def _plural_rule(plural_forms: str) -> Callable[[int], int]:
    expression = plural_forms.split("plural=", 1)[-1].rstrip(";").strip()
    rule: Callable[[int], int] = gettext.c2py(expression)
    return rule


def catalogue(language: str) -> dict[str, Text]:
    """The texts of ``language`` by key (empty for an unknown language)."""
    locale = LOCALES.get(language)
    return _catalogue(locale)[0] if locale else {}


def shorten(value: object, limit: int | None = None) -> object:
    """``value``, its text cut in the middle to ``limit`` characters when it is longer (by
    default :data:`MAX_PARAM` for a text without spaces, :data:`MAX_SENTENCE` for one with)."""
    if limit is None and isinstance(value, str):
        limit = MAX_SENTENCE if " " in value.strip() else MAX_PARAM
    if isinstance(value, str) and limit is not None and len(value) > limit:
        keep = limit - 1
        return value[: keep - keep // 3] + "…" + value[len(value) - keep // 3 :]
    return value


def _format(template: str, values: Mapping[str, object]) -> str:
    try:
        return template.format(**{k: shorten(v) for k, v in values.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


class Translator:
    """Looks up texts in one language with English as the fallback."""

    def __init__(self, language: str = "en") -> None:
        self.language = language if language in LANGUAGES else "en"
        self.locale = LOCALES[self.language]

    def _text(self, key: str) -> Text | None:
        return catalogue(self.language).get(key) or catalogue("en").get(key)

    def __call__(self, key: str, **values: object) -> str:
        text = self._text(key)
        if text is None:
            return key
        if isinstance(text, tuple):  # a plural entry asked for without trn: its count is n
            n = values.pop("n", 1)
            return self.trn(key, n if isinstance(n, int) else 1, **values)
        return _format(text, values)

    def trn(self, key: str, n: int, **values: object) -> str:
        """The plural form of ``key`` for ``n`` (given to the template as ``n``, by locale)."""
        own = catalogue(self.language).get(key)
        locale = self.locale if own is not None else "en"
        text = own if own is not None else catalogue("en").get(key)
        if text is None:
            return key
        values = {**values, "n": self.number(n)}
        if isinstance(text, str):
            return _format(text, values)
        index = _plural_rule(_catalogue(locale)[1])(n)
        return _format(text[min(index, len(text) - 1)], values)

    def knows(self, key: str) -> bool:
        """True when a catalogue (this language's or English) has ``key``."""
        return self._text(key) is not None

    def reason(self, code: str, params: Mapping[str, object], english: str) -> str:
        """A rejection in this language: the ``errors.<code>`` text with ``params`` (words
        among them translated, see :data:`WORDS`), or ``english`` for an unknown code.

        In English it is ``english``, the text the rejection carries (the English
        catalogue's ``errors.*`` entries are what translators work from)."""
        key = f"errors.{code}"
        own = self.language != "en" and code
        text = catalogue(self.language).get(key) if own else None
        if not isinstance(text, str):
            return english
        values: dict[str, object] = {}
        for name, value in params.items():
            section = WORDS.get(name)
            word = f"{section}.{value}" if section else ""
            values[name] = self(word) if word and self.knows(word) else shorten(value)
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError):
            return english  # the parameters do not fit this catalogue's text

    # -- numbers, money and times by locale -------------------------------------------------

    def number(self, value: float | int | Decimal, digits: int | None = None) -> str:
        """``value`` as this locale writes numbers (``digits`` after the point when given)."""
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if digits is None:
            return format_decimal(value, locale=self.locale)
        pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def grams(self, value: float | int) -> str:
        """A weight in whole grams (``1,240``)."""
        return self.number(round(value))

    def money(self, amount: float | int | Decimal, currency: str) -> str:
        """An amount of ``currency`` (an ISO code) as this locale writes it (``€4.90``)."""
        if not currency:
            return self.number(amount, 2)
        return format_currency(amount, currency, locale=self.locale)

    def time(self, when: datetime) -> str:
        """A clock time (``14:03``)."""
        return format_time(when, "short", locale=self.locale)

    def datetime(self, when: datetime) -> str:
        """A date and time, short (``2024/5/1 14:03``)."""
        return format_datetime(when, "short", locale=self.locale)
