"""The demo scale weighs what is in the carton, give or take a few grams, and misweighs once
on request by more than any pack station's tolerance."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from device_drivers.demo_scale import MISWEIGH_MIN_G, DemoScale, Parcel
from floor_app.demo import build_demo_site

pytestmark = pytest.mark.unit


def tolerance_g(expected_g: int) -> int:
    """The pack station's default tolerance (5 %, at least 30 g)."""
    return max(30, round(expected_g * 5 / 100))


def demo_parcels() -> list[Parcel]:
    """The first 40 demo orders, each in the smallest demo carton and in the largest."""
    site = build_demo_site()
    weights = {s.sku: s.weight_g for s in site.skus}
    tares = sorted(c.tare_g for c in site.cartons)
    parcels = []
    for order in site.orders[:40]:
        units = tuple(weights[ln.sku] for ln in order.lines for _ in range(ln.qty))
        parcels += [Parcel(units, tares[0]), Parcel(units, tares[-1])]
    return parcels


def test_a_parcel_weighs_its_units_and_carton_within_a_few_grams() -> None:
    scale = DemoScale(rng=random.Random(7))
    scale.start()
    readings = []
    for parcel in demo_parcels():
        promised = scale.put(parcel)
        assert not scale.read(stable=False).stable  # it swings before it settles
        weight = scale.read()
        assert weight.stable and weight.grams == promised
        assert abs(weight.grams - parcel.grams) <= 2 + parcel.grams * 0.005
        assert abs(weight.grams - parcel.grams) < tolerance_g(parcel.grams) / 2
        readings.append(weight.grams - parcel.grams)
    assert len(set(readings)) > 3, "the noise never varies"


def test_the_scale_weighs_what_is_put_on_it_not_a_fixed_parcel() -> None:
    scale = DemoScale(noise_g=0, noise_share=Decimal(0))
    scale.start()
    assert scale.put(Parcel((250, 120, 120), 180)) == 670
    assert scale.read().grams == 670
    assert scale.put(Parcel((4100,), 900)) == 5000
    assert scale.read().grams == 5000


def test_misweigh_makes_only_the_next_weighing_fail_the_check() -> None:
    scale = DemoScale(rng=random.Random(3))
    scale.start()
    light, heavy = Parcel((35,), 90), Parcel((2400, 1800), 900)
    scale.misweigh_next()
    assert scale.misweigh_armed
    off = scale.put(light)
    assert not scale.misweigh_armed
    assert off - light.grams >= MISWEIGH_MIN_G > tolerance_g(light.grams)
    assert abs(scale.put(light) - light.grams) < tolerance_g(light.grams)
    scale.misweigh_next()
    assert scale.put(heavy) - heavy.grams > tolerance_g(heavy.grams)
    assert abs(scale.put(heavy) - heavy.grams) < tolerance_g(heavy.grams)
