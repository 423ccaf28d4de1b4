"""How the screens read a device's state: lost, back again, and its mark in the header.

The states are the drivers' own enums (:mod:`device_drivers.base`); the kinds share the
names of their common states, so one set holds, say, every kind's ``disconnected``.
"""

from __future__ import annotations

from device_drivers.base import CameraState, DeviceState, PrinterState, ScaleState, ScannerState

#: Ready to work.
READY: frozenset[DeviceState] = frozenset(
    {ScannerState.READY, CameraState.READY, PrinterState.READY, ScaleState.READY}
)
#: Opening, not ready yet.
CONNECTING: frozenset[DeviceState] = frozenset(
    {
        ScannerState.CONNECTING,
        CameraState.CONNECTING,
        PrinterState.CONNECTING,
        ScaleState.CONNECTING,
    }
)
#: Gone or failed.
DOWN: frozenset[DeviceState] = frozenset(
    {
        ScannerState.DISCONNECTED,
        ScannerState.ERROR,
        CameraState.DISCONNECTED,
        CameraState.ERROR,
        PrinterState.DISCONNECTED,
        PrinterState.ERROR,
        ScaleState.DISCONNECTED,
        ScaleState.ERROR,
    }
)
#: The device cannot do its work: the screen says so, with the bell.
LOST: frozenset[DeviceState] = DOWN | {PrinterState.PAPER_OUT, PrinterState.HEAD_OPEN}
#: A device that becomes ready from one of these is back.
RETURNS_FROM: frozenset[DeviceState] = DOWN | CONNECTING

_STATE_ENUMS = (ScannerState, CameraState, PrinterState, ScaleState)


def health_mark(state: DeviceState | None, *, other: str) -> str:
    """``✓`` working, ``…`` connecting, ``✗`` gone or failed, else ``other``."""
    if state in READY or state is PrinterState.PRINTING:
        return "✓"
    if state in CONNECTING:
        return "…"
    if state in DOWN:
        return "✗"
    return other


def state_named(text: str) -> DeviceState | None:
    """The device state ``text`` names (as another device reports it), or None."""
    for states in _STATE_ENUMS:
        try:
            return states(text)
        except ValueError:
            continue
    return None
