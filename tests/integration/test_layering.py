"""Layering, checked in a fresh interpreter: headless packages never load Textual, the domain
loads no storage, driver or network library, the hub never loads the device store, and
drivers and sync never load each other. The import-linter contracts in pyproject.toml check
the imports as written; these check what importing really loads."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from importlib import import_module

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


def _modules(package: str) -> list[str]:
    """Every module of ``package`` but its migration scripts."""
    root = import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if ".migrations" not in info.name and not info.name.endswith("__main__"):
            found.append(info.name)
    return found


def _loaded(*modules: str) -> set[str]:
    code = f"import sys, {', '.join(modules)}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def _roots(loaded: set[str], *names: str) -> set[str]:
    return {m for m in loaded for n in names if m == n or m.startswith(f"{n}.")}


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    loaded = _loaded(module)
    assert "textual" not in loaded, f"{module} pulled in Textual"


def test_domain_loads_no_io_library() -> None:
    loaded = _loaded("floor_app.domain.codes", "floor_app.domain.order", "floor_app.domain.picking")
    for forbidden in ("sqlalchemy", "paho", "serial", "cv2", "textual"):
        assert forbidden not in loaded, forbidden


def test_the_hub_loads_no_device_store_ui_or_driver() -> None:
    modules = _modules("hub")
    assert len(modules) > 30
    loaded = _loaded(*modules)
    assert not _roots(
        loaded, "floor_app.store", "floor_app.services", "floor_app.ui", "sync.device", "textual"
    )
    assert not _roots(loaded, "device_drivers") - {"device_drivers", "device_drivers.config"}


def test_every_driver_loads_no_sync_hub_or_ui() -> None:
    modules = [m for m in _modules("device_drivers") if m != "device_drivers.fakes"]
    assert "device_drivers.scale" in modules
    loaded = _loaded(*modules)
    assert not _roots(loaded, "sync", "hub", "floor_app.ui", "floor_app.store", "textual")


def test_the_protocol_loads_only_the_domain() -> None:
    loaded = _loaded("sync.protocol")
    assert not _roots(loaded, "floor_app.store", "sqlalchemy", "paho", "sync.device", "hub")
