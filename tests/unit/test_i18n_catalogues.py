"""The language catalogues: Chinese has every English text, with the same placeholders."""

from __future__ import annotations

import string

from floor_app.ui.i18n import LANGUAGES, Translator, catalogue


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_english_key_with_its_placeholders() -> None:
    english = catalogue("en")
    assert len(english) > 100
    for language in LANGUAGES:
        texts = catalogue(language)
        assert sorted(set(english) - set(texts)) == [], language
        assert sorted(set(texts) - set(english)) == [], language
        differing = [k for k in english if _placeholders(english[k]) != _placeholders(texts[k])]
        assert differing == [], language


def test_a_missing_key_shows_itself_and_a_missing_value_leaves_the_template() -> None:
    tr = Translator("zh")
    assert tr("move.no_such_key") == "move.no_such_key"
    assert tr("move.moved", qty=2) == catalogue("zh")["move.moved"]
    assert tr("move.moved", qty=2, sku="SKU-00001", destination="A01-01-2A") == (
        "已移动 2 x SKU-00001 到 A01-01-2A"
    )
