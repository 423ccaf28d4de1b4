"""Structured logs for the floor's services: JSON lines for the journal, with no secrets in them.

``setup_logging(service, level, json)`` installs one handler on the root logger:

* ``target="stdout"`` (the hub, floor-sim, any service whose stdout systemd sends to the
  journal): one JSON object per line;
* ``target="journal"`` (the floor app, whose terminal belongs to Textual): the journal's
  native socket, with the context as journal fields (``FLOOR_DEVICE=`` ...), falling back
  to ``file`` when there is no journal;
* ``target="file"``: a size-rotated file.

Every record carries the service, the logger, and the floor context: device, user, order
and event id. The device (and site) are fixed per process (``setup_logging(..., device=)``);
user, order and event come from :func:`log_context`, which uses ``contextvars``, so the
fields follow the code that handles one scan or one event batch::

    with log_context(user="alice", order="SO-1001"):
        log.info("picked %d of %s", 2, sku)

A :class:`RedactionFilter` on the handler removes passwords, tokens, private keys, password
hashes, credentials in URLs and badge numbers from the message, the arguments, extra fields
and exception text before anything is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json as jsonlib
import logging
import logging.handlers
import os
import re
import socket
import struct
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TextIO

from floor_app.domain.codes import BADGE_RE

LogTarget = Literal["stdout", "journal", "file"]

JOURNAL_SOCKET = "/run/systemd/journal/socket"
REDACTED = "***"
CONTEXT_FIELDS = ("device", "site", "user", "order", "event_id")
"""The floor context every record carries (when known)."""

_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "floor_log_context", default=None
)

# -- context ---------------------------------------------------------------------------------


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add floor context (``user=``, ``order=``, ``event_id=`` ...) to every record inside."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(
            f"unknown log context field(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(CONTEXT_FIELDS)}"
        )
    merged = {**(_context.get() or {}), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    """The floor context of the calling code."""
    return dict(_context.get() or {})


# -- redaction -------------------------------------------------------------------------------

_SECRET_WORDS = (
    r"password|passwd|passphrase|pass|pwd|secret|token|psk|pin|badge|authorization|"
    r"credentials?|cookie|api[_-]?key|private[_-]?key|privkey"
)
"""Names (or the last part of names such as ``mqtt_password``) whose value is never logged."""
_SECRET_KEY = re.compile(rf"(?:^|[^a-z0-9])(?:{_SECRET_WORDS})$", re.IGNORECASE)
_SECRET_INSIDE = re.compile(r"password|passwd|secret|token|private[_-]?key", re.IGNORECASE)

_PEM_PRIVATE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL
)
_MOSQUITTO_HASH = re.compile(r"\$[67]\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):[^@/\s]+@")
_KEY_VALUE = re.compile(
    rf"(?P<key>\b(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_WORDS})\b)(?P<kq>['\"]?)(?P<sep>\s*[=:]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s'\",;}\]]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_BADGE = re.compile(r"(?<![A-Za-z0-9])" + BADGE_RE.pattern.strip("^$") + r"(?![A-Za-z0-9])")


def redact_text(text: str) -> str:
    """``text`` with private keys, password hashes, credentials and badge numbers replaced."""
    text = _PEM_PRIVATE.sub("[private key redacted]", text)
    text = _MOSQUITTO_HASH.sub(REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m[1]} {REDACTED}", text)
    text = _KEY_VALUE.sub(_blank_value, text)
    return _BADGE.sub("B" + REDACTED, text)


def _blank_value(match: re.Match[str]) -> str:
    value = match["value"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['key']}{match['kq']}{match['sep']}{quote}{REDACTED}{quote}"


def is_secret_key(name: str) -> bool:
    """True when a field called ``name`` holds a secret or a badge number."""
    return bool(_SECRET_KEY.search(name) or _SECRET_INSIDE.search(name))


def redact_value(value: Any, key: str = "") -> Any:
    """A copy of ``value`` safe to log: secret keys blanked, strings scrubbed, recursively."""
    if key and is_secret_key(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {str(k): redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


_RECORD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra={...}`` fields a caller put on a record."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS}


class RedactionFilter(logging.Filter):
    """Scrubs a record in place: message (with its arguments), extra fields, exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string must not lose the record
            message = f"{record.msg!r} (unformattable arguments: {exc})"
        record.msg = redact_text(message)
        record.args = None
        for name, value in extra_fields(record).items():
            setattr(record, name, redact_value(value, name))
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text(
                "".join(traceback.format_exception(*record.exc_info)).rstrip()
            )
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


# -- formatting ------------------------------------------------------------------------------


class _ContextFilter(logging.Filter):
    """Puts the process fields and the ``log_context`` onto each record as ``floor_context``."""

    def __init__(self, service: str, static: Mapping[str, str]) -> None:
        super().__init__()
        self.service = service
        self.static = dict(static)

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = {**self.static, **(_context.get() or {})}
        for name in CONTEXT_FIELDS:  # extra={"order": ...} on one call wins
            value = record.__dict__.get(name)
            if isinstance(value, str) and value:
                ctx[name] = value
        record.floor_service = self.service
        record.floor_context = ctx
        return True


