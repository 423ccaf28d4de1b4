"""Fixtures for driving the app with Textual's Pilot on a real store seeded with demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from floor_app.bootstrap import build_context
from floor_app.context import AppContext
from floor_app.settings import load_settings


@pytest.fixture
def demo_ctx(tmp_path: Path) -> Iterator[AppContext]:
    settings = load_settings(
        None, store={"data_dir": str(tmp_path)}, sync={"enabled": False}, ui={"idle_lock_s": 0}
    )
    ctx = build_context(settings, demo=True)
    yield ctx
    ctx.close()
