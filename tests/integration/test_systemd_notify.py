"""hub.systemd_notify: the sd_notify datagrams the hub sends, read from a real socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.systemd_notify import ServiceNotifier, send_notification, watchdog_interval_s

pytestmark = pytest.mark.integration


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def lines(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    assert data.endswith("\n")
    return dict(line.split("=", 1) for line in data.splitlines())


def test_ready_status_watchdog_and_stopping(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    now = [100.0]
    notifier = ServiceNotifier(path, 30.0, clock=lambda: now[0])
    assert notifier.enabled and notifier.ping_every_s == 15.0
    assert notifier.ready("serving site dc1")
    ready = lines(sock)
    assert ready["READY"] == "1" and ready["STATUS"] == "serving site dc1"
    assert ready["MAINPID"] == str(os.getpid())
    now[0] += 5
    assert not notifier.ping_if_due()  # too early: nothing sent
    now[0] += 11
    assert notifier.ping_if_due()
    assert lines(sock) == {"WATCHDOG": "1"}
    assert notifier.status("applied 10 events\nlast from hh-01")
    assert lines(sock) == {"STATUS": "applied 10 events last from hh-01"}
    assert notifier.stopping("bye")
    assert lines(sock) == {"STOPPING": "1", "STATUS": "bye"}
    assert notifier.watchdog_trigger("event loop stuck")
    assert lines(sock)["WATCHDOG"] == "trigger"


def test_abstract_namespace_socket() -> None:
    name = f"floor-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        assert send_notification({"READY": 1}, socket_path="@" + name)
        assert sock.recv(100) == b"READY=1\n"
    finally:
        sock.close()


def test_outside_systemd_everything_is_a_quiet_no_op() -> None:
    notifier = ServiceNotifier.from_environment({})
    assert not notifier.enabled
    assert not notifier.ready() and not notifier.ping_if_due() and not notifier.stopping()
    assert notifier.sent == 0


def test_a_vanished_socket_does_not_break_the_service(tmp_path: Path) -> None:
    notifier = ServiceNotifier(str(tmp_path / "gone.sock"), 10.0)
    assert notifier.ready() is False and notifier.ping() is False


def test_watchdog_environment() -> None:
    me = str(os.getpid())
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": me}) == 30.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "abc"}) is None
    assert watchdog_interval_s({}) is None


def test_bad_field_name_is_refused(notify_socket: tuple[socket.socket, str]) -> None:
    _, path = notify_socket
    with pytest.raises(ValueError, match="invalid sd_notify field"):
        send_notification({"A=B": 1}, socket_path=path)


def test_a_child_process_reads_the_environment_like_under_systemd(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    code = (
        "from hub.systemd_notify import ServiceNotifier as N\n"
        "n = N.from_environment()\n"
        "assert n.watchdog_s == 2.0, n.watchdog_s\n"
        "n.ready('up'); n.ping()\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert lines(sock)["READY"] == "1"
    assert lines(sock) == {"WATCHDOG": "1"}
