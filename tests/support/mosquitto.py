"""A real Mosquitto broker for tests: free loopback port, generated config, stop/kill/restart.

Usage::

    from support.mosquitto import MosquittoBroker

    with MosquittoBroker(tmp_path / "broker") as broker:
        client.connect(broker.host, broker.port)
        broker.kill()          # SIGKILL, as a crash would
        broker.start()         # same port, same persistence file

The config turns persistence on and raises ``max_queued_messages`` (Mosquitto's default of
1000 per client drops QoS 1 messages for a slow subscriber).
Optional settings: a password file (``users``), an ACL file (``acl``), and TLS
(``tls=make_test_tls(folder)``), each written into the broker's own folder.

Pytest fixtures (import them into a conftest.py of your test folder)::

    from support.mosquitto import mosquitto_broker  # noqa: F401
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

MOSQUITTO = os.environ.get("FLOOR_MOSQUITTO", "/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def mosquitto_available() -> bool:
    """True when the broker binary exists here."""
    return Path(MOSQUITTO).is_file() and os.access(MOSQUITTO, os.X_OK)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """Wait until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A test CA and a server certificate signed by it (PEM files)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_test_tls(folder: Path, common_name: str = "127.0.0.1") -> TlsFiles:
    """Create a throwaway CA and a server certificate for ``common_name`` with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = folder / "ca.key", folder / "ca.crt"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "server.ext"
    ext.write_text(f"subjectAltName=IP:{common_name},DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=floor test CA",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_cert),
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={common_name}",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_cert),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(cert),
    )
    return TlsFiles(ca_cert, cert, key)


class MosquittoBroker:
    """One Mosquitto process on loopback, with its config, persistence and log in ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        persistence: bool = True,
        autosave_interval: int = 1,
        max_queued_messages: int = 1_000_000,
        max_inflight_messages: int = 0,
        message_size_limit: int = 1024 * 1024,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        allow_anonymous: bool | None = None,
        extra_config: str = "",
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.persistence = persistence
        self.autosave_interval = autosave_interval
        self.max_queued_messages = max_queued_messages
        self.max_inflight_messages = max_inflight_messages
        self.message_size_limit = message_size_limit
        self.users = users
        self.acl = acl
        self.tls = tls
        self.require_certificate = require_certificate
        self.allow_anonymous = allow_anonymous if allow_anonymous is not None else users is None
        self.extra_config = extra_config
        self.config_path = self.folder / "mosquitto.conf"
        self.log_path = self.folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``mqtt://host:port`` (``mqtts://`` with TLS)."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self.process is not None and self.process.poll() is None

    def write_config(self) -> Path:
        """Write ``mosquitto.conf`` (and the password and ACL files) into the folder."""
        lines = [
            f"listener {self.port} {self.host}",
            "set_tcp_nodelay true",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.folder}/",
            "persistence_file mosquitto.db",
            f"autosave_interval {self.autosave_interval}",
            f"max_queued_messages {self.max_queued_messages}",
            "max_queued_bytes 0",
            f"max_inflight_messages {self.max_inflight_messages}",
            f"message_size_limit {self.message_size_limit}",
            "persistent_client_expiration 1d",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
        ]
        if os.geteuid() == 0:
            lines.append(f"user {getpass.getuser()}")
        if self.users is not None:
            pw = self.folder / "passwd"
            pw.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(pw), user, password],
                    check=True,
                    capture_output=True,
                )
            pw.chmod(0o600)
            lines.append(f"password_file {pw}")
        if self.acl is not None:
            acl = self.folder / "acl"
            acl.write_text(self.acl)
            acl.chmod(0o600)
            lines.append(f"acl_file {acl}")
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca_cert}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
                f"require_certificate {'true' if self.require_certificate else 'false'}",
            ]
            if self.require_certificate:
                lines.append("use_identity_as_username true")
        if self.extra_config:
            lines.append(self.extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        """Start (or start again, on the same port) and wait until it accepts connections."""
        if self.running:
            return self
        if not mosquitto_available():
            raise RuntimeError(f"the Mosquitto broker binary {MOSQUITTO} is not installed")
        self.write_config()
        deadline = time.monotonic() + timeout
        while True:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config_path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if wait_for_port(
                self.host, self.port, timeout=max(0.5, min(3.0, deadline - time.monotonic()))
            ):
                self.starts += 1
                return self
            # the port may still be held by the process we killed a moment ago: try again
            self._terminate(signal.SIGKILL)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"mosquitto did not start on port {self.port}; log:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (SIGTERM): Mosquitto saves its persistence file on the way out."""
        self._terminate(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill with SIGKILL, as a crash or power loss would (unsaved state is lost)."""
        self._terminate(signal.SIGKILL)

    def restart(self, *, hard: bool = False, down_for: float = 0.0) -> None:
        """Stop (or kill, with ``hard``), stay down ``down_for`` seconds, start on the same port."""
        if hard:
            self.kill()
        else:
            self.stop()
        if down_for:
            time.sleep(down_for)
        self.start()

    def _terminate(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the broker's log (for assertion messages)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


def require_mosquitto() -> None:
    """Skip the calling test, saying what is missing, when the broker binary is not installed."""
    if not mosquitto_available():
        pytest.skip(
            f"needs the Mosquitto broker binary at {MOSQUITTO} (Debian package 'mosquitto')"
        )


@pytest.fixture
def mosquitto_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A started broker on a free loopback port, killed at the end of the test."""
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[type[MosquittoBroker]]:
    """Build brokers with custom settings: ``mosquitto_factory(folder, users=..., acl=...)``.

    Every broker made through it is killed at the end of the test.
    """
    require_mosquitto()
    made: list[MosquittoBroker] = []

    class _Tracked(MosquittoBroker):
        def __init__(self, folder: Path | None = None, **kwargs: object) -> None:
            super().__init__(folder or tmp_path / f"mosquitto-{len(made)}", **kwargs)  # type: ignore[arg-type]
            made.append(self)

    try:
        yield _Tracked
    finally:
        for broker in made:
            broker.kill()
