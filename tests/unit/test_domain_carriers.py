"""Carrier choice: cheapest fitting service, weight and size limits, promised dates, zones."""

from datetime import date

import pytest

from floor_app.domain.carriers import (
    CarrierChoice,
    CarrierRules,
    CarrierService,
    NoCarrierService,
    Quote,
    Rate,
    Shipment,
    ZoneRule,
    changed_choice,
    choose_carrier,
    given_choice,
)
from floor_app.domain.errors import DomainError

pytestmark = pytest.mark.unit

MON = date(2026, 11, 23)

RULES = CarrierRules(
    zones=(
        ZoneRule("GB", "GB"),
        ZoneRule("GB-REMOTE", "GB", ("IV", "HS")),
        ZoneRule("GB-ISLE", "GB", ("HS2",)),
        ZoneRule("EU", "DE"),
        ZoneRule("FAR", "JP"),  # a zone no service rates
    ),
    services=(
        CarrierService(
            "Post",
            "slow",
            10_000,
            (600, 400, 400),
            (Rate("GB", 4, ((2_000, 3.0), (10_000, 6.0))), Rate("GB-REMOTE", 5, ((10_000, 8.0),))),
        ),
        CarrierService(
            "Post",
            "fast",
            10_000,
            (600, 400, 400),
            (Rate("GB", 1, ((10_000, 9.0),)), Rate("GB-ISLE", 2, ((10_000, 12.0),))),
        ),
        CarrierService(
            "Van",
            "big",
            40_000,
            (1_500, 800, 800),
            (Rate("GB", 2, ((20_000, 7.5), (40_000, 15.0))), Rate("EU", 3, ((40_000, 20.0),))),
        ),
    ),
)


def ship(
    weight_g: int = 1_000,
    dims: tuple[int, int, int] = (300, 200, 100),
    country: str = "GB",
    postcode: str = "SW1A 1AA",
    promised: date | None = None,
) -> Shipment:
    return Shipment(weight_g, dims, country, postcode, MON, promised)


def test_the_cheapest_service_that_fits_is_chosen() -> None:
    choice = choose_carrier(RULES, ship())
    assert (choice.carrier, choice.service, choice.cost) == ("Post", "slow", 3.0)
    assert choice.chosen_by == "hub"
    assert "cheapest of 3 services" in choice.rule and "zone GB" in choice.rule
    # every service of the zone is quoted, fitting and cheapest first
    assert [q.name for q in choice.options] == ["Post slow", "Van big", "Post fast"]
    assert [q.cost for q in choice.options] == [3.0, 7.5, 9.0]


def test_the_price_follows_the_weight_band() -> None:
    assert choose_carrier(RULES, ship(weight_g=2_000)).cost == 3.0
    assert choose_carrier(RULES, ship(weight_g=2_001)).cost == 6.0


def test_a_parcel_over_a_services_weight_limit_goes_with_another() -> None:
    choice = choose_carrier(RULES, ship(weight_g=12_000))
    assert choice.name == "Van big"
    slow = choice.quote("Post", "slow")
    assert slow is not None and not slow.fits
    assert slow.why_not == "12.0 kg is over its 10.0 kg"
    assert [q.name for q in choice.fitting()] == ["Van big"]


def test_a_parcel_over_a_services_size_goes_with_another_in_any_orientation() -> None:
    # 350 x 650 x 150 fits 600x400x400 in no orientation (650 > 600)
    assert choose_carrier(RULES, ship(dims=(350, 650, 150))).name == "Van big"
    # 390 x 150 x 590 fits once turned
    assert choose_carrier(RULES, ship(dims=(390, 150, 590))).name == "Post slow"


def test_the_promised_date_rules_out_slow_services() -> None:
    # shipped Monday, promised Wednesday: 4 days is late, 2 days is in time
    choice = choose_carrier(RULES, ship(promised=date(2026, 11, 25)))
    assert choice.name == "Van big"
    assert "by 2026-11-25" in choice.rule
    slow = choice.quote("Post", "slow")
    assert slow is not None and slow.fits and slow.late


def test_when_nothing_is_in_time_the_fastest_that_fits_is_chosen_and_called_late() -> None:
    choice = choose_carrier(RULES, ship(promised=MON))
    assert choice.name == "Post fast"
    assert "none arrives by 2026-11-23" in choice.rule and "late" in choice.rule


