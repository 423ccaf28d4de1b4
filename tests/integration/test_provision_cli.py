"""The provisioning subcommands as floor-hub will run them (parser + register, as the hook does)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from floor_app.settings import load_settings
from hub.provisioning.cli import register

pytestmark = pytest.mark.integration


def floor_hub(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="floor-hub")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register(sub)
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def test_provision_devices_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = str(tmp_path / "site")
    out = tmp_path / "out"
    assert floor_hub("broker-cert", "--host", "hub.dc1", "--site", "dc1", "--site-dir", site) == 0
    assert (
        floor_hub(
            "provision",
            "hh-07",
            "--role",
            "picker",
            "--out",
            str(out),
            "--site-dir",
            site,
            "--broker",
            "mqtts://hub.dc1:8883",
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "provisioned hh-07 as picker at dc1: certificate serial" in text
    assert "systemctl reload mosquitto" in text
    assert (
        floor_hub(
            "provision",
            "ps-01",
            "--role",
            "packer",
            "--password",
            "--station",
            "PACK-01",
            "--out",
            str(out),
            "--site-dir",
            site,
            "--broker",
            "mqtts://hub.dc1:8883",
        )
        == 0
    )
    assert load_settings(out / "ps-01" / "floor.toml").device.station == "PACK-01"
    capsys.readouterr()
    assert floor_hub("identities", "--json", "--site-dir", site) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["device_id"], d["method"]) for d in listed] == [
        ("hh-07", "cert"),
        ("ps-01", "password"),
    ]
    assert floor_hub("revoke", "hh-07", "--reason", "lost", "--site-dir", site) == 0
    assert "is in the CRL" in capsys.readouterr().out
    assert floor_hub("crl", "--site-dir", site) == 0


def test_refusals_exit_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(tmp_path / "site")
    out = str(tmp_path / "out")
    base = ("--out", out, "--site-dir", site, "--broker", "mqtts://hub:8883")
    assert floor_hub("provision", "hh-01", "--role", "picker", "--site", "dc1", *base) == 0
    capsys.readouterr()
    assert floor_hub("provision", "hh-01", "--role", "picker", *base) == 1
    err = capsys.readouterr().err
    assert err.startswith("floor-hub provision: device hh-01 is already provisioned")
    assert floor_hub("revoke", "hh-02", "--site-dir", site) == 1
    assert "floor-hub revoke: device hh-02 is not provisioned" in capsys.readouterr().err


def test_cert_and_password_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        floor_hub("provision", "hh-01", "--role", "picker", "--cert", "--password", "--out", "x")
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
