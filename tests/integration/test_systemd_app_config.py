"""floor-app@.service started without its config: the unit's own command line, run for real.

The app part of the unit's ExecStart (after ``foot ... --``) is run with the installed
``/opt/floor/bin/floor-app`` replaced by this checkout's ``python -m floor_app`` and
``/etc/floor`` moved under a temporary folder, so the test runs exactly the arguments the
unit uses without touching the machine's /etc.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.provisioning import SiteAuthority

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "floor-app@.service"
APP = "/opt/floor/bin/floor-app"


def unit_values(key: str) -> list[str]:
    prefix = f"{key}="
    return [
        line.strip()[len(prefix) :]
        for line in UNIT.read_text().splitlines()
        if line.strip().startswith(prefix)
    ]


def app_argv() -> list[str]:
    """The floor-app command inside the kiosk's ExecStart."""
    (exec_start,) = unit_values("ExecStart")
    argv = shlex.split(exec_start)
    return argv[argv.index(APP) :]


def config_path() -> str:
    argv = app_argv()
    return argv[argv.index("--config") + 1]


def run_as_unit(etc: Path, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [a.replace("/etc/floor", str(etc)) for a in app_argv()[1:]]
    return subprocess.run(
        [sys.executable, "-m", "floor_app", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_the_unit_names_one_config_file_everywhere() -> None:
    path = config_path()
    assert path == "/etc/floor/floor.toml"
    assert unit_values("AssertFileNotEmpty") == [path]  # systemd refuses to start without it
    assert any(f"FLOOR_CONFIG={path}" in v for v in unit_values("Environment"))


def test_without_its_config_the_app_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "floor"
    result = run_as_unit(etc)
    assert result.returncode == 2
    assert f"config file {etc}/floor.toml does not exist" in result.stderr
    assert result.stdout == ""  # nothing drawn: the kiosk would show an empty terminal


def test_a_broken_config_exits_non_zero_naming_the_keys(tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "floor"
    etc.mkdir(parents=True)
    shutil.copy(ROOT / "config" / "broken.toml", etc / "floor.toml")
    result = run_as_unit(etc)
    assert result.returncode == 2
    assert "device.rol: unknown key; did you mean 'role'?" in result.stderr


def test_a_provisioned_config_is_accepted(tmp_path: Path) -> None:
    """With the bundle from floor-hub provision in place the app gets past its settings (it
    then stops at the store folder, which this test leaves out)."""
    etc = tmp_path / "etc" / "floor"
    result = SiteAuthority(tmp_path / "site", broker_group=None).provision(
        "hh-07", "picker", "dc1", out_dir=tmp_path / "out", broker_url="mqtts://hub.dc1:8883"
    )
    shutil.copytree(result.bundle_dir, etc)
    run = run_as_unit(etc, FLOOR_STORE__DATA_DIR=str(tmp_path / "no-data-dir"))
    assert run.returncode == 3, run.stderr
    assert "no-data-dir does not exist" in run.stderr
    assert "config file" not in run.stderr