def _iso(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, service, logger, message, context, extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _iso(record.created),
            "level": record.levelname.lower(),
            "service": getattr(record, "floor_service", ""),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(getattr(record, "floor_context", {}))
        for name, value in extra_fields(record).items():
            if name.startswith("floor_") or name in CONTEXT_FIELDS:
                continue
            out[name] = value if _jsonable(value) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return jsonlib.dumps(out, ensure_ascii=False, default=str)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


class TextFormatter(logging.Formatter):
    """A human line: time, level, logger, message, then ``key=value`` context."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = getattr(record, "floor_context", {})
        tail = " ".join(f"{k}={v}" for k, v in ctx.items())
        line = f"{_iso(record.created)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if tail:
            line += f"  [{tail}]"
        if record.exc_info and record.exc_info[0] is not None:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return line


# -- the journal's native protocol ----------------------------------------------------------

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def journal_available(path: str = JOURNAL_SOCKET) -> bool:
    """True when the journal's native socket exists here."""
    return Path(path).is_socket()


def encode_journal_fields(fields: Mapping[str, str]) -> bytes:
    """Fields in the journal's native datagram format (binary-safe for multi-line values)."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Sends records to systemd-journald's native socket with floor fields.

    ``MESSAGE`` is the formatted record; ``PRIORITY``, ``SYSLOG_IDENTIFIER``, ``LOGGER``, the
    code location and ``FLOOR_DEVICE``, ``FLOOR_USER``, ``FLOOR_ORDER``, ``FLOOR_EVENT_ID``
    are fields you can filter on: ``journalctl FLOOR_ORDER=SO-1001``.
    """

    MAX_DATAGRAM = 200_000

    def __init__(self, identifier: str, socket_path: str = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.identifier = identifier
        self.socket_path = socket_path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def fields_of(self, record: logging.LogRecord) -> dict[str, str]:
        """The journal fields of one (already redacted) record."""
        fields = {
            "MESSAGE": self.format(record),
            "PRIORITY": str(_PRIORITY.get(record.levelno, 6)),
            "SYSLOG_IDENTIFIER": self.identifier,
            "LOGGER": record.name,
            "CODE_FILE": record.pathname,
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName,
        }
        for name, value in getattr(record, "floor_context", {}).items():
            fields[f"FLOOR_{name.upper()}"] = str(value)
        return fields

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = encode_journal_fields(self.fields_of(record))
            if len(data) > self.MAX_DATAGRAM:
                fields = self.fields_of(record)
                fields["MESSAGE"] = fields["MESSAGE"][: self.MAX_DATAGRAM // 2] + " [truncated]"
                data = encode_journal_fields(fields)
            self._sock.sendto(data, self.socket_path)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        super().close()


def journal_send(
    service: str, message: str, *, priority: int = 3, socket_path: str = JOURNAL_SOCKET
) -> bool:
    """Send one (redacted) entry straight to the journal; ``False`` when there is none.

    For errors before logging is set up, e.g. ``floor-app`` refusing its config inside the
    kiosk, where stderr is the terminal that closes with the app.
    """
    if not journal_available(socket_path):
        return False
    data = encode_journal_fields(
        {"MESSAGE": redact_text(message), "PRIORITY": str(priority), "SYSLOG_IDENTIFIER": service}
    )
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(data, socket_path)
    except OSError:
        return False
    return True


# -- setup -----------------------------------------------------------------------------------

_LEVELS = {"critical", "error", "warning", "info", "debug"}
_installed: list[logging.Handler] = []


def parse_level(level: str | int) -> int:
    """A logging level from ``"info"``, ``"WARNING"``, ``20`` ...; a clear error otherwise."""
    if isinstance(level, int):
        return level
    name = level.strip().lower()
    if name == "warn":
        name = "warning"
    if name not in _LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(sorted(_LEVELS))}")
    return int(logging.getLevelName(name.upper()))


def setup_logging(
    service: str,
    level: str | int = "info",
    json: bool = True,
    *,
    target: LogTarget = "stdout",
    file: Path | None = None,
    stream: TextIO | None = None,
    journal_socket: str = JOURNAL_SOCKET,
    device: str | None = None,
    site: str | None = None,
) -> logging.Handler:
    """Send every log record of this process to one redacting, structured handler.

    Calling it again replaces the handler it installed before. Returns the handler.

    * ``target="stdout"``: ``stream`` (default ``sys.stdout``), one record per line.
    * ``target="journal"``: the journal's native socket; without a journal, ``file``
      (which must then be given).
    * ``target="file"``: ``file``, rotated at 10 MB, 5 old files kept.

    ``device`` and ``site`` are put on every record of the process.
    """
    numeric = parse_level(level)
    handler: logging.Handler
    if target == "journal" and journal_available(journal_socket):
        handler = JournalHandler(service, journal_socket)
    elif target in ("journal", "file"):
        if file is None:
            raise ValueError(f"log target {target!r} needs a file (there is no journal here)")
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        )
        with contextlib.suppress(OSError):
            os.chmod(file, 0o640)
    elif target == "stdout":
        handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    else:
        raise ValueError(f"log target {target!r} is not one of stdout, journal, file")
    static = {k: v for k, v in (("device", device), ("site", site)) if v}
    handler.addFilter(_ContextFilter(service, static))
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler.setLevel(numeric)

    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
        old.close()
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.captureWarnings(True)
    return handler
