"""The carrier rules of a site in the hub database (``hub_meta``), so every worker chooses
with the same rules: ``floor-hub carriers FILE`` stores a validated ``carriers.toml``
(:mod:`floor_app.carrier_rules` describes and reads the file, and raises its
:class:`~floor_app.carrier_rules.CarrierRulesError`); a bad file changes nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection

from floor_app.carrier_rules import DEMO_RULES, CarrierRulesError, RulesFile, read_rules
from floor_app.domain.carriers import CarrierRules

from .site_data import get_meta, set_meta

__all__ = ["DEMO_RULES", "RULES_KEY", "CarrierRulesError", "RulesFile", "read_rules"]

#: The ``hub_meta`` key holding the rules (JSON of :class:`RulesFile`).
RULES_KEY = "carrier_rules"


def store_rules(conn: Connection, rules: RulesFile) -> None:
    """Make ``rules`` the hub's carrier rules (in the caller's transaction)."""
    set_meta(conn, RULES_KEY, rules.model_dump_json())


def stored_rules(conn: Connection) -> CarrierRules | None:
    """The hub's carrier rules, or None when none were loaded."""
    text = get_meta(conn, RULES_KEY)
    if not text:
        return None
    return RulesFile.model_validate(json.loads(text)).to_domain()
