"""Errors the services raise for the user to read (domain errors pass through unchanged)."""

from __future__ import annotations

from floor_app.domain.errors import DomainError


class AccessDenied(DomainError):
    """Login refused: unknown badge, disabled user, wrong PIN or a role the user lacks."""
