"""The demo site, generated deterministically from a seed (see docs/demo.md).

One site (``dc1``), a two-block floor of 10 aisles x 20 bays x 4 levels (levels 1-3 are
pick faces, level 4 is reserve), 500 SKUs with valid GTIN-13s, dimensions and weights,
200 orders with realistic line counts and English or Chinese addresses, stock per
location, users with badges and roles, 4 carton sizes, a pool of reusable totes (some on
carts) and the device ids the simulator uses. The same seed always gives the same site,
on every machine.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date

from floor_app.carrier_rules import DEMO_RULES, read_rules
from floor_app.domain.carriers import Shipment, estimate_parcel, given_choice
from floor_app.domain.errors import NotFound
from floor_app.domain.gtin import with_check_digit
from floor_app.domain.layout import Layout
from floor_app.domain.location import Location, LocationKind, Side
from floor_app.domain.order import Address, Order, OrderLine
from floor_app.domain.packing import Carton
from floor_app.domain.replenishment import PickFace
from floor_app.domain.sku import Dimensions, Sku
from floor_app.domain.users import Role, User, hash_pin

from . import vocabulary as v

DEFAULT_SEED = 20261125
SITE = "dc1"
COMPANY_PREFIX = "4260123"  # 7-digit GS1 company prefix used by every demo GTIN
DEMO_PIN = "1234"


@dataclass(frozen=True, slots=True)
class StockRecord:
    """Units of a SKU held at a location, with their lot: ``expiry_days`` (from the day the
    site is loaded; None: the item does not expire) and ``received_days_ago``."""

    location: str
    sku: str
    qty: int
    lot: str = ""
    expiry_days: int | None = None
    received_days_ago: int = 0


@dataclass(frozen=True, slots=True)
class DemoDevice:
    """A device of the demo site: its id, role and (for pack stations) its station."""

    device_id: str
    role: Role
    station: str = ""


@dataclass(slots=True)
class DemoSite:
    """Everything the demo site consists of."""

    site: str
    layout: Layout
    skus: list[Sku]
    locations: list[Location]
    stock: list[StockRecord]
    orders: list[Order]
    users: list[User]
    cartons: list[Carton]
    devices: list[DemoDevice]
    pick_faces: dict[str, str] = field(default_factory=dict)  # sku -> pick-face location
    face_levels: list[PickFace] = field(default_factory=list)  # min/max of every pick face
    totes: list[str] = field(default_factory=list)  # every tote code of the site
    carts: dict[str, list[str]] = field(default_factory=dict)  # cart -> its totes, in order

    def order(self, order_id: str) -> Order:
        """The order with ``order_id``; raises :class:`NotFound`."""
        for order in self.orders:
            if order.order_id == order_id:
                return order
        raise NotFound(f"no demo order {order_id!r}", hint="demo orders are SO-100001 to SO-100200")

    def sku(self, code: str) -> Sku:
        """The SKU with code ``code``; raises :class:`NotFound`."""
        for sku in self.skus:
            if sku.sku == code:
                return sku
        raise NotFound(f"no demo SKU {code!r}")


def _zone(aisle: int) -> str:
    return "A" if aisle <= 5 else "B"


def _locations(layout: Layout) -> list[Location]:
    out: list[Location] = []
    for aisle in range(1, layout.aisles + 1):
        for bay in range(1, layout.bays + 1):
            x, y, side = layout.bay_point(aisle, bay)
            for level in range(1, 5):
                zone = _zone(aisle)
                out.append(
                    Location(
                        code=Location.make_code(zone, aisle, bay, level, "A"),
                        site=SITE,
                        zone=zone,
                        aisle=aisle,
                        bay=bay,
                        level=level,
                        bin="A",
                        x=round(x, 3),
                        y=round(y, 3),
                        kind=LocationKind.RESERVE if level == 4 else LocationKind.PICK,
                        side=side,
                    )
                )
    back = layout.cross_aisle_ys()[0]
    specials = [(f"PACK-{i:02d}", LocationKind.PACK) for i in range(1, 5)] + [
        ("STAGE-01", LocationKind.STAGING),
        ("DOCK-01", LocationKind.DOCK),
        ("QUAR-01", LocationKind.QUARANTINE),
        ("RET-01", LocationKind.RETURNS),
    ]
    for i, (code, kind) in enumerate(specials):
        out.append(
            Location(
                code, SITE, "S", 0, i + 1, 0, "A", round(-2.0 - i * 1.5, 3), back, kind, Side.LEFT
            )
        )
    return out


def _jitter(rng: random.Random, value: int, spread: float = 0.2) -> int:
    return max(1, round(value * rng.uniform(1 - spread, 1 + spread)))


def _skus(rng: random.Random, count: int) -> list[Sku]:
    out: list[Sku] = []
    combos = [(a, p) for p in v.PRODUCTS for a in v.ADJECTIVES]
    rng.shuffle(combos)
    for i in range(count):
        (adj, adj_zh), (noun, noun_zh, dims, weight) = combos[i % len(combos)]
        variant = i // len(combos) + 1
        suffix, suffix_zh = ("", "") if variant == 1 else (f" v{variant}", f" 第{variant}款")
        out.append(
            Sku(
                sku=f"SKU-{i + 1:05d}",
                gtin=with_check_digit(f"{COMPANY_PREFIX}{i + 1:05d}"),
                description=f"{adj} {noun}{suffix}",
                description_zh=f"{adj_zh}{noun_zh}{suffix_zh}",
                dimensions=Dimensions(*(_jitter(rng, d) for d in dims)),
                weight_g=_jitter(rng, weight),
            )
        )
    return out


def _english_address(rng: random.Random) -> Address:
    city, postcode, country = rng.choice(v.CITIES)
    return Address(
        name=f"{rng.choice(v.FIRST_NAMES)} {rng.choice(v.LAST_NAMES)}",
        lines=(f"{rng.randint(1, 240)} {rng.choice(v.STREETS)}",),
        city=city,
        postcode=postcode,
        country=country,
        phone=f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
    )


def _chinese_address(rng: random.Random) -> Address:
    city, district, postcode, road = rng.choice(v.ZH_CITIES)
    return Address(
        name=rng.choice(v.ZH_SURNAMES) + rng.choice(v.ZH_GIVEN) + rng.choice(("", *v.ZH_GIVEN)),
        lines=(
            f"{district}{road}{rng.randint(1, 999)}号",
            f"{rng.randint(1, 30)}楼{rng.randint(1, 20)}室",
        ),
        city=city,
        postcode=postcode,
        country="CN",
        phone=f"+86 1{rng.randint(30, 89)}{rng.randint(10000000, 99999999)}",
    )


def _line_count(rng: random.Random) -> int:
    # E-commerce shape: most orders have one or two lines, a few have many.
    return rng.choices((1, 2, 3, 4, 5, 6, 8), weights=(45, 25, 12, 7, 5, 4, 2))[0]


def _orders(rng: random.Random, skus: list[Sku], count: int) -> list[Order]:
    # Popularity follows a Zipf-like curve: a few SKUs are in many orders.
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(skus))]
    orders: list[Order] = []
    for i in range(count):
        n = _line_count(rng)
        chosen: list[Sku] = []
        while len(chosen) < n:
            sku = rng.choices(skus, weights=weights)[0]
            if sku not in chosen:
                chosen.append(sku)
        lines = [
            OrderLine(line_no=j + 1, sku=s.sku, qty=rng.choices((1, 2, 3), weights=(80, 15, 5))[0])
            for j, s in enumerate(chosen)
        ]
        address = _chinese_address(rng) if rng.random() < 0.3 else _english_address(rng)
        carrier = (
            "SF Express" if address.country == "CN" else rng.choice(("DHL", "UPS", "Royal Mail"))
        )
        orders.append(
            Order(
                order_id=f"SO-{100001 + i}",
                lines=lines,
                ship_to=address,
                priority=1 if rng.random() < 0.1 else 5,
                carrier=carrier,
                service="express" if rng.random() < 0.2 else "standard",
                channel=rng.choice(("web", "app", "marketplace")),
            )
        )
    return orders


#: Every pick face is refilled below this many units not promised to orders ...
FACE_MIN = 8
#: ... up to its starting quantity plus this many.
FACE_ROOM = 12


def _place_stock(
    rng: random.Random,
    skus: list[Sku],
    locations: list[Location],
    orders: list[Order],
    layout: Layout,
) -> tuple[dict[str, str], list[StockRecord], list[PickFace]]:
    demand: dict[str, int] = {}
    for order in orders:
        for line in order.lines:
            demand[line.sku] = demand.get(line.sku, 0) + line.qty
    # Fast movers go to the pick faces closest to the depot (lower aisles, front bays, waist level).
    faces = sorted(
        (loc for loc in locations if loc.kind is LocationKind.PICK),
        key=lambda loc: (abs(loc.x - layout.depot[0]) + loc.y, abs(loc.level - 2)),
    )
    ranked = sorted(skus, key=lambda s: -demand.get(s.sku, 0))
    pick_faces: dict[str, str] = {}
    stock: list[StockRecord] = []
    levels: list[PickFace] = []
    for i, (sku, face) in enumerate(zip(ranked, faces, strict=False)):
        pick_faces[sku.sku] = face.code
        need = demand.get(sku.sku, 0)
        qty = need + rng.randint(5, 40)
        # one lot per SKU on the floor; every third SKU dates (food, cosmetics ...)
        stock.append(StockRecord(face.code, sku.sku, qty, *_lot(sku.sku, i), 30))
        levels.append(PickFace(face.code, sku.sku, FACE_MIN, qty + FACE_ROOM))
    reserves = [loc for loc in locations if loc.kind is LocationKind.RESERVE]
    for i, (sku, loc) in enumerate(zip(ranked, reserves, strict=False)):
        stock.append(StockRecord(loc.code, sku.sku, rng.randint(24, 120), *_lot(sku.sku, i), 10))
    return pick_faces, stock, levels


def _lot(sku: str, rank: int) -> tuple[str, int | None]:
    """The lot of a SKU's stock and its shelf life in days (None: it does not expire)."""
    return f"L{sku[-5:]}-{1 + rank % 4}", (120 + (rank * 37) % 400 if rank % 3 == 0 else None)


