"""The site's totes at the hub: the tote list (site data), what each tote holds, and telling
the devices.

Tote codes are site data, loaded with the demo or by ``floor-hub totes FILE``
(:func:`read_tote_file`, :func:`store_tote_list`) and reused for ever. The hub records
which order is in which tote from the pickers' events (:mod:`hub.handlers.totes`) and tells
the pickers' and pack stations' devices (``tote.contents`` pushes, :func:`push_totes`): a
pack station opens an order by its tote whichever device picked it, and a picker's device
knows a tote is free again once its order is packed.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState
from floor_app.domain.totes import SiteTote, ToteState, expand_tote_codes, site_totes
from sync.protocol import MAX_SITE_TOTES, SiteToteModel, ToteContents

from .errors import HubError
from .outbound import Outbound
from .repositories import ORDERS
from .tables import DeviceRow, SiteToteRow, table_of

SITE_TOTES = table_of(SiteToteRow)
DEVICES = table_of(DeviceRow)

#: Devices told about totes: pickers (a tote free again) and pack stations (its order).
TOLD_ROLES = ("picker", "packer")

_CHUNK = 500


@dataclass
class ToteRecord:
    """One site tote as loaded (``loaded``: its stored state, to write only changes)."""

    tote: SiteTote
    device_id: str = ""
    loaded: tuple[object, ...] = field(default_factory=tuple)

    def mark_loaded(self) -> None:
        self.loaded = _state_of(self)

    @property
    def changed(self) -> bool:
        return _state_of(self) != self.loaded


def _state_of(rec: ToteRecord) -> tuple[object, ...]:
    t = rec.tote
    return (t.state, t.order_id, t.task_id, t.destination, rec.device_id)


def _from_row(r: Any) -> ToteRecord:
    rec = ToteRecord(
        SiteTote(
            r.code,
            ToteState(r.state),
            r.order_id,
            r.task_id,
            r.destination,
            r.cart,
            r.cart_position,
        ),
        r.device_id,
    )
    rec.mark_loaded()
    return rec


def load_totes(
    conn: Connection, codes: Iterable[str], *, lock: bool = False
) -> dict[str, ToteRecord]:
    """The site totes with these codes (locked, sorted by code, with ``lock``)."""
    ids = sorted(set(codes))
    out: dict[str, ToteRecord] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(SITE_TOTES)
            .where(SITE_TOTES.c.code.in_(ids[start : start + _CHUNK]))
            .order_by(SITE_TOTES.c.code)
        )
        for r in conn.execute(query.with_for_update() if lock else query):
            out[r.code] = _from_row(r)
    return out


def codes_of_tasks(conn: Connection, task_ids: Iterable[str]) -> set[str]:
    """Codes of the totes being filled on these tasks."""
    ids = sorted(set(task_ids))
    if not ids:
        return set()
    return set(
        conn.execute(
            select(SITE_TOTES.c.code)
            .where(SITE_TOTES.c.task_id.in_(ids))
            .where(SITE_TOTES.c.state != ToteState.FREE.value)
        ).scalars()
    )


def codes_holding(conn: Connection, order_ids: Iterable[str]) -> set[str]:
    """Codes of the totes holding (or being filled with) these orders."""
    ids = sorted(set(order_ids))
    if not ids:
        return set()
    return set(
        conn.execute(
            select(SITE_TOTES.c.code)
            .where(SITE_TOTES.c.order_id.in_(ids))
            .where(SITE_TOTES.c.state != ToteState.FREE.value)
        ).scalars()
    )


def has_tote_list(conn: Connection) -> bool:
    """True when the site's totes were loaded (else any tote code is taken as the site's)."""
    return conn.execute(select(SITE_TOTES.c.code).limit(1)).first() is not None


def order_states(conn: Connection, order_ids: Iterable[str]) -> dict[str, OrderState]:
    """The state of each of these orders the hub knows (read, not locked)."""
    ids = sorted(set(order_ids))
    out: dict[str, OrderState] = {}
    for start in range(0, len(ids), _CHUNK):
        for order_id, state in conn.execute(
            select(ORDERS.c.order_id, ORDERS.c.state).where(
                ORDERS.c.order_id.in_(ids[start : start + _CHUNK])
            )
        ):
            out[order_id] = OrderState(state)
    return out


def save_totes(conn: Connection, records: Iterable[ToteRecord], *, now: float) -> list[SiteTote]:
    """Write the totes that changed (new ones are inserted); those totes."""
    changed: list[SiteTote] = []
    for rec in sorted(records, key=lambda r: r.tote.code):
        if not rec.changed:
            continue
        t = rec.tote
        values = {
            "state": t.state.value,
            "order_id": t.order_id,
            "task_id": t.task_id,
            "destination": t.destination,
            "device_id": rec.device_id,
            "updated_at": now,
        }
        if not rec.loaded:
            conn.execute(
                insert(SITE_TOTES).values(
                    code=t.code, cart=t.cart, cart_position=t.cart_position, **values
                )
            )
        else:
            conn.execute(update(SITE_TOTES).where(SITE_TOTES.c.code == t.code).values(**values))
        rec.mark_loaded()
        changed.append(t)
    return changed


def told_devices(conn: Connection) -> list[str]:
    """The active devices told about totes (pickers' and pack stations'), sorted."""
    return list(
        conn.execute(
            select(DEVICES.c.device_id)
            .where(DEVICES.c.active.is_(True))
            .where(DEVICES.c.role.in_(TOLD_ROLES))
            .order_by(DEVICES.c.device_id)
        ).scalars()
    )


def push_totes(
    conn: Connection,
    out: Outbound,
    totes: list[SiteTote],
    *,
    devices: list[str] | None = None,
    registry: bool = False,
) -> None:
    """Tell ``devices`` (default: every picker's and station's) what ``totes`` hold now."""
    if not totes:
        return
    item = ToteContents(totes=[SiteToteModel.from_domain(t) for t in totes], registry=registry)
    for device in told_devices(conn) if devices is None else devices:
        out.push(device, item)


# -- the tote list --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToteList:
    """A site's tote list: every tote code, and the carts (cart -> its totes in order)."""

    totes: list[str]
    carts: dict[str, list[str]]


