"""systemd/: every unit verifies cleanly and each service's exposure is at most 3.0.

``systemd-analyze verify`` needs every ExecStart binary to exist and the units the floor's
units name (targets, mosquitto.service). The tests build a temporary root: the host's unit
folder, Debian's mosquitto.service (the host's, or the copy below), our units and drop-in in
/etc/systemd/system, and an executable stub at every Exec path, then run ``--root`` on it.
Warnings count as failures: systemd-analyze exits 0 on an unknown key.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
MAX_EXPOSURE = 3.0

# Debian 12's /lib/systemd/system/mosquitto.service (package mosquitto 2.0.11), used when
# the host has no broker package installed.
DEBIAN_MOSQUITTO_SERVICE = """\
[Unit]
Description=Mosquitto MQTT Broker
Documentation=man:mosquitto.conf(5) man:mosquitto(8)
After=network.target
Wants=network.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
ExecStartPre=/bin/mkdir -m 740 -p /var/log/mosquitto
ExecStartPre=/bin/chown mosquitto /var/log/mosquitto
ExecStartPre=/bin/mkdir -m 740 -p /run/mosquitto
ExecStartPre=/bin/chown mosquitto /run/mosquitto

[Install]
WantedBy=multi-user.target
"""

SERVICES = {
    "floor-hub.service": "floor-hub.service",
    "floor-app@.service": "floor-app@tty7.service",
    "floor-crl.service": "floor-crl.service",
    "mosquitto.service.d/floor.conf": "mosquitto.service",
}
"""Each service file of ours and the unit name systemd knows it by."""
OTHER_UNITS = {"floor-crl.timer": "floor-crl.timer"}
RUNS_AS_ROOT = {"floor-crl.service": "CAP_CHOWN"}
"""Services that run as root, and the only capability each keeps."""


def systemd_analyze() -> str:
    """The systemd-analyze binary; installed from Debian's 'systemd' package if missing."""
    found = shutil.which("systemd-analyze")
    if found:
        return found
    apt = shutil.which("apt-get")
    if (
        apt
        and shutil.which("id")
        and subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0"
    ):
        for step in (
            ["install", "-y", "-qq", "--no-install-recommends", "systemd"],
            ["update", "-qq"],
            ["install", "-y", "-qq", "--no-install-recommends", "systemd"],
        ):
            subprocess.run([apt, *step], capture_output=True, timeout=600, check=False)
            found = shutil.which("systemd-analyze")
            if found:
                return found
    pytest.skip(
        "needs systemd-analyze (Debian package 'systemd'; scripts/setup.sh installs it) "
        "and it could not be installed here"
    )


def exec_paths(text: str) -> set[str]:
    """The binaries of every Exec*= line of a unit (after systemd's prefix characters)."""
    paths = set()
    for line in text.splitlines():
        match = re.match(r"^Exec\w+=(.*)$", line.strip())
        if not match or not match[1].strip():
            continue
        first = shlex.split(match[1])[0].lstrip("-@:+!")
        if first.startswith("/"):
            paths.add(first)
    return paths


def unit_host_dir() -> Path:
    for candidate in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (candidate / "multi-user.target").exists():
            return candidate
    pytest.skip("needs the host's systemd unit folder (Debian package 'systemd')")


@pytest.fixture(scope="module")
def analyze() -> str:
    return systemd_analyze()


@pytest.fixture(scope="module")
def sd_root(tmp_path_factory: pytest.TempPathFactory, analyze: str) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("sdroot")
    system = root / "usr" / "lib" / "systemd" / "system"
    shutil.copytree(unit_host_dir(), system, symlinks=True)
    mosquitto = system / "mosquitto.service"
    if not mosquitto.exists():
        mosquitto.write_text(DEBIAN_MOSQUITTO_SERVICE)
    etc = root / "etc" / "systemd" / "system"
    etc.mkdir(parents=True)
    texts = [mosquitto.read_text()]
    for rel in {**SERVICES, **OTHER_UNITS}:
        target = etc / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(UNITS / rel, target)
        texts.append(target.read_text())
    for path in set().union(*(exec_paths(t) for t in texts)):
        stub = root / path.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        if not stub.exists():
            stub.write_text("#!/bin/sh\nexit 0\n")
            stub.chmod(0o755)
    yield root


