"""docs/protocol.md names every event type and every push item the code knows."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from floor_app.domain.events import EVENT_TYPES
from sync.protocol import PushItem

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def push_kinds() -> set[str]:
    union = typing.get_args(PushItem)[0]
    return {cls.model_fields["kind"].default for cls in typing.get_args(union)}


def test_every_event_type_has_a_row_with_its_fields() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, cls in EVENT_TYPES.items():
        rows = [ln for ln in text.splitlines() if ln.startswith(f"| `{name}` |")]
        assert rows, f"docs/protocol.md has no row for {name}"
        for field in dataclasses.fields(cls):
            assert f"`{field.name}`" in rows[0], f"{name}: {field.name} missing from the doc"


def test_every_push_item_is_described() -> None:
    text = DOC.read_text(encoding="utf-8")
    kinds = push_kinds()
    assert "stock_task.assigned" in kinds and "task.assigned" in kinds
    for kind in kinds:
        assert f"- `{kind}`" in text, f"docs/protocol.md does not describe push item {kind}"
