"""Packing use cases: open a tote or order, verify each item, carton, weigh, hold.

Each call is one unit of work. The order moves picked -> packing when a session opens and
packing -> packed when the weight is accepted (:class:`PackCompleted`, a fact); a missing
or damaged item puts it on hold (:class:`OrderHeld`, a claim carrying the order version
the station saw). The packer may change the carrier service to another one the hub quoted
as fitting, with a reason (:class:`CarrierChanged`, a claim). Labels are
:mod:`floor_app.services.labels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from floor_app.domain.carriers import Quote, changed_choice
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import CarrierChanged, OrderHeld, PackCompleted
from floor_app.domain.order import Order, OrderState
from floor_app.domain.packing import Carton, LabelJob, LabelState, PackSession, PackState
from floor_app.domain.sku import Sku
from floor_app.domain.users import Role
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import new_event_id

from .cartons import suggest_carton
from .errors import AccessDenied


class WeightMismatch(DomainError):
    """The parcel weighs more or less than expected by more than the tolerance."""

    def __init__(self, weight_g: int, expected_g: int, tolerance_g: int) -> None:
        super().__init__(
            f"parcel weighs {weight_g} g, expected {expected_g} g ± {tolerance_g} g",
            hint="check the items; a supervisor badge can override",
        )
        self.weight_g = weight_g
        self.expected_g = expected_g
        self.tolerance_g = tolerance_g


@dataclass(frozen=True, slots=True)
class PackView:
    """What the packer screen shows: the session, the order, its items, carton and weights."""

    session: PackSession
    order: Order
    skus: dict[str, Sku]
    cartons: list[Carton]
    suggested: Carton | None
    tolerance_g: int
    labels: list[LabelJob] = field(default_factory=list)

    @property
    def carton(self) -> Carton | None:
        """The carton chosen (or, before a choice, the suggestion)."""
        code = self.session.carton
        chosen = next((c for c in self.cartons if c.code == code), None)
        return chosen or self.suggested

    @property
    def items_weight_g(self) -> int:
        """Weight of every expected unit."""
        return sum(self.skus[s].weight_g * q for s, q in self.session.expected.items())

    @property
    def expected_weight_g(self) -> int:
        """Items plus the carton's tare."""
        carton = self.carton
        return self.items_weight_g + (carton.tare_g if carton else 0)

    @property
    def carrier_options(self) -> tuple[Quote, ...]:
        """The other services the packer may change to (quoted by the hub as fitting)."""
        choice = self.order.carrier_choice
        if choice is None:
            return ()
        current = (self.order.carrier.lower(), self.order.service.lower())
        return tuple(
            q for q in choice.fitting() if (q.carrier.lower(), q.service.lower()) != current
        )

    @property
    def label(self) -> LabelJob | None:
        """The newest label job that is not voided."""
        live = [j for j in self.labels if j.state.value != "voided"]
        return live[-1] if live else None