def read_tote_file(path: Path) -> ToteList:
    """Read and check a tote list (TOML); raises :class:`HubError` naming every problem.

    ::

        totes = ["T0001-T0960"]        # codes and ranges
        [[carts]]
        cart = "CART-01"
        totes = ["T0001-T0006"]        # the totes on it, in cart order
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HubError(f"{path} is not valid TOML: {exc}") from None
    problems: list[str] = []
    unknown = sorted(set(data) - {"totes", "carts"})
    if unknown:
        problems.append(f"unknown keys {', '.join(unknown)} (known: totes, carts)")
    totes: list[str] = []
    entries = data.get("totes")
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        problems.append('totes must be a list of codes and ranges, e.g. ["T0001-T0960"]')
    else:
        try:
            totes = expand_tote_codes(entries)
        except DomainError as exc:
            problems.append(f"totes: {exc.reason}")
    carts: dict[str, list[str]] = {}
    for n, cart in enumerate(data.get("carts", []), start=1):
        if not isinstance(cart, dict) or not isinstance(cart.get("cart"), str):
            problems.append(f'carts #{n}: needs cart = "CART-01" and totes = [...]')
            continue
        try:
            carts[cart["cart"]] = expand_tote_codes(cart.get("totes", []))
        except (DomainError, AttributeError, TypeError) as exc:
            problems.append(f"cart {cart['cart']}: {getattr(exc, 'reason', exc)}")
    if not problems:
        try:
            site_totes(totes, carts)
        except DomainError as exc:
            problems.append(exc.reason)
    if len(totes) > MAX_SITE_TOTES:
        problems.append(f"{len(totes)} totes: a site has at most {MAX_SITE_TOTES}")
    if problems:
        raise HubError(f"{path}: " + "; ".join(problems), hint="fix the file and load it again")
    return ToteList(totes, carts)


@dataclass(frozen=True, slots=True)
class ToteListReport:
    """What loading a tote list did."""

    totes: int
    added: int
    removed: int
    kept_busy: list[str]
    carts: int


def store_tote_list(
    conn: Connection, out: Outbound, tote_list: ToteList, *, now: float | None = None
) -> ToteListReport:
    """Make ``tote_list`` the site's totes: new codes are added (free), totes no longer
    listed are removed unless they hold an order (kept and named), carts are set as listed;
    every picker's and station's device is sent the whole list."""
    now = time.time() if now is None else now
    wanted = {t.code: t for t in site_totes(tote_list.totes, tote_list.carts)}
    stored = {
        r.code: _from_row(r)
        for r in conn.execute(select(SITE_TOTES).order_by(SITE_TOTES.c.code).with_for_update())
    }
    added = [t for code, t in wanted.items() if code not in stored]
    for start in range(0, len(added), _CHUNK):
        conn.execute(
            insert(SITE_TOTES),
            [
                {
                    "code": t.code,
                    "state": ToteState.FREE.value,
                    "order_id": None,
                    "task_id": None,
                    "destination": "",
                    "cart": t.cart,
                    "cart_position": t.cart_position,
                    "device_id": "",
                    "updated_at": now,
                }
                for t in added[start : start + _CHUNK]
            ],
        )
    removed: list[str] = []
    busy: list[str] = []
    for code, rec in stored.items():
        if code not in wanted:
            if rec.tote.state is ToteState.FREE:
                removed.append(code)
            else:
                busy.append(code)
            continue
        new = wanted[code]
        if (new.cart, new.cart_position) != (rec.tote.cart, rec.tote.cart_position):
            conn.execute(
                update(SITE_TOTES)
                .where(SITE_TOTES.c.code == code)
                .values(cart=new.cart, cart_position=new.cart_position, updated_at=now)
            )
    for start in range(0, len(removed), _CHUNK):
        conn.execute(
            SITE_TOTES.delete().where(SITE_TOTES.c.code.in_(removed[start : start + _CHUNK]))
        )
    push_totes(conn, out, tote_list_of(conn), registry=True)
    return ToteListReport(len(wanted), len(added), len(removed), busy, len(tote_list.carts))


def tote_list_of(conn: Connection) -> list[SiteTote]:
    """Every tote of the site, by code, as the hub knows it now."""
    return [_from_row(r).tote for r in conn.execute(select(SITE_TOTES).order_by(SITE_TOTES.c.code))]


def send_tote_list(conn: Connection, out: Outbound, device_id: str) -> None:
    """Send the site's tote list to one device (a device registered after it was loaded)."""
    push_totes(conn, out, tote_list_of(conn), devices=[device_id], registry=True)


def tote_counts(conn: Connection) -> dict[str, int]:
    """Totes by state (``floor-hub stats``)."""
    return {
        str(state): int(n)
        for state, n in conn.execute(
            select(SITE_TOTES.c.state, func.count())
            .group_by(SITE_TOTES.c.state)
            .order_by(SITE_TOTES.c.state)
        )
    }
