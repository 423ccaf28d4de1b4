"""The ``floor-app`` command as a person runs it: bad configs, a bad store, the version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "floor_app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_broken_config_exits_non_zero_naming_the_key() -> None:
    result = run("--config", "config/broken.toml")
    assert result.returncode == 2
    assert "config/broken.toml" in result.stderr
    assert "device.rol: unknown key; did you mean 'role'?" in result.stderr
    assert "ui.idle_lock_s" in result.stderr and "integer" in result.stderr


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[device]\nid = "hh-01\n')
    result = run("--config", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "line 2" in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_unusable_store_exits_with_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "floor.toml"
    cfg.write_text(f'[store]\ndata_dir = "{tmp_path / "missing"}"\n[sync]\nenabled = false\n')
    result = run("--config", str(cfg))
    assert result.returncode == 3
    assert "does not exist" in result.stderr


def test_shipped_configs_are_valid() -> None:
    """Every shipped file loads with the reader it is made for: the device's settings, the
    hub's pick faces (floor-hub stock faces), or a site's files (floor-hub site load)."""
    from floor_app.settings import load_settings
    from hub.pick_faces import read_faces
    from hub.site_files.csvfile import Problems
    from hub.site_files.read import read_site

    checked = []
    found = Problems()
    read_site(ROOT / "config" / "site-example", found)
    assert not found, [str(p) for p in found.items]
    for path in sorted((ROOT / "config").rglob("*.toml")):
        if path.name == "broken.toml" or "broker" in path.parts or "site-example" in path.parts:
            continue
        if path.name == "pick_faces.toml":
            assert read_faces(path)
        else:
            load_settings(path)
        checked.append(path.name)
    assert {"defaults.toml", "demo.toml", "pick_faces.toml"} <= set(checked)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("floor ")


def test_every_module_of_floor_app_commands_is_a_subcommand() -> None:
    import argparse
    import pkgutil

    from floor_app import commands
    from floor_app.__main__ import build_parser

    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    actions = build_parser()._subparsers._group_actions  # type: ignore[union-attr]
    (subparsers,) = [a for a in actions if isinstance(a, argparse._SubParsersAction)]
    assert set(subparsers.choices) == modules == {"doctor", "label"}
