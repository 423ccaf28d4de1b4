"""The demo site: deterministic per seed, complete, consistent and made of valid codes."""

import re
from collections import Counter

import pytest

from floor_app.demo import DemoSite, build_demo_site
from floor_app.demo.site import DEFAULT_SEED, DEMO_PIN
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import NotFound
from floor_app.domain.gtin import validate_gtin
from floor_app.domain.location import Location, LocationKind
from floor_app.domain.users import Role

pytestmark = pytest.mark.unit

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return build_demo_site()


# -- determinism -------------------------------------------------------------------------


def test_same_seed_same_site(site: DemoSite) -> None:
    again = build_demo_site(DEFAULT_SEED)
    assert again == site
    assert [o.ship_to for o in again.orders] == [o.ship_to for o in site.orders]
    assert again.stock == site.stock
    assert again.pick_faces == site.pick_faces


def test_another_seed_gives_other_data(site: DemoSite) -> None:
    other = build_demo_site(DEFAULT_SEED + 1)
    assert [o.lines for o in other.orders] != [o.lines for o in site.orders]
    assert [o.ship_to for o in other.orders] != [o.ship_to for o in site.orders]
    assert [s.description for s in other.skus] != [s.description for s in site.skus]
    assert [(s.dimensions, s.weight_g) for s in other.skus] != [
        (s.dimensions, s.weight_g) for s in site.skus
    ]
    # The fixed parts stay: the floor, the people and the cartons.
    assert other.locations == site.locations
    assert other.users == site.users
    assert other.cartons == site.cartons


def test_counts_can_be_chosen() -> None:
    small = build_demo_site(7, sku_count=30, order_count=12)
    assert (len(small.skus), len(small.orders)) == (30, 12)
    assert {line.sku for o in small.orders for line in o.lines} <= {s.sku for s in small.skus}


# -- the floor ---------------------------------------------------------------------------


def test_floor_size(site: DemoSite) -> None:
    racks = [loc for loc in site.locations if loc.aisle > 0]
    assert site.layout.aisles >= 10 and site.layout.bays >= 20
    assert len({loc.aisle for loc in racks}) >= 10
    assert len({loc.bay for loc in racks}) >= 20
    assert len({loc.level for loc in racks}) >= 4
    assert len(racks) == site.layout.aisles * site.layout.bays * 4


def test_location_codes_are_unique_and_scan_as_locations(site: DemoSite) -> None:
    codes = [loc.code for loc in site.locations]
    assert len(set(codes)) == len(codes)
    for loc in site.locations:
        code = classify(loc.code)
        assert (code.kind, code.value) == (CodeKind.LOCATION, loc.code)
        assert loc.site == site.site


def test_rack_locations_match_their_code_and_the_layout(site: DemoSite) -> None:
    for loc in site.locations:
        if loc.kind not in (LocationKind.PICK, LocationKind.RESERVE):
            continue
        assert Location.parse_code(loc.code) == (loc.zone, loc.aisle, loc.bay, loc.level, loc.bin)
        x, y, side = site.layout.bay_point(loc.aisle, loc.bay)
        assert loc.x == pytest.approx(x)
        assert loc.y == pytest.approx(y)
        assert loc.side is side
        assert (loc.kind is LocationKind.RESERVE) == (loc.level == 4)


def test_special_locations(site: DemoSite) -> None:
    kinds = Counter(loc.kind for loc in site.locations)
    assert kinds[LocationKind.PACK] == 4
    for kind in (
        LocationKind.STAGING,
        LocationKind.DOCK,
        LocationKind.QUARANTINE,
        LocationKind.RETURNS,
    ):
        assert kinds[kind] >= 1


# -- SKUs --------------------------------------------------------------------------------


def test_five_hundred_skus_with_valid_unique_gtins(site: DemoSite) -> None:
    assert len(site.skus) == 500
    gtins = [s.gtin for s in site.skus]
    assert len(set(gtins)) == 500
    for sku in site.skus:
        assert validate_gtin(sku.gtin) == sku.gtin
        code = classify(sku.gtin.lstrip("0"))
        assert (code.kind, code.value) == (CodeKind.PRODUCT, sku.gtin)
    assert len({s.sku for s in site.skus}) == 500


def test_documented_gtin_of_the_first_sku(site: DemoSite) -> None:
    assert site.sku("SKU-00001").gtin == "04260123000011"


def test_skus_have_positive_dimensions_weights_and_two_languages(site: DemoSite) -> None:
    for sku in site.skus:
        assert sku.dimensions is not None
        assert min(sku.dimensions.sorted()) > 0
        assert sku.weight_g > 0
        assert sku.description.strip()
        assert CJK.search(sku.description_zh)


# -- orders ------------------------------------------------------------------------------


def test_two_hundred_orders_with_unique_ids(site: DemoSite) -> None:
    assert len(site.orders) == 200
    ids = [o.order_id for o in site.orders]
    assert len(set(ids)) == 200
    assert ids[0] == "SO-100001" and ids[-1] == "SO-100200"
    for order_id in ids:
        assert classify(order_id).kind is CodeKind.ORDER


