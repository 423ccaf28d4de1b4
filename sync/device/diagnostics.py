"""What the parts of the sync agent count, and its last error, for its status and heartbeat.

Bad input from the broker is counted by ``"<topic>.<code>"``, logged, and dead-lettered
with the reason; other things worth knowing (resends asked, push gaps, stale wills ...)
are counted apart. Thread-safe: the agent thread writes, status readers read.
"""

from __future__ import annotations

import collections
import logging
import threading

from sync.mqtt import MqttLink
from sync.protocol import DeadLetter, ProtocolError, Topics, encode

log = logging.getLogger("floor.sync.device")


class Diagnostics:
    """Counts, the last error, and the dead-letter topic of one device's sync."""

    def __init__(self, link: MqttLink, topics: Topics, device_id: str) -> None:
        self.link = link
        self.topics = topics
        self.device_id = device_id
        self._lock = threading.Lock()
        self._bad: collections.Counter[str] = collections.Counter()
        self._counters: collections.Counter[str] = collections.Counter()
        self._last_error = ""

    @property
    def last_error(self) -> str:
        """The last thing that went wrong ("" once the link is up again)."""
        with self._lock:
            return self._last_error

    def bad_input_counts(self) -> dict[str, int]:
        """Bad input received, by ``"<topic>.<code>"``."""
        with self._lock:
            return dict(self._bad)

    def counters(self) -> dict[str, int]:
        """Other things counted (and the link's failed callbacks, as ``callback_error``)."""
        with self._lock:
            out = dict(self._counters)
        if self.link.callback_errors:
            out["callback_error"] = self.link.callback_errors
        return out

    def count(self, name: str, n: int = 1) -> None:
        """Count one piece of bad input (reported in status and heartbeat)."""
        with self._lock:
            self._bad[name] += n

    def note(self, name: str, n: int = 1) -> None:
        """Count one event worth knowing that is not bad input (resends, gaps ...)."""
        with self._lock:
            self._counters[name] += n

    def error(self, text: str, *, logged: bool = False) -> None:
        """Keep ``text`` as the last error (and log it unless it was ``logged`` already)."""
        with self._lock:
            self._last_error = text
        if not logged:
            log.info("sync %s: %s", self.device_id, text)

    def clear_error(self) -> None:
        """Nothing is wrong (the link is up)."""
        with self._lock:
            self._last_error = ""

    def bad_input(self, where: str, topic: str, payload: bytes, error: ProtocolError) -> None:
        """Count, log and dead-letter a message that failed validation."""
        self.count(f"{where}.{error.code}")
        log.warning("sync %s: bad %s message: %s", self.device_id, where, error.reason)
        self.dead_letter(topic, payload, error)

    def dead_letter(self, topic: str, payload: bytes, error: ProtocolError) -> None:
        """Publish ``payload`` with the reason on this device's dead-letter topic."""
        letter = DeadLetter.about(self.device_id, topic, payload, error, device_id=self.device_id)
        self.link.publish(self.topics.device_dlq(self.device_id), encode(letter), qos=1)
