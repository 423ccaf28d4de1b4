"""Errors of the barcode decoders."""

from __future__ import annotations


class DecoderUnavailable(RuntimeError):
    """A decoder backend cannot run here (a missing library); the message says what to
    install."""
