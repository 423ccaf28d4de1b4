"""Errors of label rendering (:class:`LabelError` is the driver boundary's, in
:mod:`device_drivers.base`)."""

from __future__ import annotations

from device_drivers.base import LabelError

__all__ = ["LabelError", "LabelFontMissing"]


class LabelFontMissing(LabelError):
    """No font with Chinese glyphs is installed; the message says which package to add."""
