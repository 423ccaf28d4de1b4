"""``compact_json``: the text ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``
writes, faster; a float exponent may be shorter (same value); lone surrogates still encode."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync.protocol import compact_json

pytestmark = pytest.mark.unit


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        {"task": "PT-0001", "qty": 3, "tote_position": 1, "user": "alice", "note": None},
        {"reason": "beschädigt – 破损", "quote": 'a "b" \\ c\n\t\x00', "sep": "\u2028"},
        {"weight_kg": 1.25, "at": 1764000000.1234567, "big": 10**30, "ok": True, "neg": -0.0},
        {"lines": [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}], "empty": {}},
        [1, "two", 3.5, None, False],
    ],
)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert compact_json(value) == _dumps(value)


def test_a_float_exponent_may_be_shorter_but_reads_back_the_same() -> None:
    value = {"tiny": 1.5e-7, "huge": 2.5e300}
    assert json.loads(compact_json(value)) == value


def test_a_lone_surrogate_is_written_as_json_writes_it() -> None:
    value = {"scan": "ab\ud800cd"}
    assert compact_json(value) == _dumps(value)
