"""The language catalogues: Babel finds every key the code names and zh_CN translates each,
with the same placeholders as English; plural forms, locale formats, the TOML port."""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog

from floor_app.ui.i18n import LANGUAGES, Translator, catalogue, po_path
from floor_app.ui.i18n.extract import check, extract, load, port_toml, problems, save


def _placeholders(text: str | tuple[str, ...]) -> set[str]:
    texts = (text,) if isinstance(text, str) else text
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name}


def test_the_catalogue_check_finds_nothing_wrong() -> None:
    assert check() == []


def test_extraction_finds_keys_bindings_both_branches_and_rejection_codes() -> None:
    found = extract()
    assert len(found) > 150
    assert "pick.wrong_location" in found  # tr("...")
    assert "keys.quit" in found  # Binding(key, action, "keys.quit")
    assert {"count.recount", "count.count"} <= set(found)  # tr("a" if c else "b")
    assert "errors.scan.unknown_code" in found  # raise InvalidBarcode(..., code="...")


def _catalog(locale: str, entries: dict[str, str], fuzzy: str = "") -> Catalog:
    cat = Catalog(locale=locale, domain="floor")
    for key, text in entries.items():
        cat.add(key, text, flags=("fuzzy",) if key == fuzzy else ())
    return cat


def test_the_check_names_a_missing_a_fuzzy_and_an_untranslated_message() -> None:
    extracted = {"a.one": ["x.py:1"], "a.two": ["x.py:2"], "a.three": ["x.py:3"]}
    english = _catalog("en", {"a.one": "One", "a.two": "Two", "a.three": "Three"})
    chinese = _catalog("zh_CN", {"a.one": "一", "a.two": "二"}, fuzzy="a.two")
    chinese.add("a.four", "")
    found = problems(extracted, {"en": english, "zh_CN": chinese})
    assert "zh_CN: a.three is missing (named at x.py:3)" in found
    assert "zh_CN: a.two is fuzzy" in found
    assert "zh_CN: a.four is untranslated" in found
    assert "en: a.four is missing (in zh_CN)" in found


def test_every_language_has_every_english_key_with_its_placeholders() -> None:
    english = catalogue("en")
    assert len(english) > 250
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


def test_plural_forms_follow_each_locale() -> None:
    en, zh = Translator("en"), Translator("zh")
    assert en.trn("returns.closed", 1, order="SO-1") == "Parcel SO-1 done: 1 unit received"
    assert en.trn("returns.closed", 1240, order="SO-1") == (
        "Parcel SO-1 done: 1,240 units received"
    )
    assert zh.trn("returns.closed", 1, order="SO-1") == "包裹 SO-1 完成：已收 1 件"
    assert zh.trn("returns.closed", 3, order="SO-1") == "包裹 SO-1 完成：已收 3 件"


def test_numbers_money_and_times_by_locale() -> None:
    en, zh = Translator("en"), Translator("zh")
    assert en.grams(1240.4) == "1,240"
    assert en.money(4.9, "EUR") == "€4.90"
    assert zh.money(4.9, "CNY") == "¥4.90"
    assert zh.money(4.9, "") == "4.90"
    at = datetime(2026, 5, 1, 14, 3)
    assert en.time(at) == "2:03\u202fPM"
    assert zh.time(at) == "14:03"
    assert zh.datetime(at) == "2026/5/1 14:03"


def test_a_long_parameter_is_cut_in_the_middle() -> None:
    text = Translator("en")("pick.wrong_item", scanned="9" * 500, sku="SKU-00001")
    assert len(text) < 120
    assert "…" in text


def test_a_toml_catalogue_is_ported_into_a_po_catalogue(tmp_path: Path) -> None:
    toml = tmp_path / "en.toml"
    toml.write_text('[pick]\nnew_text = "Scan {tote}"\n\n[pick.deep]\nkey = "Deep"\n')
    base = tmp_path / "locale"
    save(load("en", base), "en", base)
    assert port_toml(toml, "en", base=base) == 2
    assert port_toml(toml, "en", base=base) == 0  # already there
    cat = load("en", base)
    assert cat.get("pick.new_text").string == "Scan {tote}"
    assert cat.get("pick.deep.key").string == "Deep"
    assert po_path("en", base).read_text().count('msgid "pick.deep.key"') == 1
    cat.add(("pick.units", "pick.units"), ("{n} unit", "{n} units"))
    save(cat, "en", base)
    toml.write_text('[pick]\nnew_text = "Scan tote {tote}"\nunits = "{n} units"\n')
    assert port_toml(toml, "en", replace=True, base=base) == 1  # the plural entry is kept
    cat = load("en", base)
    assert cat.get("pick.new_text").string == "Scan tote {tote}"
    assert cat.get("pick.units").string == ("{n} unit", "{n} units")


def test_a_rejection_is_shown_by_its_code_with_its_words_translated() -> None:
    zh, en = Translator("zh"), Translator("en")
    params = {"order": "SO-1", "order_state": "allocated"}
    english = "order SO-1 is allocated, not picked yet — pack it when its tote arrives"
    assert zh.reason("pack.not_picked", params, english) == (
        "订单 SO-1 状态为已分配，尚未拣完 — 周转箱到了再打包"
    )
    assert en.reason("pack.not_picked", params, english) == english  # the text it carries
    assert zh.reason("no.such_code", params, english) == english  # an older or newer hub
    assert zh.reason("", {}, english) == english
    assert zh.reason("pack.not_picked", {"order": "SO-1"}, english) == english  # params short


def test_every_rejection_code_is_in_both_catalogues() -> None:
    codes = [key for key in extract() if key.startswith("errors.")]
    assert len(codes) > 150
    for language in LANGUAGES:
        missing = [code for code in codes if code not in catalogue(language)]
        assert missing == [], language


def test_a_plural_entry_asked_for_by_tr_takes_its_count_from_n() -> None:
    en = Translator("en")
    assert en("returns.closed", n=2, order="SO-1") == "Parcel SO-1 done: 2 units received"
    assert en("returns.closed", n="many", order="SO-1") == "Parcel SO-1 done: 1 unit received"