def run(analyze: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [analyze, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("rel", sorted({**SERVICES, **OTHER_UNITS}))
def test_unit_verifies_without_errors_or_warnings(analyze: str, sd_root: Path, rel: str) -> None:
    result = run(analyze, "verify", f"--root={sd_root}", {**SERVICES, **OTHER_UNITS}[rel])
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if line.strip()]
    assert ours == [], f"systemd-analyze verify warned about {rel}:\n" + "\n".join(ours)


@pytest.mark.parametrize("rel", sorted(SERVICES))
def test_service_exposure_is_at_most_3(analyze: str, sd_root: Path, rel: str) -> None:
    name = SERVICES[rel]
    result = run(analyze, "security", "--offline=yes", f"--root={sd_root}", name)
    assert result.returncode == 0, result.stderr
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-2000:]
    exposure = float(match[1])
    assert exposure <= MAX_EXPOSURE, f"{name}: exposure {exposure}\n{result.stdout}"
    strict = run(
        analyze,
        "security",
        "--offline=yes",
        f"--root={sd_root}",
        f"--threshold={round(MAX_EXPOSURE * 10)}",  # in tenths
        name,
    )
    assert strict.returncode == 0, strict.stdout[-1500:]


def test_the_checks_catch_a_bad_unit(analyze: str, sd_root: Path) -> None:
    """A typo and a missing binary are caught; a bare unit is far above 3.0."""
    etc = sd_root / "etc" / "systemd" / "system"
    (etc / "floor-broken.service").write_text(
        "[Service]\nExecStart=/opt/floor/bin/floor-hub\nRestartt=always\n"
    )
    (etc / "floor-missing.service").write_text("[Service]\nExecStart=/opt/floor/bin/nothing\n")
    try:
        typo = run(analyze, "verify", f"--root={sd_root}", "floor-broken.service")
        assert "Unknown key 'Restartt'" in typo.stderr
        missing = run(analyze, "verify", f"--root={sd_root}", "floor-missing.service")
        assert missing.returncode != 0 and "is not executable" in missing.stderr
        bare = run(
            analyze, "security", "--offline=yes", f"--root={sd_root}", "floor-broken.service"
        )
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", bare.stdout)
        assert match and float(match[1]) > MAX_EXPOSURE
        over = run(
            analyze,
            "security",
            "--offline=yes",
            f"--root={sd_root}",
            "--threshold=30",
            "floor-broken.service",
        )
        assert over.returncode != 0
    finally:
        (etc / "floor-broken.service").unlink()
        (etc / "floor-missing.service").unlink()


def directives(rel: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (UNITS / rel).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_hub_is_notify_with_a_watchdog() -> None:
    hub = directives("floor-hub.service")
    assert hub["Type"] == ["notify"] and hub["NotifyAccess"] == ["main"]
    assert hub["WatchdogSec"] and hub["Restart"] == ["always"]
    # the settings file is required: without it systemd refuses to start the hub
    assert hub["EnvironmentFile"] == ["/etc/floor/hub.env"]
    assert hub["ReadWritePaths"] == ["/var/lib/floor-hub"]


@pytest.mark.parametrize("rel", sorted(SERVICES))
def test_hardening_basics(rel: str) -> None:
    unit = directives(rel)
    for key in (
        "NoNewPrivileges",
        "ProtectSystem",
        "PrivateTmp",
        "ProtectHome",
        "RestrictSUIDSGID",
        "ProtectKernelModules",
        "LockPersonality",
    ):
        assert unit.get(key) in (["yes"], ["strict"]), f"{rel}: {key}"
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["AmbientCapabilities"] == [""]
    if rel in RUNS_AS_ROOT:
        assert "User" not in unit and unit["CapabilityBoundingSet"] == [RUNS_AS_ROOT[rel]]
    else:
        assert unit["CapabilityBoundingSet"] == [""]
        assert unit["User"] and unit["User"] != ["root"]


def test_kiosk_devices_and_data() -> None:
    app = directives("floor-app@.service")
    assert app["Restart"] == ["always"] and app["TTYPath"] == ["/dev/%I"]
    assert app["DevicePolicy"] == ["closed"]
    allowed = {v.split()[0] for v in app["DeviceAllow"]}
    assert {
        "char-ttyUSB",
        "char-ttyACM",
        "char-hidraw",
        "char-input",
        "char-video4linux",
    } <= allowed
    assert app["ReadWritePaths"] == ["/var/lib/floor"]
    (exec_start,) = app["ExecStart"]
    argv = shlex.split(exec_start)
    assert argv[0] == "/usr/bin/cage" and "/usr/bin/foot" in argv
    assert any("WenQuanYi Zen Hei" in a for a in argv)  # a CJK font: Chinese on screen


def test_sysusers_creates_the_service_users(tmp_path: Path) -> None:
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.skip("needs systemd-sysusers (Debian package 'systemd')")
    (tmp_path / "etc").mkdir()
    result = subprocess.run(
        [sysusers, f"--root={tmp_path}", "--dry-run", str(UNITS / "sysusers.d" / "floor.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Creating user 'floor'" in result.stderr and "Creating user 'floor-hub'" in result.stderr
