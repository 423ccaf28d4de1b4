"""Layering, checked in a fresh interpreter: headless packages never load Textual, and the
domain loads no storage, driver or network library."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

HEADLESS = [
    "floor_app.domain.codes",
    "floor_app.domain.order",
    "floor_app.store",
    "floor_app.services.picking",
    "floor_app.services.session",
    "floor_app.settings",
    "floor_app.bootstrap",
    "floor_app.demo",
    "device_drivers.base",
]


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    loaded = _loaded(module)
    assert "textual" not in loaded, f"{module} pulled in Textual"


def test_domain_loads_no_io_library() -> None:
    loaded = _loaded("floor_app.domain.codes, floor_app.domain.order, floor_app.domain.picking")
    for forbidden in ("sqlalchemy", "paho", "serial", "cv2", "textual"):
        assert forbidden not in loaded, forbidden
