"""Carrier choice: the cheapest carrier service that takes a parcel to its destination in time.

A :class:`CarrierRules` set holds destination zones (a country, or postcode prefixes of a
country, make a zone; the longest matching prefix wins) and carrier services, each with
its weight and size limits and, per zone, a transit time and prices by weight band.

:func:`choose_carrier` quotes every service for a :class:`Shipment` and picks the cheapest
one that takes the parcel's weight and size to its zone and arrives by the promised date
(ship date plus the service's transit days, in calendar days). When no fitting service
arrives in time the fastest fitting one is chosen and the choice says it will be late.
A destination no zone covers, a zone no service serves, or a parcel no service takes is
:class:`NoCarrierService`, with the reason and what to change in the rules: an order is
never given a service silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from .cartonization import CartonError, choose_carton
from .errors import DomainError
from .packing import Carton
from .sku import Sku

#: The ``chosen_by`` of a choice made by the hub's rules.
HUB = "hub"


class NoCarrierService(DomainError):
    """No carrier service of the rules can take this shipment (see the reason)."""


def normal_postcode(postcode: str) -> str:
    """A postcode as compared with the rules' prefixes: upper case, no spaces or dashes."""
    return "".join(ch for ch in postcode.upper() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class ZoneRule:
    """Destinations of ``zone``: a country, or only its postcodes with these prefixes.

    ``sort_code`` is what the carriers' sorting reads on the label for this zone (the zone's
    name when the rules give none).
    """

    zone: str
    country: str
    postcode_prefixes: tuple[str, ...] = ()
    sort_code: str = ""

    def match(self, country: str, postcode: str) -> int | None:
        """How specific the match is (prefix length; 0 for the whole country), or None."""
        if country.strip().upper() != self.country.upper():
            return None
        if not self.postcode_prefixes:
            return 0
        code = normal_postcode(postcode)
        lengths = [
            len(p) for p in map(normal_postcode, self.postcode_prefixes) if code.startswith(p)
        ]
        return max(lengths) if lengths else None


@dataclass(frozen=True, slots=True)
class Rate:
    """What a service costs to one zone and how long it takes: ``prices`` are (up to
    grams, price) bands in ascending weight."""

    zone: str
    transit_days: int
    prices: tuple[tuple[int, float], ...]

    def price(self, weight_g: int) -> float | None:
        """The price of a parcel of ``weight_g``, or None above the last band."""
        for up_to, price in self.prices:
            if weight_g <= up_to:
                return price
        return None


@dataclass(frozen=True, slots=True)
class CarrierService:
    """A service of a carrier (``DHL`` ``express``) with its limits and rates."""

    carrier: str
    service: str
    max_weight_g: int
    max_dims_mm: tuple[int, int, int]
    rates: tuple[Rate, ...]

    @property
    def name(self) -> str:
        """``carrier service`` as people read it."""
        return f"{self.carrier} {self.service}"

    def rate(self, zone: str) -> Rate | None:
        """The rate to ``zone``, or None when the service does not go there."""
        return next((r for r in self.rates if r.zone == zone), None)


@dataclass(frozen=True, slots=True)
class CarrierRules:
    """Zones and services of a site (from its carriers.toml)."""

    zones: tuple[ZoneRule, ...]
    services: tuple[CarrierService, ...]
    currency: str = "EUR"

    def zone_of(self, country: str, postcode: str) -> str | None:
        """The zone of a destination (the most specific rule that matches), or None."""
        best: tuple[int, str] | None = None
        for rule in self.zones:
            length = rule.match(country, postcode)
            if length is not None and (best is None or length > best[0]):
                best = (length, rule.zone)
        return best[1] if best else None

    def sort_code(self, zone: str) -> str:
        """The sort code printed on labels for ``zone`` (its first rule's, else the zone)."""
        return next((r.sort_code for r in self.zones if r.zone == zone and r.sort_code), zone)

    def service(self, carrier: str, service: str) -> CarrierService | None:
        """The service named, or None (names compare without case)."""
        key = (carrier.strip().lower(), service.strip().lower())
        return next(
            (s for s in self.services if (s.carrier.lower(), s.service.lower()) == key), None
        )


@dataclass(frozen=True, slots=True)
class Shipment:
    """What the choice depends on: the parcel, where it goes, when it leaves and is due."""

    weight_g: int
    dims_mm: tuple[int, int, int]
    country: str
    postcode: str
    ship_date: date
    promised_date: date | None = None

    def describe(self) -> str:
        """``2.4 kg, 300x250x150 mm`` for reasons."""
        dims = "x".join(str(d) for d in self.dims_mm)
        return f"{self.weight_g / 1000:.1f} kg, {dims} mm"


@dataclass(frozen=True, slots=True)
class Quote:
    """One service for one shipment: its cost and transit when it fits, else why not."""

    carrier: str
    service: str
    cost: float | None
    transit_days: int | None
    fits: bool
    late: bool = False
    why_not: str = ""

    @property
    def name(self) -> str:
        """``carrier service``."""
        return f"{self.carrier} {self.service}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "carrier": self.carrier,
            "service": self.service,
            "cost": self.cost,
            "transit_days": self.transit_days,
            "fits": self.fits,
            "late": self.late,
            "why_not": self.why_not,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Quote:
        """The quote of :meth:`to_dict`."""
        return Quote(
            str(data["carrier"]),
            str(data["service"]),
            None if data.get("cost") is None else float(data["cost"]),
            None if data.get("transit_days") is None else int(data["transit_days"]),
            bool(data.get("fits", False)),
            bool(data.get("late", False)),
            str(data.get("why_not", "")),
        )


@dataclass(frozen=True, slots=True)
class CarrierChoice:
    """The carrier service of an order, why it was chosen and by whom, and the other quotes.

    ``rule`` is the reason in words (shown to the packer); ``chosen_by`` is ``"hub"`` or the
    user who changed it; ``options`` are every service quoted for the order (fitting ones
    first, cheapest first) so that a packer can change the service offline. ``currency``
    is the rules' (every cost is in it; "" when not known); ``sort_code`` is the
    destination zone's sort code, printed on the label.
    """

    carrier: str
    service: str
    cost: float | None
    rule: str
    chosen_by: str = HUB
    options: tuple[Quote, ...] = ()
    currency: str = ""
    sort_code: str = ""

    @property
    def name(self) -> str:
        """``carrier service``."""
        return f"{self.carrier} {self.service}"

    def fitting(self) -> tuple[Quote, ...]:
        """The quotes of services that take the parcel (the choices a packer is offered)."""
        return tuple(q for q in self.options if q.fits)

    def quote(self, carrier: str, service: str) -> Quote | None:
        """The quote of the service named, if it was quoted."""
        key = (carrier.lower(), service.lower())
        return next(
            (q for q in self.options if (q.carrier.lower(), q.service.lower()) == key), None
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored on the hub and the device, sent in order snapshots)."""
        return {
            "carrier": self.carrier,
            "service": self.service,
            "cost": self.cost,
            "rule": self.rule,
            "chosen_by": self.chosen_by,
            "options": [q.to_dict() for q in self.options],
            "currency": self.currency,
            "sort_code": self.sort_code,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> CarrierChoice:
        """The choice of :meth:`to_dict`."""
        return CarrierChoice(
            str(data["carrier"]),
            str(data["service"]),
            None if data.get("cost") is None else float(data["cost"]),
            str(data.get("rule", "")),
            str(data.get("chosen_by", HUB)),
            tuple(Quote.from_dict(q) for q in data.get("options", ())),
            str(data.get("currency", "")),
            str(data.get("sort_code", "")),
        )

    def money(self, cost: float | None) -> str:
        """``cost`` with the currency, as people read it (``5.40 EUR``; ``-`` unknown)."""
        if cost is None:
            return "-"
        return f"{cost:.2f} {self.currency}".strip()


def estimate_parcel(
    items: Sequence[tuple[Sku, int]], cartons: Sequence[Carton]
) -> tuple[int, tuple[int, int, int]]:
    """The parcel an order will make: (grams with the carton's tare, the carton's inner mm).

    The carton is the smallest the items really fit in (:mod:`.cartonization`); an order
    that fits none (or whose items lack dimensions) is estimated in the largest carton,
    and without cartons by its largest item (or 0 mm when no item has dimensions).
    """
    weight = sum(sku.weight_g * qty for sku, qty in items)
    carton: Carton | None = None
    if cartons:
        try:
            carton = choose_carton(list(items), list(cartons)).carton
        except CartonError:
            carton = None
        carton = carton or max(cartons, key=lambda c: (c.volume_mm3, c.code))
    if carton is not None:
        inner = carton.inner
        return weight + carton.tare_g, (inner.length_mm, inner.width_mm, inner.height_mm)
    dims = [sku.dimensions.sorted() for sku, _ in items if sku.dimensions is not None]
    biggest = max(dims, key=lambda d: d[0] * d[1] * d[2]) if dims else (0, 0, 0)
    return weight, biggest


def _why_not(service: CarrierService, rate: Rate | None, shipment: Shipment) -> str:
    if rate is None:
        return "does not serve this zone"
    if shipment.weight_g > service.max_weight_g:
        return f"{shipment.weight_g / 1000:.1f} kg is over its {service.max_weight_g / 1000:.1f} kg"
    if any(
        a > b for a, b in zip(sorted(shipment.dims_mm), sorted(service.max_dims_mm), strict=True)
    ):
        limit = "x".join(str(d) for d in service.max_dims_mm)
        return f"{'x'.join(str(d) for d in shipment.dims_mm)} mm is over its {limit} mm"
    if rate.price(shipment.weight_g) is None:
        return f"no price for {shipment.weight_g / 1000:.1f} kg"
    return ""


def quote(service: CarrierService, zone: str, shipment: Shipment) -> Quote:
    """The quote of one service for a shipment to ``zone``."""
    rate = service.rate(zone)
    why = _why_not(service, rate, shipment)
    if why or rate is None:
        return Quote(service.carrier, service.service, None, None, False, why_not=why)
    arrives = shipment.ship_date + timedelta(days=rate.transit_days)
    late = shipment.promised_date is not None and arrives > shipment.promised_date
    return Quote(
        service.carrier,
        service.service,
        rate.price(shipment.weight_g),
        rate.transit_days,
        True,
        late,
    )


def _rank(q: Quote) -> tuple[bool, bool, float, int, str]:
    return (not q.fits, q.late, q.cost or 0.0, q.transit_days or 0, q.name)


def quotes(rules: CarrierRules, shipment: Shipment) -> tuple[str, tuple[Quote, ...]]:
    """The destination's zone and the quote of every service that serves it (fitting, on
    time, cheapest first).

    Raises :class:`NoCarrierService` when no zone covers the destination.
    """
    zone = rules.zone_of(shipment.country, shipment.postcode)
    if zone is None:
        place = f"{shipment.country} {shipment.postcode}".strip()
        raise NoCarrierService(
            f"no carrier service for destination {place}: no zone of the carrier rules covers it",
            hint=f"add a zone for {shipment.country or 'the country'} to carriers.toml "
            "and load it (floor-hub carriers FILE), then release the order",
        )
    serving = [s for s in rules.services if s.rate(zone) is not None]
    return zone, tuple(sorted((quote(s, zone, shipment) for s in serving), key=_rank))


def choose_carrier(rules: CarrierRules, shipment: Shipment) -> CarrierChoice:
    """The cheapest service that fits and arrives in time (else the fastest that fits).

    Raises :class:`NoCarrierService` (see the module docstring).
    """
    zone, quoted = quotes(rules, shipment)
    if not quoted:
        raise NoCarrierService(
            f"no carrier service for destination zone {zone}: no service has a rate for it",
            hint=f"add a rate for zone {zone} to a service in carriers.toml and load it, "
            "then release the order",
        )
    fitting = [q for q in quoted if q.fits]
    if not fitting:
        why = "; ".join(f"{q.name}: {q.why_not}" for q in quoted)
        raise NoCarrierService(
            f"no carrier service of zone {zone} takes a parcel of {shipment.describe()}: {why}",
            hint="split the order or add a service for such parcels to carriers.toml",
        )
    on_time = [q for q in fitting if not q.late]
    if on_time:
        best = on_time[0]
        due = f" by {shipment.promised_date.isoformat()}" if shipment.promised_date else ""
        rule = f"cheapest of {len(on_time)} services for {shipment.describe()} to zone {zone}{due}"
    else:
        assert shipment.promised_date is not None  # only a promised date makes a quote late
        best = min(fitting, key=lambda q: (q.transit_days or 0, q.cost or 0.0, q.name))
        arrives = shipment.ship_date + timedelta(days=best.transit_days or 0)
        rule = (
            f"fastest for {shipment.describe()} to zone {zone}: none arrives by "
            f"{shipment.promised_date.isoformat()} (this one {arrives.isoformat()}, late)"
        )
    return CarrierChoice(
        best.carrier,
        best.service,
        best.cost,
        rule,
        HUB,
        quoted,
        rules.currency,
        rules.sort_code(zone),
    )


def given_choice(
    rules: CarrierRules | None, shipment: Shipment, carrier: str, service: str
) -> CarrierChoice:
    """The service an order arrived with, kept as it is, quoted with the others when the
    rules cover the destination (so a packer can still change it)."""
    options: tuple[Quote, ...] = ()
    currency = sort_code = ""
    if rules is not None:
        currency = rules.currency
        try:
            zone, options = quotes(rules, shipment)
            sort_code = rules.sort_code(zone)
        except NoCarrierService:
            options = ()
    given = CarrierChoice(
        carrier, service, None, "given with the order", HUB, options, currency, sort_code
    )
    own = given.quote(carrier, service)
    if own is None or own.cost is None:
        return given
    return replace(given, cost=own.cost)


def changed_choice(
    previous: CarrierChoice | None,
    carrier: str,
    service: str,
    *,
    user: str,
    reason: str,
    check_fit: bool = True,
) -> CarrierChoice:
    """The choice after ``user`` changed the service for ``reason`` (the quotes stay).

    An empty reason is a :class:`DomainError`; with ``check_fit`` so is a service the
    previous choice did not quote as fitting.
    """
    if not reason.strip():
        raise DomainError(
            "a carrier change needs a reason",
            hint="choose or type why",
            code="carrier.reason_needed",
        )
    known = previous.quote(carrier, service) if previous is not None else None
    unfit = known is None or not known.fits
    if check_fit and previous is not None and previous.options and unfit:
        offered = ", ".join(q.name for q in previous.fitting()) or "none"
        raise DomainError(
            f"{carrier} {service} does not take this parcel",
            hint=f"choose one of: {offered}",
            code="carrier.not_fit",
            params={"carrier": carrier, "service": service, "offered": offered},
        )
    return CarrierChoice(
        carrier,
        service,
        known.cost if known is not None else None,
        f"changed by {user}: {reason.strip()}",
        user,
        previous.options if previous is not None else (),
        previous.currency if previous is not None else "",
        previous.sort_code if previous is not None else "",
    )