@functools.cache
def _demo_pin_hash() -> str:
    """One hash of the demo PIN for every demo user (a slow hash is made once per process)."""
    return hash_pin("demo", DEMO_PIN)


def _users() -> list[User]:
    people = [
        ("alice", "Alice Walker", "B1001", {Role.PICKER}, "en", True),
        ("wangfang", "王芳", "B1002", {Role.PICKER}, "zh", True),
        ("sam", "Sam Hughes", "B1003", {Role.PICKER, Role.PACKER}, "en", True),
        ("ben", "Ben Taylor", "B2001", {Role.PACKER}, "en", True),
        ("liwei", "李伟", "B2002", {Role.PACKER}, "zh", True),
        ("grace", "Grace Hall", "B3001", {Role.SUPERVISOR}, "en", True),
        ("zhangmin", "张敏", "B3002", {Role.SUPERVISOR}, "zh", True),
        ("tom", "Tom Wright (left)", "B1999", {Role.PICKER}, "en", False),
    ]
    return [
        User(uid, name, badge, frozenset(roles), _demo_pin_hash(), active, lang)
        for uid, name, badge, roles, lang, active in people
    ]


def _cartons() -> list[Carton]:
    return [
        Carton("CTN-S", Dimensions(200, 150, 100), tare_g=80, max_weight_g=5_000, cost=0.30),
        Carton("CTN-M", Dimensions(300, 250, 150), tare_g=150, max_weight_g=10_000, cost=0.55),
        Carton("CTN-L", Dimensions(400, 300, 250), tare_g=250, max_weight_g=20_000, cost=0.90),
        Carton("CTN-XL", Dimensions(600, 400, 400), tare_g=450, max_weight_g=30_000, cost=1.60),
    ]


