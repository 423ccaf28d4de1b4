"""Tell systemd how a service is doing: ``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, ``STATUS=``.

This is the sd_notify protocol in plain socket code (no dependency): one datagram of
``KEY=VALUE`` lines to the ``AF_UNIX`` socket named by ``$NOTIFY_SOCKET`` (a leading ``@``
means the Linux abstract namespace). Outside systemd the variable is unset and every call is
a no-op that returns ``False``, so the hub runs the same way from a terminal.

``floor-hub.service`` is ``Type=notify`` with ``WatchdogSec=``: the hub must say
:meth:`ServiceNotifier.ready` once it is connected and serving, then call
:meth:`ServiceNotifier.ping_if_due` from its main loop (the loop that applies events, so a
hung loop stops the pings and systemd restarts the hub), and :meth:`ServiceNotifier.stopping`
on a clean shutdown::

    notifier = ServiceNotifier.from_environment()
    ...  # open the database, connect to the broker, subscribe
    notifier.ready("serving site dc1")
    while running:
        handle_one_batch_or_timeout()      # must return at least every few seconds
        notifier.ping_if_due()
    notifier.stopping()
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"


def _address(path: str) -> str:
    return "\0" + path[1:] if path.startswith("@") else path


def send_notification(fields: Mapping[str, str | int], *, socket_path: str | None = None) -> bool:
    """Send one notification; ``True`` when it was sent, ``False`` outside systemd.

    An unreachable socket is not an error for the service (systemd may be restarting): it
    returns ``False`` and the caller goes on.
    """
    path = socket_path if socket_path is not None else os.environ.get(NOTIFY_SOCKET_ENV, "")
    if not path:
        return False
    for key in fields:
        if not key or "=" in key or "\n" in key:
            raise ValueError(f"invalid sd_notify field name {key!r}")
    payload = "".join(f"{key}={value}\n" for key, value in fields.items()).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(payload, _address(path))
    except OSError:
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """The ``WatchdogSec=`` systemd gave this process, in seconds, or ``None`` if none.

    ``WATCHDOG_PID`` (when set) must be this process: a child must not ping for its parent.
    """
    env = os.environ if environ is None else environ
    usec = env.get(WATCHDOG_USEC_ENV, "")
    if not usec:
        return None
    pid = env.get(WATCHDOG_PID_ENV, "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


class ServiceNotifier:
    """The hub's line to systemd: ready, watchdog pings at half the watchdog period, stopping."""

    def __init__(
        self,
        socket_path: str | None,
        watchdog_s: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.socket_path = socket_path or None
        self.watchdog_s = watchdog_s
        self._clock = clock
        self._last_ping: float | None = None
        self.sent = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier:
        """Read ``$NOTIFY_SOCKET`` and ``$WATCHDOG_USEC`` (as systemd sets them)."""
        env = os.environ if environ is None else environ
        return cls(env.get(NOTIFY_SOCKET_ENV) or None, watchdog_interval_s(env))

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notify socket."""
        return self.socket_path is not None

    @property
    def ping_every_s(self) -> float | None:
        """How often to ping: half the watchdog period (systemd's own advice)."""
        return self.watchdog_s / 2 if self.watchdog_s else None

    def _send(self, fields: Mapping[str, str | int]) -> bool:
        if self.socket_path is None:
            return False
        ok = send_notification(fields, socket_path=self.socket_path)
        self.sent += int(ok)
        return ok

    def ready(self, status: str = "") -> bool:
        """``READY=1`` (and a status line): start-up is complete."""
        fields: dict[str, str | int] = {"READY": 1, "MAINPID": os.getpid()}
        if status:
            fields["STATUS"] = status
        ok = self._send(fields)
        self._last_ping = self._clock()
        return ok

    def status(self, text: str) -> bool:
        """``STATUS=...``: one line shown by ``systemctl status``."""
        return self._send({"STATUS": text.replace("\n", " ")})

    def ping(self) -> bool:
        """``WATCHDOG=1`` now."""
        self._last_ping = self._clock()
        return self._send({"WATCHDOG": 1})

    def ping_if_due(self) -> bool:
        """``WATCHDOG=1`` if half the watchdog period has passed since the last one."""
        every = self.ping_every_s
        if every is None or self.socket_path is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < every:
            return False
        return self.ping()

    def stopping(self, status: str = "") -> bool:
        """``STOPPING=1``: a clean shutdown has begun."""
        fields: dict[str, str | int] = {"STOPPING": 1}
        if status:
            fields["STATUS"] = status
        return self._send(fields)

    def watchdog_trigger(self, reason: str) -> bool:
        """``WATCHDOG=trigger``: ask systemd to restart now (the hub knows it is stuck)."""
        return self._send({"WATCHDOG": "trigger", "STATUS": reason.replace("\n", " ")})
