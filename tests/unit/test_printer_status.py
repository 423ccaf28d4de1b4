"""Parsing the Zebra ``~HS`` host status reply, and what each status means for the state."""

from __future__ import annotations

import pytest

from device_drivers.base import PrinterState, PrinterStatus
from device_drivers.printer import StatusReplyError, host_status_reply, parse_host_status, state_of
from device_drivers.printer.status import reply_complete

pytestmark = pytest.mark.unit

# A reply as a ZD420 sends it, paper out and paused, 2 formats waiting.
REAL = (
    b"\x02030,1,1,0812,002,0,0,0,000,0,0,0\x03\r\n"
    b"\x02000,0,0,0,1,2,6,0,00000000,1,000\x03\r\n"
    b"\x021234,0\x03\r\n"
)


def test_parse_a_real_reply() -> None:
    status = parse_host_status(REAL)
    assert status.paper_out and status.paused
    assert not status.head_open and not status.ribbon_out
    assert status.labels_queued == 2
    assert not status.ok
    assert "030,1,1" in status.raw


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"paper_out": True}, "paper_out"),
        ({"head_open": True}, "head_open"),
        ({"paused": True}, "paused"),
        ({"ribbon_out": True}, "ribbon_out"),
    ],
)
def test_each_flag(flags: dict[str, bool], field: str) -> None:
    status = parse_host_status(host_status_reply(**flags))
    assert getattr(status, field)
    assert sum(getattr(status, f) for f in ("paper_out", "head_open", "paused", "ribbon_out")) == 1


def test_an_ok_printer() -> None:
    assert parse_host_status(host_status_reply()).ok


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"", "0 of 3"),
        (REAL[:40], "without ETX"),
        (b"\x02030,1,1\x03\x02x\x03\x02y\x03", "fields"),
        (REAL.replace(b"030,1,1", b"030,7,1"), "paper out flag"),
        (REAL.replace(b",002,", b",0x2,"), "not a number"),
        (b"garbage without framing", "0 of 3"),
    ],
)
def test_bad_replies_are_clear_errors(reply: bytes, message: str) -> None:
    with pytest.raises(StatusReplyError, match=message):
        parse_host_status(reply)


def test_reply_complete_counts_three_strings() -> None:
    assert not reply_complete(REAL[:-10])
    assert reply_complete(REAL)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (PrinterStatus(), PrinterState.READY),
        (PrinterStatus(paper_out=True, head_open=True), PrinterState.PAPER_OUT),
        (PrinterStatus(head_open=True), PrinterState.HEAD_OPEN),
        (PrinterStatus(paused=True), PrinterState.PAUSED),
        (PrinterStatus(ribbon_out=True), PrinterState.ERROR),
    ],
)
def test_state_of(status: PrinterStatus, state: PrinterState) -> None:
    assert state_of(status)[0] is state
