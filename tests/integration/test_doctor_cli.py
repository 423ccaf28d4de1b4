"""``floor-app doctor`` as a subprocess, against real ptys: states, last errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drivers_pty import PtyDevice, SicsScaleOnPty

pytestmark = pytest.mark.integration


def doctor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOOR_")}
    return subprocess.run(
        [sys.executable, "-m", "floor_app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture
def scanner_pty() -> Iterator[PtyDevice]:
    device = PtyDevice()
    yield device
    device.unplug()


@pytest.fixture
def scale_pty() -> Iterator[SicsScaleOnPty]:
    scale = SicsScaleOnPty()
    yield scale
    scale.unplug()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text)
    return path


def test_all_required_devices_ready_exits_zero(
    tmp_path: Path, scanner_pty: PtyDevice, scale_pty: SicsScaleOnPty
) -> None:
    config = write(
        tmp_path,
        f"""
[[devices.scanners]]
kind = "serial"
name = "hand"
port = "{scanner_pty.path}"

[devices.scale]
port = "{scale_pty.path}"

[devices.camera]
source = 0
required = false
""",
    )
    result = doctor("doctor", "--config", str(config), "--json", "--wait", "10", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"] is True
    by_name = {d["name"]: d for d in report["devices"]}
    assert by_name["hand"]["state"] == "ready" and by_name["hand"]["kind"] == "scanner"
    assert by_name["scale"]["state"] == "ready" and by_name["scale"]["driver"] == "SerialScale"
    assert by_name["camera"]["required"] is False
    assert "SI" in scale_pty.commands


def test_missing_required_device_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[[devices.scanners]]
kind = "serial"
name = "hand"
port = "/dev/serial/by-id/usb-not-plugged-in-if00"

[[devices.scanners]]
kind = "wedge"
""",
    )
    result = doctor("--config", str(config), "doctor", "--wait", "0.5", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "hand" in out and "disconnected" in out and "does not exist" in out
    assert "required device(s) not ready: hand" in out
    assert "wedge" in out


def test_scale_that_does_not_answer_is_not_ready(tmp_path: Path, scanner_pty: PtyDevice) -> None:
    config = write(tmp_path, f'[devices.scale]\nport = "{scanner_pty.path}"\n')
    result = doctor("doctor", "--config", str(config), "--json", "--wait", "20", cwd=tmp_path)
    assert result.returncode == 1
    devices = json.loads(result.stdout)["devices"]
    (scale,) = [d for d in devices if d["kind"] == "scale"]
    assert [d["driver"] for d in devices if d["kind"] == "scanner"] == ["KeyboardWedgeScanner"]
    assert scale["state"] == "error" and "no answer" in scale["last_error"]


def test_bad_configuration_exits_two_naming_the_key(tmp_path: Path) -> None:
    config = write(tmp_path, '[devices.scale]\nport = "/dev/ttyS0"\nprotocl = "sics"\n')
    result = doctor("doctor", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "protocl" in result.stderr
    as_json = doctor("doctor", "--config", str(config), "--json", cwd=tmp_path)
    assert as_json.returncode == 2 and "protocl" in json.loads(as_json.stdout)["config_error"]


def test_demo_devices_are_all_ready(tmp_path: Path) -> None:
    result = doctor("--demo", "doctor", "--json", "--wait", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["demo"] is True
    assert {d["driver"] for d in report["devices"]} >= {"FakeScanner", "FakeScale"}
