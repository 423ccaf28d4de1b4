"""Errors of label rendering."""

from __future__ import annotations


class LabelError(ValueError):
    """A label cannot be made from this input; the message says what is wrong."""


class LabelFontMissing(LabelError):
    """No font with Chinese glyphs is installed; the message says which package to add."""