def test_zones_by_country_and_longest_postcode_prefix() -> None:
    assert RULES.zone_of("GB", "SW1A 1AA") == "GB"
    assert RULES.zone_of("gb", "iv2 3ab") == "GB-REMOTE"
    assert RULES.zone_of("GB", "HS1 2AB") == "GB-REMOTE"
    assert RULES.zone_of("GB", "HS2 9ZZ") == "GB-ISLE"  # longer prefix wins
    assert RULES.zone_of("DE", "10115") == "EU"
    assert RULES.zone_of("FR", "75001") is None
    assert choose_carrier(RULES, ship(postcode="IV2 3AB")).name == "Post slow"
    assert choose_carrier(RULES, ship(postcode="IV2 3AB")).cost == 8.0
    assert choose_carrier(RULES, ship(country="DE", postcode="10115")).name == "Van big"


def test_a_destination_no_zone_covers_is_a_clear_error() -> None:
    with pytest.raises(NoCarrierService) as err:
        choose_carrier(RULES, ship(country="FR", postcode="75001"))
    assert err.value.reason == (
        "no carrier service for destination FR 75001: no zone of the carrier rules covers it"
    )
    assert "add a zone for FR to carriers.toml" in err.value.hint


def test_a_zone_no_service_rates_is_a_clear_error() -> None:
    with pytest.raises(NoCarrierService) as err:
        choose_carrier(RULES, ship(country="JP", postcode="100-0001"))
    assert err.value.reason == (
        "no carrier service for destination zone FAR: no service has a rate for it"
    )
    assert "add a rate for zone FAR" in err.value.hint


def test_a_parcel_no_service_takes_is_a_clear_error() -> None:
    with pytest.raises(NoCarrierService) as err:
        choose_carrier(RULES, ship(weight_g=50_000))
    assert "no carrier service of zone GB takes a parcel of 50.0 kg" in err.value.reason
    assert "Van big: 50.0 kg is over its 40.0 kg" in err.value.reason


def test_a_service_given_with_the_order_is_kept_and_quoted() -> None:
    choice = given_choice(RULES, ship(), "Post", "fast")
    assert (choice.name, choice.cost, choice.rule) == ("Post fast", 9.0, "given with the order")
    assert len(choice.options) == 3
    # outside the rules it is still kept, without quotes
    far = given_choice(RULES, ship(country="FR"), "Post", "fast")
    assert (far.name, far.cost, far.options) == ("Post fast", None, ())


def test_a_user_changes_to_a_fitting_service_with_a_reason() -> None:
    hub = choose_carrier(RULES, ship())
    changed = changed_choice(hub, "Van", "big", user="u-7", reason="fragile")
    assert (changed.name, changed.cost, changed.chosen_by) == ("Van big", 7.5, "u-7")
    assert changed.rule == "changed by u-7: fragile"
    assert changed.options == hub.options


def test_a_change_without_a_reason_or_to_a_service_that_does_not_fit_is_refused() -> None:
    hub = choose_carrier(RULES, ship(weight_g=12_000))
    with pytest.raises(DomainError, match="needs a reason"):
        changed_choice(hub, "Van", "big", user="u-7", reason="  ")
    with pytest.raises(DomainError) as err:
        changed_choice(hub, "Post", "slow", user="u-7", reason="cheaper")
    assert err.value.reason == "Post slow does not take this parcel"
    assert err.value.hint == "choose one of: Van big"


def test_a_choice_survives_its_json_form() -> None:
    choice = choose_carrier(RULES, ship(promised=date(2026, 11, 25)))
    assert CarrierChoice.from_dict(choice.to_dict()) == choice
    assert Quote.from_dict(choice.options[0].to_dict()) == choice.options[0]


def test_a_choice_carries_the_rules_currency_and_the_zones_sort_code() -> None:
    rules = CarrierRules(
        zones=(ZoneRule("GB", "GB", sort_code="GB-MAIN"), *RULES.zones[1:]),
        services=RULES.services,
        currency="GBP",
    )
    hub = choose_carrier(rules, ship())
    assert (hub.currency, hub.sort_code) == ("GBP", "GB-MAIN")
    assert hub.money(hub.cost) == "3.00 GBP" and hub.money(None) == "-"
    remote = choose_carrier(rules, ship(postcode="IV1 1AA"))
    assert remote.sort_code == "GB-REMOTE"  # no sort code given: the zone's name
    changed = changed_choice(hub, "Van", "big", user="u-7", reason="fragile")
    assert (changed.currency, changed.sort_code) == ("GBP", "GB-MAIN")
    given = given_choice(rules, ship(), "Post", "fast")
    assert (given.currency, given.sort_code, given.cost) == ("GBP", "GB-MAIN", 9.0)
    assert CarrierChoice.from_dict(hub.to_dict()) == hub
    old = {k: v for k, v in hub.to_dict().items() if k not in ("currency", "sort_code")}
    assert (CarrierChoice.from_dict(old).currency, CarrierChoice.from_dict(old).sort_code) == (
        "",
        "",
    )  # a choice stored before either existed
