"""KeyboardWedgeScanner: the wedge as a Scanner whose feed() the UI calls."""

from __future__ import annotations

import pytest

from device_drivers.base import Scan, ScannerState
from device_drivers.config import WedgeScannerConfig
from device_drivers.wedge import HumanKeys, KeyboardWedgeScanner, WedgeRejected

pytestmark = pytest.mark.unit


def test_scans_reach_listeners_and_keys_come_back() -> None:
    wedge = KeyboardWedgeScanner()
    got: list[Scan] = []
    wedge.on_scan(got.append)
    wedge.start()
    assert wedge.state is ScannerState.READY and not wedge.required
    t = 5.0
    for key in [*"]C1SO-100234", "enter"]:
        assert not [e for e in wedge.feed(key, t) if isinstance(e, HumanKeys)]
        t += 0.003
    assert [s.text for s in got] == ["SO-100234"]
    assert got[0].source == "wedge"
    assert wedge.counters.scans == 1
    events = wedge.feed("4", 9.0) + wedge.flush(9.5)
    assert events == [HumanKeys(("4",))]


def test_rejection_becomes_last_error_without_raising() -> None:
    wedge = KeyboardWedgeScanner(WedgeScannerConfig(name="desk-wedge"))
    wedge.start()
    t = 1.0
    for key in list("ABCDEFGH"):
        wedge.feed(key, t)
        t += 0.003
    events = wedge.flush(2.0)
    assert isinstance(events[0], WedgeRejected)
    assert "no_terminator" in wedge.last_error
    assert wedge.state is ScannerState.READY


def test_stopped_wedge_passes_typing_but_takes_no_scans() -> None:
    wedge = KeyboardWedgeScanner()
    got: list[Scan] = []
    wedge.on_scan(got.append)
    wedge.start()
    wedge.stop()
    assert wedge.state is ScannerState.STOPPED
    events = wedge.feed("1", 1.0) + wedge.flush(2.0)
    assert events == [HumanKeys(("1",))] and got == []


def test_deadline_tells_the_ui_when_to_flush() -> None:
    wedge = KeyboardWedgeScanner()
    wedge.start()
    assert wedge.deadline is None
    wedge.feed("x", 3.0)
    assert wedge.deadline is not None and wedge.deadline > 3.0
