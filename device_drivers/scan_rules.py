"""Turning one received code into a :class:`~device_drivers.base.Scan`, or rejecting it.

Shared by every scanner kind (serial, HID, keyboard wedge): the text must decode, hold only
printable characters plus the separators GS1 and ISO/IEC 15434 use (GS ``0x1D``, RS
``0x1E``, EOT ``0x04``), be within the configured length, and, when the station restricts
symbologies, carry an AIM identifier of an allowed one. Anything else is a
:class:`Rejection` with a reason that the driver counts and reports; it is never a scan.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from device_drivers.base import DetailValue, Scan, Scanner
from floor_app.domain.symbology import Symbology, split_aim

SEPARATORS = frozenset("\x1d\x1e\x04")
"""Control characters that belong in codes: GS (GS1 FNC1 separator), RS and EOT (ISO 15434)."""


class RejectReason(StrEnum):
    """Why a received code is not a scan."""

    GARBAGE = "garbage"
    """Bytes that do not decode, or control characters that no barcode carries."""
    PARTIAL = "partial"
    """A frame that stopped arriving before its suffix."""
    OVERLONG = "overlong"
    """Longer than the configured maximum."""
    TOO_SHORT = "too_short"
    """Shorter than the configured minimum (or empty after its AIM identifier)."""
    WRONG_SYMBOLOGY = "wrong_symbology"
    """A symbology this station does not accept."""
    NO_TERMINATOR = "no_terminator"
    """A fast keyboard burst that ended without Enter or Tab."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A received code that was not delivered as a scan, and why."""

    reason: RejectReason
    detail: str
    raw: bytes = b""

    @property
    def message(self) -> str:
        """One line for diagnostics (``last_error``)."""
        return f"rejected {self.reason.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ScanRules:
    """What a scanner accepts (from its configuration)."""

    min_length: int = 1
    max_length: int = 1024
    symbologies: frozenset[Symbology] = frozenset()
    encoding: str = "utf-8"

    def check_bytes(self, raw: bytes, source: str) -> Scan | Rejection:
        """Decode ``raw`` (one frame without its suffix) and check it."""
        if len(raw) > self.max_length + 3:  # + 3 for an AIM identifier
            return Rejection(
                RejectReason.OVERLONG, f"{len(raw)} bytes (limit {self.max_length})", raw[:64]
            )
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            return Rejection(
                RejectReason.GARBAGE,
                f"not {self.encoding} text (byte 0x{raw[exc.start]:02x} at {exc.start})",
                raw[:64],
            )
        return self.check_text(text, source, raw=raw)

    def check_text(self, text: str, source: str, *, raw: bytes | None = None) -> Scan | Rejection:
        """Check decoded ``text`` (with its AIM identifier, if any)."""
        raw_bytes = raw if raw is not None else text.encode("utf-8", "replace")
        for index, char in enumerate(text):
            if not char.isprintable() and char not in SEPARATORS:
                return Rejection(
                    RejectReason.GARBAGE,
                    f"control character 0x{ord(char):02x} at position {index}",
                    raw_bytes[:64],
                )
        prefix, body = split_aim(text)
        if len(body) > self.max_length:
            return Rejection(
                RejectReason.OVERLONG,
                f"{len(body)} characters (limit {self.max_length})",
                raw_bytes[:64],
            )
        if len(body) < self.min_length:
            return Rejection(
                RejectReason.TOO_SHORT,
                f"{len(body)} characters (minimum {self.min_length})",
                raw_bytes[:64],
            )
        symbology = prefix.symbology if prefix is not None else Symbology.UNKNOWN
        if self.symbologies and symbology not in self.symbologies:
            allowed = ", ".join(sorted(s.value for s in self.symbologies))
            what = (
                f"{symbology.value} ({prefix.identifier})"
                if prefix is not None
                else "no AIM symbology identifier"
            )
            return Rejection(
                RejectReason.WRONG_SYMBOLOGY, f"{what}; accepted: {allowed}", raw_bytes[:64]
            )
        return Scan(
            text=body,
            raw=raw_bytes,
            symbology=symbology,
            source=source,
            timestamp=time.time(),
            aim=prefix.identifier if prefix is not None else "",
        )


@dataclass(slots=True)
class ScannerCounters:
    """What a scanner has seen since it started: scans, rejections by reason, reconnects."""

    scans: int = 0
    rejected: Counter[RejectReason] = field(default_factory=Counter)
    reconnects: int = 0
    duplicates: int = 0

    @property
    def rejected_total(self) -> int:
        """All rejections together."""
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, int]:
        """Flat figures for diagnostics and JSON."""
        out = {
            "scans": self.scans,
            "rejected": self.rejected_total,
            "reconnects": self.reconnects,
            "duplicates": self.duplicates,
        }
        for reason in RejectReason:
            out[f"rejected_{reason.value}"] = self.rejected[reason]
        return out


class RuledScanner(Scanner):
    """A scanner whose frames pass :class:`ScanRules`: a good frame becomes a scan, a bad one
    is counted and recorded as the last error (never a scan, never an exception)."""

    rules: ScanRules
    counters: ScannerCounters

    def details(self) -> dict[str, DetailValue]:
        return {**super().details(), **self.counters.as_dict()}

    def _deliver(self, item: bytes | Rejection) -> None:
        if isinstance(item, Rejection):
            self._reject(item)
            return
        result = self.rules.check_bytes(item, self.name)
        if isinstance(result, Scan):
            self.counters.scans += 1
            self._emit_scan(result)
        else:
            self._reject(result)

    def _reject(self, rejection: Rejection) -> None:
        self.counters.rejected[rejection.reason] += 1
        self._set_state(self.state, rejection.message)
