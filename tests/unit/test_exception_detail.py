"""What a supervisor's exception is about is shown in the user's language: a short's items
with the reason, a count's difference; an exception without parts shows its summary."""

from __future__ import annotations

from floor_app.services.supervision import CountDifferenceSeen, FloorException
from floor_app.ui.i18n import Translator
from floor_app.ui.screens.supervisor_home import exception_detail


def short(*items: tuple[int, str, str]) -> FloorException:
    parts = tuple(
        ("exceptions.short", (("qty", str(q)), ("sku", sku), ("reason", reason)))
        for q, sku, reason in items
    )
    return FloorException("short:SO-1", "short", "SO-1", "2x SKU-1 damaged", 5.0, (), parts)


def test_a_short_names_each_item_and_its_reason_in_the_language() -> None:
    exc = short((2, "SKU-1", "damaged"), (1, "SKU-2", "not_found"))
    assert exception_detail(Translator("en"), exc) == "2 x SKU-1 Damaged, 1 x SKU-2 Not found"
    zh = exception_detail(Translator("zh"), exc)
    assert "SKU-1" in zh and "SKU-2" in zh and "Damaged" not in zh and "Not found" not in zh


def test_a_count_difference_and_an_exception_without_parts() -> None:
    diff = CountDifferenceSeen(7, "A01-01-1A", "SKU-3", 10, 8, "alice", "recount", at=0.0)
    exc = diff.exception(now=60.0)
    assert exception_detail(Translator("en"), exc) == "10 → 8 (-2) alice: recount"
    assert exception_detail(Translator("zh"), exc).startswith("应有 10 → 实点 8")
    plain = FloorException("held:SO-2", "held", "SO-2", "Item missing", 1.0, ("release",))
    assert exception_detail(Translator("zh"), plain) == "Item missing"
