"""floor_app.logs to the journal's native socket (a real AF_UNIX datagram socket) or a file."""

from __future__ import annotations

import json
import logging
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from floor_app.logs import journal_send, log_context, setup_logging

pytestmark = pytest.mark.integration


def parse_native(data: bytes) -> dict[str, str]:
    """Decode the journal's native datagram format (both the short and the binary form)."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            fields[key.decode()] = value.decode()
            i = nl + 1
        else:
            (size,) = struct.unpack("<Q", data[nl + 1 : nl + 9])
            fields[line.decode()] = data[nl + 9 : nl + 9 + size].decode()
            assert data[nl + 9 + size : nl + 10 + size] == b"\n"
            i = nl + 10 + size
    return fields


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "journal.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def test_records_reach_the_journal_with_floor_fields(journal: tuple[socket.socket, str]) -> None:
    sock, path = journal
    handler = setup_logging(
        "floor-app", "info", json=True, target="journal", journal_socket=path, device="hh-07"
    )
    try:
        with log_context(user="alice", order="SO-1001", event_id="01J0EVT"):
            logging.getLogger("floor.picking").warning("short pick password=%s", "s3cret")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("floor.ui").exception("screen failed")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    first = parse_native(sock.recv(65536))
    assert first["SYSLOG_IDENTIFIER"] == "floor-app" and first["PRIORITY"] == "4"
    assert (first["FLOOR_DEVICE"], first["FLOOR_USER"], first["FLOOR_ORDER"]) == (
        "hh-07",
        "alice",
        "SO-1001",
    )
    assert first["FLOOR_EVENT_ID"] == "01J0EVT" and first["LOGGER"] == "floor.picking"
    message = json.loads(first["MESSAGE"])
    assert message["msg"] == "short pick password=***"
    assert "s3cret" not in str(first)
    second = parse_native(sock.recv(65536))
    assert second["PRIORITY"] == "3"
    assert "Traceback" in second["MESSAGE"] and "RuntimeError: boom" in second["MESSAGE"]


def test_without_a_journal_the_app_logs_to_its_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "floor-app.log"
    handler = setup_logging(
        "floor-app",
        "info",
        json=True,
        target="journal",
        journal_socket=str(tmp_path / "no-journal.sock"),
        file=log_file,
    )
    try:
        logging.getLogger("floor.ui").info("badge %s scanned", "B1001")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    (line,) = log_file.read_text().splitlines()
    record = json.loads(line)
    assert record["msg"] == "badge B*** scanned" and record["service"] == "floor-app"
    assert log_file.stat().st_mode & 0o007 == 0  # not world-readable


def test_a_startup_error_goes_straight_to_the_journal(
    journal: tuple[socket.socket, str], tmp_path: Path
) -> None:
    sock, path = journal
    assert journal_send(
        "floor-app", "config file /etc/floor/floor.toml: password=x1", socket_path=path
    )
    fields = parse_native(sock.recv(65536))
    assert fields == {
        "MESSAGE": "config file /etc/floor/floor.toml: password=***",
        "PRIORITY": "3",
        "SYSLOG_IDENTIFIER": "floor-app",
    }
    assert not journal_send("floor-app", "x", socket_path=str(tmp_path / "none.sock"))
