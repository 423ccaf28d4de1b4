"""Opening the hub database for a site, and loading the demo site into an empty one."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Connection, Engine, select, text

from floor_app.demo import DemoSite, StockRecord, build_demo_site
from sync.protocol import (
    OrderIntake,
    RosterUpdate,
    StationConfig,
    Topics,
    UserModel,
)

from .carrier_rules import DEMO_RULES, read_rules, store_rules
from .database import check_reachable, make_engine, run_transaction
from .errors import HubError
from .intake import take_order
from .migrate import upgrade
from .outbound import Outbound, OutMessage, transact
from .pick_faces import save_faces
from .site_data import (
    ORDERS_TABLE,
    add_cartons,
    add_locations,
    add_skus,
    add_stock,
    add_users,
    get_meta,
    register_device,
    save_layout,
    set_lots,
    set_meta,
)
from .totes import ToteList, store_tote_list

DEMO_KEY = "demo_loaded"


def open_database(db: str, site: str) -> Engine:
    """The engine for ``db``, migrated to the newest revision and bound to ``site``.

    Raises :class:`~hub.errors.DatabaseUnavailable` when it cannot be reached and
    :class:`~hub.errors.HubError` when it belongs to another site.
    """
    engine = make_engine(db)
    check_reachable(engine)
    upgrade(engine)

    def bind(conn: Connection) -> str:
        stored = get_meta(conn, "site")
        if stored is None:
            set_meta(conn, "site", site)
            return site
        return stored

    stored = run_transaction(engine, bind, what="site")
    if stored != site:
        engine.dispose()
        raise HubError(
            f"the hub database belongs to site {stored!r}, not {site!r}",
            hint=f"pass --site {stored} or another --db",
        )
    return engine


def _is_empty(conn: Connection) -> bool:
    return conn.execute(select(ORDERS_TABLE.c.order_id).limit(1)).first() is None


def load_demo(
    engine: Engine,
    site: DemoSite | None = None,
    *,
    now: float | None = None,
    orders: int | None = None,
) -> tuple[bool, list[OutMessage]]:
    """Load the demo site (SKUs, locations, stock, users, cartons, carrier rules, totes,
    devices, orders, roster) into an empty database; (False, []) when it was loaded before.

    ``orders`` limits the demo orders taken in to the first N (None: all of them; 0: none,
    the orders then come through intake).

    Raises :class:`HubError` when the database already holds other orders.
    """
    demo = site or build_demo_site()
    demo_rules = read_rules(DEMO_RULES)
    topics = Topics(demo.site)
    now = time.time() if now is None else now

    def work(conn: Connection, out: Outbound) -> bool:
        if get_meta(conn, DEMO_KEY):
            return False
        if not _is_empty(conn):
            raise HubError(
                "the hub database already holds orders; the demo site loads only into an "
                "empty database",
                hint="use another --db for the demo",
            )
        save_layout(conn, demo.layout)
        add_skus(conn, demo.skus)
        add_locations(conn, demo.locations)
        add_stock(conn, [(r.location, r.sku, r.qty) for r in demo.stock])
        set_lots(conn, [_lot_of(r, now) for r in demo.stock])
        save_faces(conn, demo.face_levels)
        add_users(conn, demo.users)
        add_cartons(conn, demo.cartons)
        store_rules(conn, demo_rules)
        roster = RosterUpdate(users=[UserModel.from_domain(u) for u in demo.users])
        for device in demo.devices:
            register_device(conn, device.device_id, device.role.value, station=device.station)
            out.push(device.device_id, roster)
            if device.station:
                out.push(
                    device.device_id,
                    StationConfig(
                        station=device.station,
                        settings={
                            "cartons": ",".join(c.code for c in demo.cartons),
                            "site": demo.site,
                        },
                    ),
                )
        store_tote_list(conn, out, ToteList(demo.totes, demo.carts), now=now)
        for order in demo.orders[:orders]:
            intake = OrderIntake.from_domain(order)
            result = take_order(conn, out, intake.model_dump(mode="json"), source="demo", now=now)
            if not result.accepted:
                raise HubError(f"demo order {order.order_id} rejected: {result.reasons}")
        set_meta(conn, DEMO_KEY, str(now))
        return True

    result = transact(engine, topics, work, "demo")
    if result[0]:
        refresh_statistics(engine)
    return result


def _lot_of(r: StockRecord, now: float) -> tuple[str, str, str, str, float]:
    """A demo stock record's lot, expiry date and receipt time, counted from ``now``."""
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    expiry = "" if r.expiry_days is None else (day + dt.timedelta(r.expiry_days)).isoformat()
    return r.location, r.sku, r.lot, expiry, now - r.received_days_ago * 86400.0


def refresh_statistics(engine: Engine) -> None:
    """Let PostgreSQL's planner see tables that were just filled (``ANALYZE``); a bulk load
    otherwise leaves it planning for empty tables until autovacuum comes by."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
