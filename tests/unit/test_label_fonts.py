"""Finding a CJK font for label text, and the clear error when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_label_content import order, parcel

from device_drivers.labels import LabelFontMissing, ShippingLabel, find_cjk_font, fonts, render

pytestmark = pytest.mark.unit


def test_the_setup_font_is_found() -> None:
    found = find_cjk_font("")
    assert found.is_file()
    assert found.suffix in (".ttc", ".ttf", ".otf")


def test_an_explicit_font_that_is_not_there() -> None:
    with pytest.raises(LabelFontMissing, match=r"FLOOR_LABEL_FONT=/nowhere/font\.ttf"):
        find_cjk_font("/nowhere/font.ttf")


def test_no_cjk_font_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    find_cjk_font.cache_clear()
    monkeypatch.setattr(fonts, "KNOWN_FONTS", ("/nowhere/a.ttc",))
    monkeypatch.setattr(fonts, "_fontconfig_chinese", lambda: None)
    try:
        with pytest.raises(LabelFontMissing, match="fonts-wqy-zenhei"):
            find_cjk_font("")
        with pytest.raises(LabelFontMissing):
            render(ShippingLabel.for_order(order(), parcel()), font=None)
    finally:
        find_cjk_font.cache_clear()


def test_a_given_font_file_is_used() -> None:
    rendered = render(ShippingLabel.for_order(order(), parcel()), font=find_cjk_font(""), png=False)
    assert rendered.zpl.startswith(b"^XA")


def test_a_file_that_is_not_a_font_is_a_label_error(tmp_path: Path) -> None:
    bogus = tmp_path / "font.ttf"
    bogus.write_text("not a font\n")
    with pytest.raises(LabelFontMissing, match=r"cannot use .*font\.ttf as a font"):
        render(ShippingLabel.for_order(order(), parcel()), font=bogus, png=False)