#: The demo's totes: T0001 to T0960, used again and again; the first 60 stand on ten carts
#: of six (CART-01 holds T0001-T0006 ...), the others are loose on the tote stack.
TOTE_COUNT = 960
CARTS = 10
TOTES_PER_CART = 6


def _totes() -> tuple[list[str], dict[str, list[str]]]:
    totes = [f"T{n:04d}" for n in range(1, TOTE_COUNT + 1)]
    carts = {
        f"CART-{c:02d}": totes[(c - 1) * TOTES_PER_CART : c * TOTES_PER_CART]
        for c in range(1, CARTS + 1)
    }
    return totes, carts


def _devices() -> list[DemoDevice]:
    return [
        *(DemoDevice(f"hh-{i:02d}", Role.PICKER) for i in range(1, 5)),
        *(DemoDevice(f"pk-{i:02d}", Role.PACKER, f"PACK-{i:02d}") for i in range(1, 3)),
        DemoDevice("sv-01", Role.SUPERVISOR),
    ]


#: Who sends the demo site's parcels (and takes back what cannot be delivered): the
#: sender and return address of every demo label.
DEMO_SENDER = Address(
    name="Floor Demo DC1",
    lines=("Unit 4, Riverside Park", "Goods In, Door 3"),
    city="Leeds",
    postcode="LS10 1AB",
    country="GB",
    phone="+44 113 496 0000",
)

#: The day demo parcels are quoted for (no demo order has a promised date).
DEMO_SHIP_DATE = date(2026, 11, 25)


def _quote_carriers(orders: list[Order], skus: list[Sku], cartons: list[Carton]) -> None:
    """Each order keeps the service it came with, quoted with the demo's carrier rules (so
    a packer can change it, as with the hub's choice)."""
    rules = read_rules(DEMO_RULES).to_domain()
    by_code = {s.sku: s for s in skus}
    for order in orders:
        weight, dims = estimate_parcel([(by_code[ln.sku], ln.qty) for ln in order.lines], cartons)
        address = order.ship_to
        shipment = Shipment(weight, dims, address.country, address.postcode, DEMO_SHIP_DATE)
        order.set_carrier(given_choice(rules, shipment, order.carrier, order.service))


def build_demo_site(
    seed: int = DEFAULT_SEED, *, sku_count: int = 500, order_count: int = 200
) -> DemoSite:
    """Build the demo site. Same seed, same site."""
    rng = random.Random(seed)
    layout = Layout(aisles=10, bays=20, middle_cross_after=(4,))
    locations = _locations(layout)
    skus = _skus(rng, sku_count)
    orders = _orders(rng, skus, order_count)
    pick_faces, stock, levels = _place_stock(rng, skus, locations, orders, layout)
    cartons = _cartons()
    _quote_carriers(orders, skus, cartons)
    totes, carts = _totes()
    return DemoSite(
        site=SITE,
        layout=layout,
        skus=skus,
        locations=locations,
        stock=stock,
        orders=orders,
        users=_users(),
        cartons=cartons,
        devices=_devices(),
        pick_faces=pick_faces,
        face_levels=levels,
        totes=totes,
        carts=carts,
    )
