"""The demo site's private Mosquitto: found on this machine, on a free loopback port, with
its config, persistence and log in the demo's state folder.

``$FLOOR_MOSQUITTO`` names the broker binary (empty: none); otherwise ``mosquitto`` on
``PATH``, then ``/usr/sbin`` and ``/usr/local/sbin`` (Debian installs it in ``/usr/sbin``,
which is not on a user's ``PATH``).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO_ENV = "FLOOR_MOSQUITTO"
SBIN = ("/usr/sbin", "/usr/local/sbin")


def find_mosquitto() -> Path | None:
    """The Mosquitto broker binary, or None when it is not installed."""
    named = os.environ.get(MOSQUITTO_ENV)
    if named is not None:
        path = Path(named)
        return path if named and path.is_file() and os.access(path, os.X_OK) else None
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    found = shutil.which("mosquitto", path=search)
    return Path(found) if found else None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def accepts(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class PrivateBroker:
    """One Mosquitto on loopback for the demo site, its files in ``folder``."""

    binary: Path
    folder: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        """The generated ``mosquitto.conf``."""
        return self.folder / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        """Where the broker logs."""
        return self.folder / "mosquitto.log"

    def write_config(self) -> Path:
        """Write ``mosquitto.conf``: this port only, anonymous clients (loopback), sessions and
        retained messages persisted in the folder, no per-client queue limit to speak of."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.folder}/",
            "persistence_file mosquitto.db",
            "autosave_interval 5",
            "max_queued_messages 100000",
            "persistent_client_expiration 7d",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages true",
        ]
        if os.geteuid() == 0:  # as root Mosquitto would switch to a 'mosquitto' user
            lines.append(f"user {getpass.getuser()}")
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def command(self) -> list[str]:
        """The command line that runs this broker."""
        return [str(self.binary), "-c", str(self.config_path)]
