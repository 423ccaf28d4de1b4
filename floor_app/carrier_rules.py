"""Carrier rules files (``carriers.toml``): read and validated with pydantic.

The file::

    currency = "EUR"

    [[zones]]                    # a country, or only some of its postcodes
    zone = "GB"
    country = "GB"
    sort = "GB-MAIN"             # the sort code labels carry (default: the zone)

    [[zones]]
    zone = "GB-REMOTE"
    country = "GB"
    postcodes = ["IV", "HS", "KW", "ZE"]   # prefixes; the longest match wins

    [[services]]
    carrier = "Royal Mail"
    service = "standard"
    max_weight_g = 20000
    max_dims_mm = [610, 460, 460]
    rates = [
      { zone = "GB", transit_days = 3, prices = [[2000, 3.95], [20000, 9.50]] },
    ]

``prices`` are ``[up to grams, price]`` bands in ascending weight. A bad file is one
:class:`CarrierRulesError` naming the file and every problem. The hub keeps the rules in its
database (:mod:`hub.carrier_rules`); the demo site's are :data:`DEMO_RULES`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from floor_app.domain.carriers import CarrierRules, CarrierService, Rate, ZoneRule

#: The demo site's rules (``floor-hub --demo`` loads them; demo orders are quoted with them).
#: (found next to this module: importing ``floor_app.demo`` here would be circular, as the
#: demo site imports this module)
DEMO_RULES = Path(__file__).resolve().parent / "demo" / "carriers.toml"


class CarrierRulesError(Exception):
    """A carrier rules file cannot be used; ``reason`` names the file and each problem."""

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(reason if not hint else f"{reason} ({hint})")
        self.reason = reason
        self.hint = hint


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Name = Annotated[str, Field(min_length=1, max_length=32)]


class ZoneModel(_Model):
    """``[[zones]]``: a country (ISO 3166 two letters), or some of its postcodes."""

    zone: Name
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    postcodes: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    sort: str = Field(default="", max_length=16, pattern=r"^[A-Za-z0-9 -]*$")
    """The sort code labels to this zone carry (default: the zone's name)."""


class RateModel(_Model):
    """One zone of a service: transit days and ``[up to grams, price]`` bands."""

    zone: Name
    transit_days: int = Field(ge=0, le=60)
    prices: list[tuple[Annotated[int, Field(gt=0)], Annotated[float, Field(ge=0)]]] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _ascending(self) -> RateModel:
        weights = [w for w, _ in self.prices]
        if weights != sorted(set(weights)):
            raise ValueError(f"zone {self.zone}: price bands must go up in weight, got {weights}")
        return self


class ServiceModel(_Model):
    """``[[services]]``: a carrier's service with its limits and rates per zone."""

    carrier: Name
    service: Name
    max_weight_g: int = Field(gt=0)
    max_dims_mm: tuple[
        Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]
    ]
    rates: list[RateModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _zones_once(self) -> ServiceModel:
        zones = [r.zone for r in self.rates]
        twice = sorted({z for z in zones if zones.count(z) > 1})
        if twice:
            raise ValueError(f"{self.carrier} {self.service}: zone {', '.join(twice)} rated twice")
        return self


class RulesFile(_Model):
    """A whole ``carriers.toml``."""

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    zones: list[ZoneModel] = Field(min_length=1)
    services: list[ServiceModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RulesFile:
        problems: list[str] = []
        known = {z.zone for z in self.zones}
        names = [(s.carrier.lower(), s.service.lower()) for s in self.services]
        for s in self.services:
            if names.count((s.carrier.lower(), s.service.lower())) > 1:
                problems.append(f"service {s.carrier} {s.service} is defined twice")
            for r in s.rates:
                if r.zone not in known:
                    problems.append(
                        f"service {s.carrier} {s.service} rates zone {r.zone}, "
                        "which no [[zones]] defines"
                    )
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))
        return self

    def to_domain(self) -> CarrierRules:
        """The rules as :mod:`floor_app.domain.carriers` objects."""
        return CarrierRules(
            zones=tuple(
                ZoneRule(z.zone, z.country.upper(), tuple(z.postcodes), z.sort) for z in self.zones
            ),
            services=tuple(
                CarrierService(
                    s.carrier,
                    s.service,
                    s.max_weight_g,
                    s.max_dims_mm,
                    tuple(
                        Rate(r.zone, r.transit_days, tuple((w, p) for w, p in r.prices))
                        for r in s.rates
                    ),
                )
                for s in self.services
            ),
            currency=self.currency,
        )


def _problems(exc: ValidationError) -> str:
    out = []
    for err in exc.errors()[:20]:
        where = ".".join(str(p) for p in err["loc"]) or "file"
        out.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(out)


def read_rules(path: Path) -> RulesFile:
    """Read and validate a carriers.toml (raises :class:`CarrierRulesError`)."""
    hint = "fix the file and load it again; the rules in use did not change"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CarrierRulesError(
            f"cannot read carrier rules {path}: {exc.strerror}", hint=hint
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CarrierRulesError(f"{path} is not valid TOML: {exc}", hint=hint) from None
    try:
        return RulesFile.model_validate(data)
    except ValidationError as exc:
        raise CarrierRulesError(f"{path}: {_problems(exc)}", hint=hint) from None