def test_order_lines_reference_existing_skus(site: DemoSite) -> None:
    known = {s.sku for s in site.skus}
    for order in site.orders:
        skus = [line.sku for line in order.lines]
        assert set(skus) <= known
        assert len(set(skus)) == len(skus)
        assert all(line.qty > 0 for line in order.lines)
        assert [line.line_no for line in order.lines] == list(range(1, len(order.lines) + 1))


def test_realistic_line_counts(site: DemoSite) -> None:
    counts = Counter(len(o.lines) for o in site.orders)
    assert min(counts) == 1 and max(counts) <= 8
    assert counts[1] >= 60  # most orders have one line
    assert sum(n for c, n in counts.items() if c >= 3) >= 20  # and some have many


def test_english_and_chinese_addresses_are_complete(site: DemoSite) -> None:
    chinese = [o for o in site.orders if o.ship_to.country == "CN"]
    english = [o for o in site.orders if o.ship_to.country != "CN"]
    assert len(chinese) >= 20 and len(english) >= 20
    for order in site.orders:
        assert order.ship_to.missing_fields() == [], order.order_id
        assert order.carrier
    for order in chinese:
        assert CJK.search(order.ship_to.name)
        assert CJK.search(order.ship_to.city)
        assert all(CJK.search(line) for line in order.ship_to.lines)
        assert order.carrier == "SF Express"
    for order in english:
        assert not CJK.search(" ".join(order.ship_to.as_label_lines()))


# -- stock -------------------------------------------------------------------------------


def test_every_sku_has_a_pick_face(site: DemoSite) -> None:
    by_code = {loc.code: loc for loc in site.locations}
    assert set(site.pick_faces) == {s.sku for s in site.skus}
    faces = list(site.pick_faces.values())
    assert len(set(faces)) == len(faces)  # one SKU per face
    for face in faces:
        assert by_code[face].kind is LocationKind.PICK


def test_stock_covers_the_demand_of_the_orders_at_the_pick_faces(site: DemoSite) -> None:
    demand: Counter[str] = Counter()
    for order in site.orders:
        for line in order.lines:
            demand[line.sku] += line.qty
    at_face: Counter[str] = Counter()
    for record in site.stock:
        if site.pick_faces[record.sku] == record.location:
            at_face[record.sku] += record.qty
    for sku, qty in demand.items():
        assert at_face[sku] >= qty, sku


def test_stock_records_are_sound(site: DemoSite) -> None:
    by_code = {loc.code: loc for loc in site.locations}
    held: dict[str, str] = {}
    for record in site.stock:
        assert record.qty > 0
        assert by_code[record.location].kind in (LocationKind.PICK, LocationKind.RESERVE)
        assert held.setdefault(record.location, record.sku) == record.sku


# -- people, cartons, devices --------------------------------------------------------------


def test_users_have_unique_badges_and_roles(site: DemoSite) -> None:
    badges = [u.badge for u in site.users]
    assert len(set(badges)) == len(badges)
    assert len({u.user_id for u in site.users}) == len(site.users)
    for user in site.users:
        assert classify(user.badge).kind is CodeKind.BADGE
        assert user.roles
        assert user.check_pin(DEMO_PIN)
    assert set().union(*(u.roles for u in site.users)) == set(Role)
    assert any(CJK.search(u.name) for u in site.users)


def test_exactly_one_user_is_disabled(site: DemoSite) -> None:
    disabled = [u for u in site.users if not u.active]
    assert [u.badge for u in disabled] == ["B1999"]
    assert not any(disabled[0].can_act_as(r) for r in Role)


def test_four_cartons(site: DemoSite) -> None:
    assert [c.code for c in site.cartons] == ["CTN-S", "CTN-M", "CTN-L", "CTN-XL"]
    volumes = [c.volume_mm3 for c in site.cartons]
    assert volumes == sorted(volumes) and len(set(volumes)) == 4
    for carton in site.cartons:
        assert classify(carton.code).kind is CodeKind.CARTON
        assert 0 < carton.tare_g < carton.max_weight_g
        assert carton.cost > 0


def test_devices(site: DemoSite) -> None:
    ids = [d.device_id for d in site.devices]
    assert len(set(ids)) == len(ids)
    packs = {loc.code for loc in site.locations if loc.kind is LocationKind.PACK}
    for device in site.devices:
        if device.role is Role.PACKER:
            assert device.station in packs
    assert {d.role for d in site.devices} == set(Role)


def test_lookups(site: DemoSite) -> None:
    assert site.order("SO-100042").order_id == "SO-100042"
    assert site.sku("SKU-00042").sku == "SKU-00042"
    with pytest.raises(NotFound, match="no demo order 'SO-999'") as info:
        site.order("SO-999")
    assert "SO-100001" in info.value.hint
    with pytest.raises(NotFound, match="no demo SKU 'SKU-0'"):
        site.sku("SKU-0")
