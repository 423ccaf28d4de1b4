"""systemd/udev/99-floor-devices.rules: well-formed rules that name the floor's devices."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "systemd" / "udev" / "99-floor-devices.rules"

MATCH_KEYS = {"ACTION", "KERNEL", "SUBSYSTEM", "SUBSYSTEMS", "ATTR", "ATTRS", "ENV"}
ASSIGN_KEYS = {"ENV", "GROUP", "MODE", "SYMLINK", "GOTO", "LABEL"}
TOKEN = re.compile(
    r'^(?P<key>[A-Z]+)(\{(?P<attr>[A-Za-z_]+)\})?(?P<op>==|!=|\+=|=)"(?P<value>[^"]*)"$'
)


def rules() -> list[list[dict[str, str]]]:
    out = []
    for number, line in enumerate(RULES.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tokens = []
        for part in re.split(r",\s*", line):
            match = TOKEN.match(part)
            assert match, f'line {number}: {part!r} is not KEY[{{attr}}]OP"value"'
            tokens.append(match.groupdict())
        out.append(tokens)
    return out


def test_every_rule_is_well_formed() -> None:
    labels, gotos = set(), set()
    for rule in rules():
        for token in rule:
            key, op = token["key"], token["op"]
            if op in ("==", "!="):
                assert key in MATCH_KEYS, f"{key} cannot be matched"
            else:
                assert key in ASSIGN_KEYS, f"{key} cannot be assigned"
            if key == "LABEL":
                labels.add(token["value"])
            if key == "GOTO":
                gotos.add(token["value"])
            if token["attr"] in ("idVendor", "idProduct"):
                for alternative in token["value"].split("|"):
                    assert re.fullmatch(r"[0-9a-f]{4}", alternative), token
            if key == "MODE":
                assert token["value"] == "0660"
            if key == "GROUP":
                assert token["value"] == "floor"
    assert gotos and gotos <= labels


def test_scanners_printers_and_scales_of_the_common_vendors_get_stable_names() -> None:
    kinds: dict[str, str] = {}
    for rule in rules():
        vendor = next((t["value"] for t in rule if t["attr"] == "idVendor"), None)
        kind = next(
            (t["value"] for t in rule if t["attr"] == "FLOOR_KIND" and t["op"] == "="), None
        )
        if vendor and kind:
            kinds[vendor] = kind
    assert kinds["0c2e"] == kinds["0536"] == "scanner"  # Honeywell
    assert kinds["05e0"] == "scanner"  # Zebra (Symbol) scanners
    assert kinds["05f9"] == kinds["080c"] == "scanner"  # Datalogic
    assert kinds["0a5f"] == "printer"  # Zebra printers
    assert kinds["0eb8"] == "scale"  # Mettler Toledo
    links = [t["value"] for rule in rules() for t in rule if t["key"] == "SYMLINK"]
    assert "floor/$env{FLOOR_KIND}0" in links and "floor/printer0" in links
    assert all(link.startswith("floor/") for link in links)


def test_udevadm_accepts_the_rules(tmp_path: Path) -> None:
    """Where udevadm can check a rules file on its own (systemd 253 and later), it must pass."""
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("needs udevadm (Debian package 'udev')")
    probe = subprocess.run(
        [udevadm, "verify", "--help"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("this udevadm has no 'verify' (systemd 253+); the rules are parsed above")
    result = subprocess.run(
        [udevadm, "verify", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
