"""The label printer over raw TCP against a loopback Zebra simulator: status before and
after, paper out, head open, a printer that accepts the connection and never answers, a
printer that is not there, retries, and never printing a job twice (also after a restart)."""

from __future__ import annotations

import socket
import time
from datetime import date
from pathlib import Path

import pytest
from zebra_sim import ZebraSimulator

from device_drivers.base import PrinterState, PrintJob
from device_drivers.config import PrinterConfig
from device_drivers.labels import ShippingLabel, render
from device_drivers.printer import build_printer
from floor_app.domain.labelling import ParcelFacts
from floor_app.domain.order import Address, Order, OrderLine

pytestmark = pytest.mark.integration


def label() -> bytes:
    order = Order(
        "SO-100077",
        [OrderLine(1, "SKU-1", 1)],
        Address("李雷", ("徐汇区漕溪北路88号",), "上海市", "200030", "CN"),
        carrier="SF Express",
    )
    sender = Address("Floor DC1", ("Unit 4",), "Leeds", "LS10 1AB", "GB")
    parcel = ParcelFacts(sender=sender, weight_g=800, ship_date=date(2026, 11, 25))
    return render(ShippingLabel.for_order(order, parcel), png=False).zpl


def config(port: int, **overrides: object) -> PrinterConfig:
    settings: dict[str, object] = {
        "transport": "tcp",
        "host": "127.0.0.1",
        "port": port,
        "status_timeout_s": 0.5,
        "connect_timeout_s": 0.5,
        "retries": 1,
        "retry_backoff_s": 0.05,
        **overrides,
    }
    return PrinterConfig.model_validate(settings)


def test_prints_a_label_with_status_before_and_after() -> None:
    data = label()
    with ZebraSimulator() as zebra:
        printer = build_printer("printer", config(zebra.port))
        result = printer.print_job(PrintJob("01HJOB0001", data, "TRK0001000770009"))
        assert result.printed and not result.duplicate
        assert result.status is not None and result.status.ok
        assert zebra.status_queries == 2
        deadline = time.monotonic() + 5
        while not zebra.labels and time.monotonic() < deadline:
            time.sleep(0.01)
        assert zebra.labels == [data]
        assert printer.state is PrinterState.READY


def test_start_asks_the_status() -> None:
    with ZebraSimulator() as zebra:
        zebra.paused = True
        printer = build_printer("printer", config(zebra.port))
        printer.start()
        deadline = time.monotonic() + 5
        while printer.state is not PrinterState.PAUSED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert printer.state is PrinterState.PAUSED
        printer.stop()
        assert printer.state is PrinterState.STOPPED


def test_paper_out_prints_nothing_and_says_so() -> None:
    with ZebraSimulator() as zebra:
        zebra.paper_out = True
        printer = build_printer("printer", config(zebra.port))
        result = printer.print_job(PrintJob("01HJOB0002", label()))
        assert not result.printed
        assert "paper out" in result.error and "2 attempts" in result.error
        assert printer.state is PrinterState.PAPER_OUT
        assert zebra.labels == []
        zebra.paper_out = False  # a new roll: the same job prints now, once
        assert printer.print_job(PrintJob("01HJOB0002", label())).printed
        assert printer.state is PrinterState.READY


def test_head_open_is_its_own_state() -> None:
    with ZebraSimulator() as zebra:
        zebra.head_open = True
        printer = build_printer("printer", config(zebra.port, retries=0))
        result = printer.print_job(PrintJob("01HJOB0003", label()))
        assert not result.printed and "head open" in result.error
        assert printer.state is PrinterState.HEAD_OPEN


def test_a_printer_that_accepts_the_connection_and_never_answers() -> None:
    with ZebraSimulator() as zebra:
        zebra.silent = True
        printer = build_printer("printer", config(zebra.port, retries=1))
        started = time.monotonic()
        result = printer.print_job(PrintJob("01HJOB0004", label()))
        elapsed = time.monotonic() - started
        assert not result.printed
        assert "no status reply within 0.5 s" in result.error
        assert printer.state is PrinterState.ERROR
        assert elapsed < 10  # two timeouts and a backoff, not a hang
        assert zebra.connections == 2  # asked twice, never sent the label
        assert zebra.labels == []


def test_a_printer_that_is_not_there() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    printer = build_printer("printer", config(port, retries=0))
    result = printer.print_job(PrintJob("01HJOB0005", label()))
    assert not result.printed and "cannot connect to printer 127.0.0.1" in result.error
    assert printer.state is PrinterState.DISCONNECTED
    status = printer.query_status()
    assert status.raw == "" and printer.state is PrinterState.DISCONNECTED


def test_a_failed_job_is_retried_until_the_printer_is_back() -> None:
    with ZebraSimulator() as zebra:
        zebra.head_open = True
        printer = build_printer("printer", config(zebra.port, retries=5, retry_backoff_s=0.05))
        states: list[PrinterState] = []
        printer.on_state_change(lambda change: states.append(change.new))

        import threading

        def close_head() -> None:
            time.sleep(0.2)
            zebra.head_open = False

        threading.Thread(target=close_head).start()
        result = printer.print_job(PrintJob("01HJOB0006", label()))
        assert result.printed
        assert states[0] is PrinterState.HEAD_OPEN and states[-1] is PrinterState.READY
        assert PrinterState.PRINTING in states
        deadline = time.monotonic() + 5  # the simulator reads the job on its own thread
        while not zebra.labels and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(zebra.labels) == 1


def test_never_twice_even_after_a_restart(tmp_path: Path) -> None:
    data = label()
    with ZebraSimulator() as zebra:
        first = build_printer("printer", config(zebra.port), state_dir=tmp_path)
        assert first.print_job(PrintJob("01HJOB0007", data)).printed
        assert first.print_job(PrintJob("01HJOB0007", data)).duplicate
        first.stop()
        restarted = build_printer("printer", config(zebra.port), state_dir=tmp_path)
        again = restarted.print_job(PrintJob("01HJOB0007", data))
        assert again.printed and again.duplicate
        assert restarted.print_job(PrintJob("01HJOB0008", data)).printed
        deadline = time.monotonic() + 5
        while len(zebra.labels) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(zebra.labels) == 2
    assert (tmp_path / "printed-jobs-printer.txt").read_text().split() == [
        "01HJOB0007",
        "01HJOB0008",
    ]
