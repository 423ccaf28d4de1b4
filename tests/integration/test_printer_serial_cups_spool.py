"""The label printer over its other transports: a serial line (a pseudo-terminal answering
``~HS``), a spool folder (files written whole, never twice, surviving a restart) and a CUPS
raw queue (a fake ``lp`` on PATH that records what it is given)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from drivers_pty import PtyDevice, wait_for

from device_drivers.base import PrinterState, PrintJob
from device_drivers.config import PrinterConfig
from device_drivers.printer import build_printer, host_status_reply

pytestmark = pytest.mark.integration

LABEL = b"^XA^CI28^FO50,50^BCN,100,N,N,N,N^FD>:TRK0001000010006^FS^XZ\n"


class SerialZebra:
    """A printer on the far end of a pty: answers ~HS, keeps the rest."""

    def __init__(self) -> None:
        self.device = PtyDevice()
        self.paper_out = False
        self.silent = False
        self.received = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            data = self.device.read(timeout=0.05, until=b"\n")
            if not data:
                continue
            if b"~HS" in data:
                if not self.silent:
                    self.device.write(host_status_reply(paper_out=self.paper_out))
                data = data.replace(b"~HS\r\n", b"")
            self.received += data

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.device.unplug()


def test_serial_printer_prints_and_reads_status() -> None:
    zebra = SerialZebra()
    try:
        printer = build_printer(
            "printer",
            PrinterConfig(
                transport="serial",
                serial_port=zebra.device.path,
                status_timeout_s=1,
                retry_backoff_s=0.01,
            ),
        )
        result = printer.print_job(PrintJob("01HSER0001", LABEL))
        assert result.printed and result.status is not None and result.status.ok
        assert wait_for(lambda: LABEL in zebra.received)
        zebra.paper_out = True
        refused = printer.print_job(PrintJob("01HSER0002", LABEL))
        assert not refused.printed and printer.state is PrinterState.PAPER_OUT
        zebra.silent = True
        printer.retries = 0
        silent = printer.print_job(PrintJob("01HSER0003", LABEL))
        assert "no status reply within 1 s" in silent.error
        printer.stop()
    finally:
        zebra.close()


def test_serial_printer_unplugged_is_disconnected(tmp_path: Path) -> None:
    printer = build_printer(
        "printer",
        PrinterConfig(transport="serial", serial_port=str(tmp_path / "by-id" / "zebra"), retries=0),
    )
    result = printer.print_job(PrintJob("01HSER0004", LABEL))
    assert not result.printed and "does not exist" in result.error
    assert printer.state is PrinterState.DISCONNECTED


def spool_config(folder: Path) -> PrinterConfig:
    return PrinterConfig(transport="spool", spool_dir=folder, retries=0)


def test_spool_writes_each_job_whole_once_and_survives_a_restart(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    printer = build_printer("printer", spool_config(spool))
    printer.start()
    assert wait_for(lambda: printer.state is PrinterState.READY)
    assert printer.print_job(PrintJob("01HSPL0001", LABEL)).printed
    assert printer.print_job(PrintJob("01HSPL0001", b"^XA^XZ")).duplicate
    assert (spool / "01HSPL0001.zpl").read_bytes() == LABEL
    assert sorted(p.name for p in spool.iterdir()) == [".printed-jobs", "01HSPL0001.zpl"]
    printer.stop()
    (spool / "01HSPL0001.zpl").unlink()  # the print server took it
    restarted = build_printer("printer", spool_config(spool))
    assert restarted.print_job(PrintJob("01HSPL0001", LABEL)).duplicate
    assert not (spool / "01HSPL0001.zpl").exists()


def test_spool_job_ids_become_safe_file_names(tmp_path: Path) -> None:
    printer = build_printer("printer", spool_config(tmp_path))
    assert printer.print_job(PrintJob("../../etc/passwd", LABEL)).printed
    [written] = [p for p in tmp_path.iterdir() if p.suffix == ".zpl"]
    assert written.parent == tmp_path
    assert "etc_passwd-" in written.name and not written.name.startswith(".")


def test_a_torn_last_line_in_the_printed_jobs_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / ".printed-jobs").write_bytes(b"01HSPL0009\n01HSPL00\x00")
    printer = build_printer("printer", spool_config(tmp_path))
    assert printer.print_job(PrintJob("01HSPL0009", LABEL)).duplicate
    assert printer.print_job(PrintJob("01HSPL0010", LABEL)).printed


def test_spool_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("not a folder")
    printer = build_printer("printer", spool_config(blocker))
    result = printer.print_job(PrintJob("01HSPL0012", LABEL))
    assert not result.printed and str(blocker) in result.error
    assert printer.state in (PrinterState.ERROR, PrinterState.DISCONNECTED)


def fake_cups(bin_dir: Path, *, lp_exit: int = 0, queue_state: str = "idle") -> Path:
    """``lp`` and ``lpstat`` scripts that record their arguments and input."""
    bin_dir.mkdir(exist_ok=True)
    record = bin_dir / "lp-calls"
    lp = bin_dir / "lp"
    lp.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{record}"\n'
        f'cat >> "{record}.data"\n'
        f"if [ {lp_exit} -ne 0 ]; then echo 'lp: The printer or class does not exist.' >&2;"
        f" exit {lp_exit}; fi\n"
        "echo 'request id is zebra-7 (1 file(s))'\n"
    )
    lpstat = bin_dir / "lpstat"
    lpstat.write_text(
        f'#!/bin/sh\necho "printer $2 is {queue_state}.  enabled since Wed 25 Nov 2026"\n'
    )
    for script in (lp, lpstat):
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return record


def cups_config() -> PrinterConfig:
    return PrinterConfig(transport="cups", cups_queue="zebra", retries=1, retry_backoff_s=0.01)


def test_cups_raw_queue_through_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = fake_cups(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    printer = build_printer("printer", cups_config())
    result = printer.print_job(PrintJob("01HCUP0001", LABEL, "TRK0001000010006"))
    assert result.printed
    assert record.read_text() == "-d zebra -o raw -t TRK0001000010006 -\n"
    assert Path(f"{record}.data").read_bytes() == LABEL
    assert printer.print_job(PrintJob("01HCUP0001", LABEL)).duplicate
    assert record.read_text().count("\n") == 1


def test_cups_refusal_is_retried_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_cups(tmp_path / "bin", lp_exit=1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    printer = build_printer("printer", cups_config())
    result = printer.print_job(PrintJob("01HCUP0002", LABEL))
    assert not result.printed
    assert "lp refused the job for zebra: lp: The printer or class does not exist." in result.error
    assert record.read_text().count("\n") == 2  # tried, then retried once
    assert printer.state is PrinterState.ERROR


def test_cups_disabled_queue_is_paused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cups(tmp_path / "bin", queue_state="disabled")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    printer = build_printer("printer", cups_config())
    assert printer.query_status().paused
    assert printer.state is PrinterState.PAUSED


def test_cups_without_lp_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    printer = build_printer("printer", cups_config())
    result = printer.print_job(PrintJob("01HCUP0003", LABEL))
    assert not result.printed and "cups-client" in result.error
    assert printer.state is PrinterState.DISCONNECTED
