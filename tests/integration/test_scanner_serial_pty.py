"""The serial scanner against real pseudo-terminals: good scans, every bad input, unplug and
replug behind a stable by-id style link."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from drivers_pty import PtyDevice, wait_for

from device_drivers.base import Scan, ScannerState, StateChange
from device_drivers.config import SerialScannerConfig
from device_drivers.scan_rules import RejectReason
from device_drivers.serial_scanner import SerialScanner
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.integration


class Rig:
    """A scanner on a pty behind a symlink, with what it delivered and reported."""

    def __init__(self, tmp_path: Path, **config: object) -> None:
        self.link = tmp_path / "usb-Honeywell_1900-if00"
        self.device = PtyDevice()
        self.device.link(self.link)
        self.scanner = SerialScanner(
            SerialScannerConfig.model_validate(
                {
                    "port": str(self.link),
                    "inter_byte_timeout_s": 0.15,
                    "reconnect_min_s": 0.05,
                    "reconnect_max_s": 0.2,
                    **config,
                }
            )
        )
        self.scans: list[Scan] = []
        self.changes: list[StateChange[ScannerState]] = []
        self.arrived = threading.Event()
        self.scanner.on_scan(self._got)
        self.scanner.on_state_change(self.changes.append)

    def _got(self, scan: Scan) -> None:
        self.scans.append(scan)
        self.arrived.set()

    def start(self) -> None:
        self.scanner.start()
        assert wait_for(lambda: self.scanner.state is ScannerState.READY), self.scanner.last_error

    def send_and_wait(self, data: bytes, count: int = 1) -> None:
        self.device.write(data)
        assert wait_for(lambda: len(self.scans) >= count), self.scanner.last_error

    def rejected(self, reason: RejectReason, count: int = 1) -> bool:
        return wait_for(lambda: self.scanner.counters.rejected[reason] >= count)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    r.start()
    yield r
    r.scanner.stop()
    r.device.unplug()


def test_scan_with_aim_and_gs1_separator(rig: Rig) -> None:
    rig.send_and_wait(b"]C1010950110153000310ABC\x1d21XYZ\r")
    scan = rig.scans[0]
    assert scan.text == "010950110153000310ABC\x1d21XYZ"
    assert scan.symbology is Symbology.GS1_128 and scan.aim == "]C1"
    assert scan.source == "scanner"


@pytest.mark.parametrize(("suffix", "wire"), [("LF", b"\n"), ("CRLF", b"\r\n"), ("TAB", b"\t")])
def test_configured_suffixes(tmp_path: Path, suffix: str, wire: bytes) -> None:
    r = Rig(tmp_path, suffix=suffix)
    r.start()
    try:
        r.send_and_wait(b"T0901" + wire + b"T0902" + wire, count=2)
        assert [s.text for s in r.scans] == ["T0901", "T0902"]
    finally:
        r.scanner.stop()
        r.device.unplug()


def test_framing_from_config_is_applied(tmp_path: Path) -> None:
    r = Rig(tmp_path, baudrate=19200, bytesize=7, parity="E", stopbits=2)
    r.start()
    try:
        port = r.scanner._port
        assert port is not None
        assert (port.baudrate, port.bytesize, port.parity, port.stopbits) == (19200, 7, "E", 2)
    finally:
        r.scanner.stop()
        r.device.unplug()


def test_garbage_bytes_are_rejected_without_a_phantom_scan(rig: Rig) -> None:
    rig.device.write(b"\x00\x13\xff\xfe\x1b[2J\r")
    assert rig.rejected(RejectReason.GARBAGE)
    rig.send_and_wait(b"T0901\r")
    assert [s.text for s in rig.scans] == ["T0901"]
    assert "garbage" in rig.scanner.last_error
    assert rig.scanner.state is ScannerState.READY


def test_half_a_frame_then_silence_is_dropped(rig: Rig) -> None:
    rig.device.write(b"]E04006381")
    assert rig.rejected(RejectReason.PARTIAL)
    rig.send_and_wait(b"]E04006381333931\r")
    assert [s.text for s in rig.scans] == ["4006381333931"]


def test_ten_thousand_byte_frame_is_rejected(rig: Rig) -> None:
    rig.device.write(b"7" * 10_000 + b"\r")
    assert rig.rejected(RejectReason.OVERLONG)
    rig.send_and_wait(b"T0901\r")
    assert [s.text for s in rig.scans] == ["T0901"]
    assert rig.scanner.counters.rejected_total == 1


def test_wrong_symbology_is_rejected(tmp_path: Path) -> None:
    r = Rig(tmp_path, symbologies=["gs1-128", "ean13"])
    r.start()
    try:
        r.device.write(b"]Q1https://example.invalid/x\r")
        assert r.rejected(RejectReason.WRONG_SYMBOLOGY)
        r.send_and_wait(b"]E04006381333931\r")
        assert [s.symbology for s in r.scans] == [Symbology.EAN13]
    finally:
        r.scanner.stop()
        r.device.unplug()


def test_unplugged_mid_scan_then_replugged_elsewhere_behind_the_same_link(tmp_path: Path) -> None:
    rig = Rig(tmp_path, inter_byte_timeout_s=10.0)  # only the unplug ends the half code
    rig.start()
    try:
        _unplug_mid_scan_and_replug(rig)
    finally:
        rig.scanner.stop()
        rig.device.unplug()


def _unplug_mid_scan_and_replug(rig: Rig) -> None:
    rig.device.write(b"]C1SO-10")  # half a code, then the cable is pulled
    assert wait_for(lambda: rig.scanner.pending_bytes == 8)
    replugged = PtyDevice()  # where the scanner will come back: another tty
    rig.device.unplug()
    assert wait_for(lambda: rig.scanner.state is ScannerState.DISCONNECTED)
    assert "went away" in rig.scanner.last_error
    assert wait_for(lambda: rig.scanner.counters.rejected[RejectReason.PARTIAL] == 1)
    assert rig.scans == []
    assert replugged.path != rig.device.path
    replugged.link(rig.link)
    rig.device = replugged
    assert wait_for(lambda: rig.scanner.state is ScannerState.READY)
    rig.send_and_wait(b"]C1SO-100234\r")
    assert [s.text for s in rig.scans] == ["SO-100234"]
    assert rig.scanner.counters.reconnects == 1
    states = [c.new for c in rig.changes]
    assert states.index(ScannerState.DISCONNECTED) < len(states) - 1
    assert ScannerState.READY in states[states.index(ScannerState.DISCONNECTED) :]


def test_missing_port_is_a_state_and_it_recovers_when_plugged(tmp_path: Path) -> None:
    link = tmp_path / "usb-not-yet"
    scanner = SerialScanner(
        SerialScannerConfig(port=str(link), reconnect_min_s=0.05, reconnect_max_s=0.1)
    )
    scanner.start()
    try:
        assert wait_for(lambda: scanner.state is ScannerState.DISCONNECTED)
        assert "does not exist" in scanner.last_error
        device = PtyDevice()
        device.link(link)
        assert wait_for(lambda: scanner.state is ScannerState.READY)
        device.unplug()
    finally:
        scanner.stop()
    assert scanner.state is ScannerState.STOPPED


def test_a_failing_listener_does_not_stop_the_reader(rig: Rig) -> None:
    def broken(scan: Scan) -> None:
        raise RuntimeError("listener bug")

    rig.scanner._scan_listeners.insert(0, broken)
    rig.send_and_wait(b"T0901\r")
    rig.send_and_wait(b"T0902\r", count=2)
    assert [s.text for s in rig.scans] == ["T0901", "T0902"]


def test_stop_is_idempotent_and_prompt(rig: Rig) -> None:
    rig.scanner.stop()
    rig.scanner.stop()
    assert rig.scanner.state is ScannerState.STOPPED
