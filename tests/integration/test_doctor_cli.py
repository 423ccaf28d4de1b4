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
    assert by_name["hand"]["details"]["port"] == str(scanner_pty.path)
    assert by_name["hand"]["details"]["scans"] == 0
    assert by_name["scale"]["details"]["protocol"] == "sics"
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
    assert {d["driver"] for d in report["devices"]} >= {"FakeScanner", "DemoScale"}


def _store_with_events(path: Path) -> None:
    from floor_app.domain.events import UserLoggedIn
    from floor_app.store import Store

    store = Store.open(path, device_id="hh-01", site="dc1")
    with store.unit_of_work() as uow:
        for _ in range(3):
            uow.emit(UserLoggedIn(user="alice", role="picker", method="badge"))
        uow.commit()
    store.close()


def test_the_store_is_checked_read_only_with_its_unsent_events(tmp_path: Path) -> None:
    db = tmp_path / "floor.db"
    _store_with_events(db)
    before = db.read_bytes()
    config = write(tmp_path, f'[device]\nid = "hh-01"\n[store]\npath = "{db}"\n')
    result = doctor("doctor", "--config", str(config), "--json", "--wait", "0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    store = json.loads(result.stdout)["store"]
    assert store["ok"] is True and store["revision"] and store["unsent"] == 3
    assert db.read_bytes() == before


def test_a_damaged_store_fails_the_check_and_says_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "floor.db"
    _store_with_events(db)
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page + 8 : 3 * page] = b"\xff" * (page - 8)  # a table page overwritten
    db.write_bytes(bytes(data))
    config = write(tmp_path, f'[device]\nid = "hh-01"\n[store]\npath = "{db}"\n')
    result = doctor("doctor", "--config", str(config), "--wait", "0.5", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "!! store" in result.stdout and "restore it from backup" in result.stdout
    assert "the local store is damaged" in result.stdout
    as_json = doctor("doctor", "--config", str(config), "--json", "--wait", "0.5", cwd=tmp_path)
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["store"]["problems"]


def test_a_store_not_made_yet_is_fine(tmp_path: Path) -> None:
    config = write(tmp_path, f'[store]\npath = "{tmp_path / "none.db"}"\n')
    result = doctor("doctor", "--config", str(config), "--json", "--wait", "0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["store"] == {
        "path": str(tmp_path / "none.db"),
        "exists": False,
        "ok": True,
        "problems": [],
        "revision": None,
        "unsent": 0,
        "oldest_unsent_s": None,
        "stale": "",
        "site_version": 0,
    }


def test_doctor_says_which_version_of_the_site_data_the_store_runs(tmp_path: Path) -> None:
    from floor_app.store import Store

    db = tmp_path / "floor.db"
    _store_with_events(db)
    store = Store.open(db, device_id="hh-01")
    store.set_meta("site_version", "3")
    store.close()
    config = write(tmp_path, f'[device]\nid = "hh-01"\n[store]\npath = "{db}"\n')
    result = doctor("doctor", "--config", str(config), "--json", "--wait", "0.5", cwd=tmp_path)
    assert json.loads(result.stdout)["store"]["site_version"] == 3
    text = doctor("doctor", "--config", str(config), "--wait", "0.5", cwd=tmp_path)
    assert "site data v3" in text.stdout


def test_a_store_the_hub_found_stale_is_sound_and_says_how_to_recover(tmp_path: Path) -> None:
    from floor_app.store import Store
    from floor_app.store.store import STALE_WORD

    db = tmp_path / "floor.db"
    _store_with_events(db)
    store = Store.open(db, device_id="hh-01")
    word = {"kind": "stale", "reason": "this device's store ends at event 3 but the hub ..."}
    store.set_meta(STALE_WORD, json.dumps(word))
    store.close()
    config = write(tmp_path, f'[device]\nid = "hh-01"\n[store]\npath = "{db}"\n')
    result = doctor("doctor", "--config", str(config), "--wait", "0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "the hub found this store stale: this device's store ends at event 3" in result.stdout
    assert "restore it from backup" not in result.stdout
    as_json = doctor("doctor", "--config", str(config), "--json", "--wait", "0.5", cwd=tmp_path)
    assert json.loads(as_json.stdout)["store"]["stale"].startswith("this device's store ends")
