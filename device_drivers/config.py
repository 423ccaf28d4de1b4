"""Device configuration, validated with pydantic: which scanner, camera, printer and scale a
station has and how to reach each. Part of the app's settings (``[devices]`` in TOML)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DevicesSettings(BaseModel):
    """The ``[devices]`` table. With no devices configured, the app takes scans typed into
    the terminal (a keyboard-wedge scanner or a person)."""

    model_config = ConfigDict(extra="forbid")