class PackingService:
    """The packer's use cases at one station."""

    def __init__(
        self, store: Store, station: str, *, tolerance_pct: float = 5.0, tolerance_min_g: int = 30
    ) -> None:
        self.store = store
        self.station = station or "PACK-01"
        self.tolerance_pct = tolerance_pct
        self.tolerance_min_g = tolerance_min_g

    def tolerance_g(self, expected_g: int) -> int:
        """How far a weighed parcel may be from ``expected_g``."""
        return max(self.tolerance_min_g, round(expected_g * self.tolerance_pct / 100))

    # -- opening -----------------------------------------------------------------------------

    def open(self, scanned: str) -> PackView:
        """Open (or resume) packing of the order named by a tote or order scan."""
        code = classify(scanned)
        with self.store.unit_of_work() as uow:
            if code.kind is CodeKind.TOTE:
                order_id = uow.tasks.order_for_tote(code.value)
                if order_id is None:
                    raise NotFound(
                        f"tote {code.value} holds no order on this device",
                        hint="scan the order's packing slip instead",
                    )
            elif code.kind is CodeKind.ORDER:
                order_id = code.value
            else:
                raise DomainError(
                    f"{code.value} is a {code.kind.value} code, not a tote or an order",
                    hint="scan the tote or the order's packing slip",
                )
            order = uow.orders.get(order_id)
            session = uow.packs.open_session_for(order_id)
            if session is None:
                session = self._new_session(uow, order)
            view = self._view(uow, session, order)
            uow.commit()
        return view

    def _new_session(self, uow: UnitOfWork, order: Order) -> PackSession:
        if order.state is OrderState.HELD:
            raise DomainError(
                f"order {order.order_id} is on hold: {order.hold_reason}",
                hint="a supervisor must release it first",
            )
        if order.state in (OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED):
            raise DomainError(f"order {order.order_id} is already {order.state}")
        if order.state is not OrderState.PICKED:
            raise DomainError(
                f"order {order.order_id} is {order.state}, not picked yet",
                hint="pack it when its tote arrives",
            )
        expected: dict[str, int] = {}
        for line in order.lines:
            units = line.qty - line.short
            if units > 0:
                expected[line.sku] = expected.get(line.sku, 0) + units
        session = PackSession(f"PS-{new_event_id()}", order.order_id, self.station, expected)
        order.transition(OrderState.PACKING, f"packing at {self.station}")
        uow.orders.save(order)
        uow.packs.save_session(session)
        return session

    def view(self, session_id: str) -> PackView:
        """The current view of a session (read only)."""
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            return self._view(uow, session, uow.orders.get(session.order_id))

    def _view(self, uow: UnitOfWork, session: PackSession, order: Order) -> PackView:
        skus = {code: uow.catalogue.sku(code) for code in session.expected}
        cartons = uow.catalogue.cartons()
        items = [(skus[s], q) for s, q in session.expected.items()]
        suggested = suggest_carton(items, cartons)
        items_g = sum(sku.weight_g * q for sku, q in items)
        chosen = next((c for c in cartons if c.code == session.carton), suggested)
        expected = items_g + (chosen.tare_g if chosen else 0)
        return PackView(
            session,
            order,
            skus,
            cartons,
            suggested,
            self.tolerance_g(expected),
            uow.packs.labels_for(order.order_id),
        )

    # -- verifying ---------------------------------------------------------------------------

    def verify(self, session_id: str, scanned: str, qty: int = 1) -> tuple[PackView, Sku]:
        """Count a scanned item as verified; returns the view and the item."""
        code = classify(scanned)
        with self.store.unit_of_work() as uow:
            session = self._open_session(uow, session_id, PackState.VERIFYING)
            if code.kind is not CodeKind.PRODUCT:
                raise DomainError(
                    f"{code.value} is a {code.kind.value} code, not an item",
                    hint="scan the barcode on the item",
                )
            sku = uow.catalogue.sku_by_gtin(code.value)
            if sku.sku not in session.expected:
                raise DomainError(
                    f"{sku.sku} {sku.description} is not in order {session.order_id}",
                    hint="set it aside for the supervisor",
                )
            session.verify(sku.sku, qty)
            order = uow.orders.get(session.order_id)
            self._count_packed(uow, order, sku.sku, session.verified[sku.sku])
            if session.is_complete:
                session.state = PackState.WEIGHING
                view = self._view(uow, session, order)
                if session.carton is None and view.suggested is not None:
                    session.carton = view.suggested.code
            uow.packs.save_session(session)
            view = self._view(uow, session, order)
            uow.commit()
        return view, sku

    @staticmethod
    def _count_packed(uow: UnitOfWork, order: Order, sku: str, verified: int) -> None:
        left = verified
        for line in order.lines:
            if line.sku != sku:
                continue
            units = min(left, line.qty - line.short)
            uow.orders.set_packed(order.order_id, line.line_no, units)
            left -= units

    def choose_carton(self, session_id: str, scanned: str) -> PackView:
        """Use the carton named by a carton scan (``CTN-M``) instead of the suggestion."""
        code = classify(scanned)
        if code.kind is not CodeKind.CARTON:
            raise DomainError(f"{code.value} is not a carton code", hint="scan a CTN-… code")
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            if session.state not in (PackState.VERIFYING, PackState.WEIGHING):
                raise DomainError(f"the parcel is already {session.state}")
            if code.value not in {c.code for c in uow.catalogue.cartons()}:
                raise NotFound(f"unknown carton {code.value}")
            session.carton = code.value
            uow.packs.save_session(session)
            view = self._view(uow, session, uow.orders.get(session.order_id))
            uow.commit()
        return view

    # -- weighing ----------------------------------------------------------------------------

    def weigh(
        self, session_id: str, weight_g: int, user: str, *, override_badge: str | None = None
    ) -> PackView:
        """Accept the parcel's weight and record it packed (:class:`PackCompleted`).

        Outside the tolerance it raises :class:`WeightMismatch` unless ``override_badge``
        is the badge of an active supervisor, who is then named in the event.
        """
        if weight_g <= 0:
            raise DomainError(f"weight must be positive, got {weight_g} g", hint="weigh again")
        with self.store.unit_of_work() as uow:
            session = self._open_session(uow, session_id, PackState.WEIGHING)
            order = uow.orders.get(session.order_id)
            view = self._view(uow, session, order)
            carton = view.carton
            if carton is None:
                raise DomainError(
                    "no carton fits these items", hint="scan the carton you use (CTN-…)"
                )
            expected = view.expected_weight_g
            tolerance = self.tolerance_g(expected)
            overridden_by = ""
            if abs(weight_g - expected) > tolerance:
                if override_badge is None:
                    raise WeightMismatch(weight_g, expected, tolerance)
                supervisor = uow.users.by_badge(override_badge.strip().upper())
                if (
                    supervisor is None
                    or not supervisor.active
                    or Role.SUPERVISOR not in supervisor.roles
                ):
                    raise AccessDenied(
                        f"badge {override_badge} is not an active supervisor's",
                        hint="a supervisor must scan their own badge",
                    )
                overridden_by = supervisor.user_id
            session.carton = carton.code
            session.weight_g = weight_g
            session.state = PackState.LABELLING
            order.transition(OrderState.PACKED, f"packed at {self.station}")
            uow.orders.save(order)
            uow.packs.save_session(session)
            uow.emit(
                PackCompleted(
                    order=order.order_id,
                    station=self.station,
                    carton=carton.code,
                    weight_g=weight_g,
                    user=user,
                    weight_override_by=overridden_by,
                )
            )
            view = self._view(uow, session, order)
            uow.commit()
        return view

    # -- holding -----------------------------------------------------------------------------

    def hold(self, session_id: str, reason: str, user: str) -> PackView:
        """Put the order on hold (a missing or damaged item): :class:`OrderHeld`."""
        if not reason.strip():
            raise DomainError("a hold needs a reason")
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            if session.state in (PackState.PACKED, PackState.HELD):
                raise DomainError(f"the parcel is already {session.state}")
            order = uow.orders.get(session.order_id)
            seen = order.version
            order.hold(reason)
            session.state = PackState.HELD
            uow.orders.save(order)
            uow.packs.save_session(session)
            uow.emit(
                OrderHeld(order=order.order_id, reason=reason, user=user, order_version=seen),
                order_version=seen,
            )
            view = self._view(uow, session, order)
            uow.commit()
        return view

    # -- carrier -----------------------------------------------------------------------------

    def change_carrier(
        self, session_id: str, carrier: str, service: str, reason: str, user: str
    ) -> PackView:
        """Ship with another service the hub quoted as fitting (:class:`CarrierChanged`).

        A label not yet printed is voided (the next one names the new service); a printed
        one stays until the caller reprints it.
        """
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            if session.state in (PackState.PACKED, PackState.HELD):
                raise DomainError(f"the parcel is already {session.state}")
            order = uow.orders.get(session.order_id)
            if order.carrier_choice is None:
                raise DomainError(
                    f"order {order.order_id} has no carrier services to choose from",
                    hint="the hub sends them with the order; ship with the one shown",
                )
            if (carrier.lower(), service.lower()) == (order.carrier.lower(), order.service.lower()):
                raise DomainError(f"the parcel already goes with {carrier} {service}")
            choice = changed_choice(
                order.carrier_choice, carrier, service, user=user, reason=reason
            )
            seen = order.version
            order.set_carrier(choice)
            uow.orders.save(order)
            for job in uow.packs.labels_for(order.order_id):
                if job.state in (LabelState.QUEUED, LabelState.FAILED):
                    job.state = LabelState.VOIDED
                    uow.packs.save_label(job)
            uow.emit(
                CarrierChanged(
                    order=order.order_id,
                    carrier=choice.carrier,
                    service=choice.service,
                    reason=reason.strip(),
                    user=user,
                    order_version=seen,
                ),
                order_version=seen,
            )
            view = self._view(uow, session, order)
            uow.commit()
        return view

    @staticmethod
    def _open_session(uow: UnitOfWork, session_id: str, state: PackState) -> PackSession:
        session = uow.packs.get_session(session_id)
        if session.state is not state:
            raise DomainError(
                f"the parcel is {session.state.value}, not {state.value}",
                hint="finish the current step first",
            )
        return session
