"""Fakes behave like the real drivers: states, rejections, faults, never printing twice."""

from __future__ import annotations

import threading

import pytest

from device_drivers.base import (
    CameraState,
    PrinterState,
    PrintJob,
    Scan,
    ScannerState,
    StateChange,
)
from device_drivers.fakes import FakeCamera, FakePrinter, FakeScanner
from device_drivers.scan_rules import Rejection, RejectReason, ScanRules
from floor_app.domain.symbology import Symbology

pytestmark = pytest.mark.unit


def test_fake_scanner_delivers_scans_with_aim() -> None:
    scanner = FakeScanner()
    got: list[Scan] = []
    scanner.on_scan(got.append)
    scanner.start()
    scanner.scan("0109501101530003", symbology=Symbology.GS1_128)
    assert got[0].aim == "]C1" and got[0].symbology is Symbology.GS1_128
    assert scanner.counters.scans == 1


def test_fake_scanner_garbage_is_rejected_and_reported() -> None:
    scanner = FakeScanner(rules=ScanRules(symbologies=frozenset({Symbology.EAN13})))
    changes: list[StateChange[ScannerState]] = []
    scanner.on_state_change(changes.append)
    got: list[Scan] = []
    scanner.on_scan(got.append)
    scanner.start()
    result = scanner.scan_bytes(b"\x00\xff\x13garbage")
    assert isinstance(result, Rejection) and result.reason is RejectReason.GARBAGE
    wrong = scanner.scan("]Q1hello")
    assert isinstance(wrong, Rejection) and wrong.reason is RejectReason.WRONG_SYMBOLOGY
    assert got == [] and scanner.counters.rejected_total == 2
    assert "wrong_symbology" in scanner.last_error
    assert changes[-1].error == scanner.last_error


def test_fake_scanner_unplugged_loses_the_scan_and_says_so() -> None:
    scanner = FakeScanner()
    got: list[Scan] = []
    scanner.on_scan(got.append)
    scanner.start()
    scanner.unplug()
    assert scanner.scan("T0901") is None and scanner.lost == ["T0901"]
    assert scanner.state is ScannerState.DISCONNECTED
    scanner.replug()
    scanner.scan("T0902")
    assert [s.text for s in got] == ["T0902"]


def test_fake_scanner_slow_delivers_from_another_thread() -> None:
    scanner = FakeScanner()
    arrived = threading.Event()
    scanner.on_scan(lambda s: arrived.set())
    scanner.start()
    scanner.slow(0.05)
    scanner.scan("T0901")
    assert arrived.wait(5.0)


def test_fake_camera_dedupes_within_its_window() -> None:
    camera = FakeCamera(dedupe_window_s=2.0)
    camera.start()
    assert camera.show("T0901", now=10.0) is not None
    assert camera.show("T0901", now=11.0) is None
    assert camera.show("T0901", now=12.5) is not None
    camera.empty_frames(3)
    assert camera.state is CameraState.READY and "3 empty frames" in camera.last_error
    camera.unplug()
    assert camera.show("T0902") is None and camera.state is CameraState.DISCONNECTED


def test_fake_printer_never_prints_a_job_twice() -> None:
    printer = FakePrinter()
    printer.start()
    job = PrintJob("evt-1", b"^XA^XZ")
    assert printer.print_job(job).printed
    again = printer.print_job(job)
    assert again.duplicate and len(printer.printed) == 1


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        ("paper_out", PrinterState.PAPER_OUT),
        ("head_open", PrinterState.HEAD_OPEN),
        ("unplug", PrinterState.DISCONNECTED),
    ],
)
def test_fake_printer_faults_fail_the_job_with_a_state(fault: str, state: PrinterState) -> None:
    printer = FakePrinter()
    printer.start()
    getattr(printer, fault)()
    result = printer.print_job(PrintJob("evt-2", b"^XA^XZ"))
    assert not result.printed and result.error and printer.state is state
    assert printer.printed == []


def test_fake_printer_that_never_answers_and_transient_failure() -> None:
    printer = FakePrinter()
    printer.start()
    printer.never_answers()
    assert not printer.print_job(PrintJob("evt-3", b"x")).printed
    assert "~HS" in printer.last_error
    printer.never_answers(False)
    printer.fail_next()
    assert not printer.print_job(PrintJob("evt-3", b"x")).printed
    assert printer.print_job(PrintJob("evt-3", b"x")).printed  # the retry prints once
    assert len(printer.printed) == 1
    printer.paper_out()
    printer.paper_out(False)
    assert printer.state is PrinterState.READY
