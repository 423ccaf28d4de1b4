"""Packing use cases: open a tote or order, verify each item, carton, weigh, hold.

A tote opens the order it holds, whichever device picked it: this station knows from its
own picks or from the hub, which tells stations which order is in which tote. A tote it
has not heard of yet is :class:`ToteNotHeard`: the packer scans the packing slip (the
order number) instead, and the tote is noted as that order's. Packing the order releases
its totes (:class:`ToteReleased`).

Each call is one unit of work. The order moves picked -> packing when a session opens and
packing -> packed when the weight is accepted (:class:`PackCompleted`, a fact); a missing
or damaged item puts it on hold (:class:`OrderHeld`, a claim carrying the order version
the station saw). A weight outside tolerance is accepted only with an active supervisor's
badge and one of the site's reason codes (both travel on :class:`PackCompleted` and show in
the supervisor's history). The packer may change the carrier service to another one the
hub quoted as fitting, with a reason (:class:`CarrierChanged`, a claim). Labels are
:mod:`floor_app.services.labels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from floor_app.domain.carriers import Quote, changed_choice
from floor_app.domain.codes import CodeKind, classify
from floor_app.domain.decisions import DecisionKind, ReasonCodes
from floor_app.domain.errors import DomainError, NotFound
from floor_app.domain.events import CarrierChanged, OrderHeld, PackCompleted, ToteReleased
from floor_app.domain.order import Order, OrderState
from floor_app.domain.packing import Carton, LabelJob, LabelState, PackSession, PackState
from floor_app.domain.sku import Sku
from floor_app.domain.totes import SiteTote, ToteState
from floor_app.domain.users import Role, User
from floor_app.store import Store, UnitOfWork
from floor_app.store.outbox import new_event_id

from .cartons import suggest_carton
from .errors import AccessDenied, reports_store_failures


class WeightMismatch(DomainError):
    """The parcel weighs more or less than expected by more than the tolerance."""

    def __init__(self, weight_g: int, expected_g: int, tolerance_g: int) -> None:
        super().__init__(
            f"parcel weighs {weight_g} g, expected {expected_g} g ± {tolerance_g} g",
            hint="check the items; a supervisor badge can override",
            code="pack.weight_off",
            params={"weight": weight_g, "expected": expected_g, "tolerance": tolerance_g},
        )
        self.weight_g = weight_g
        self.expected_g = expected_g
        self.tolerance_g = tolerance_g


#: An order in these states has not reached this station as picked (the hub sends it here
#: when it is picked, if this is its station).
NOT_PICKED_YET = frozenset(
    {OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ALLOCATED, OrderState.PICKING}
)


class ToteNotHeard(NotFound):
    """A tote this station cannot open: it has not heard which order the tote holds, or
    (``order_id`` set) the order it holds is not one this station has as picked
    (``destination``: where the hub sends it)."""

    def __init__(self, tote: str, order_id: str | None = None, destination: str = "") -> None:
        if order_id is None:
            super().__init__(
                f"this station has not heard yet which order tote {tote} holds",
                hint="scan the packing slip (the order number) instead",
                code="pack.tote_not_heard",
                params={"tote": tote},
            )
        else:
            where = f" (it goes to {destination})" if destination else ""
            super().__init__(
                f"tote {tote} holds order {order_id}, which this station has not got{where}",
                hint=f"take it to {destination}" if destination else "scan its packing slip",
                code="pack.tote_elsewhere" if destination else "pack.tote_other_order",
                params={"tote": tote, "order": order_id, "station": destination},
            )
        self.tote = tote
        self.order_id = order_id
        self.destination = destination


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


@reports_store_failures
class PackingService:
    """The packer's use cases at one station."""

    def __init__(
        self,
        store: Store,
        station: str,
        *,
        tolerance_pct: float = 5.0,
        tolerance_min_g: int = 30,
        reasons: ReasonCodes | None = None,
    ) -> None:
        self.store = store
        self.station = station or "PACK-01"
        self.tolerance_pct = tolerance_pct
        self.tolerance_min_g = tolerance_min_g
        self.reason_codes = reasons or ReasonCodes()

    @property
    def override_reasons(self) -> tuple[str, ...]:
        """The reason codes a supervisor may give for accepting a weight."""
        return self.reason_codes.of(DecisionKind.ACCEPT_WEIGHT)

    def supervisor(self, badge: str) -> str:
        """The user id of the active supervisor whose badge this is; :class:`AccessDenied`
        for any other badge."""
        with self.store.unit_of_work() as uow:
            return self._supervisor(uow.users.by_badge(badge.strip().upper()), badge).user_id

    @staticmethod
    def _supervisor(user: User | None, badge: str) -> User:
        if user is None or not user.active or Role.SUPERVISOR not in user.roles:
            raise AccessDenied(
                f"badge {badge} is not an active supervisor's",
                hint="a supervisor must scan their own badge",
                code="pack.not_supervisor",
                params={"badge": badge},
            )
        return user

    def tolerance_g(self, expected_g: int) -> int:
        """How far a weighed parcel may be from ``expected_g``."""
        return max(self.tolerance_min_g, round(expected_g * self.tolerance_pct / 100))

    # -- opening -----------------------------------------------------------------------------

    def open(self, scanned: str, *, tote: str | None = None) -> PackView:
        """Open (or resume) packing of the order named by a tote or order scan.

        ``tote``: a tote scanned before, that this station had not heard of; opening the
        order by its packing slip notes the tote as the order's, so packing releases it.
        """
        code = classify(scanned)
        with self.store.unit_of_work() as uow:
            if code.kind is CodeKind.TOTE:
                order_id = self._order_in(uow, code.value)
            elif code.kind is CodeKind.ORDER:
                order_id = code.value
                if tote:
                    self._note_tote(uow, tote, order_id)
            else:
                raise DomainError(
                    f"{code.value} is a {code.kind.value} code, not a tote or an order",
                    hint="scan the tote or the order's packing slip",
                    code="pack.not_tote_or_order",
                    params={"code": code.value, "code_kind": code.kind.value},
                )
            order = uow.orders.get(order_id)
            session = uow.packs.open_session_for(order_id)
            if session is None:
                session = self._new_session(uow, order)
            view = self._view(uow, session, order)
            uow.commit()
        return view

    def resume(self) -> PackView | None:
        """The parcel this station was packing and did not finish (after a restart), if
        any, as it stands."""
        with self.store.unit_of_work() as uow:
            session = uow.packs.newest_open_session(self.station)
            if session is None:
                return None
            return self._view(uow, session, uow.orders.get(session.order_id))

    def _order_in(self, uow: UnitOfWork, tote: str) -> str:
        """The order ``tote`` holds, which this station has; else :class:`ToteNotHeard`."""
        held = uow.totes.get(tote)
        if held is None or held.state is ToteState.FREE or held.order_id is None:
            raise ToteNotHeard(tote)
        if (
            not uow.orders.exists(held.order_id)
            or uow.orders.get(held.order_id).state in NOT_PICKED_YET
        ):  # the hub sent the order to another station, or has not sent it yet
            raise ToteNotHeard(tote, held.order_id, held.destination)
        return held.order_id

    def _note_tote(self, uow: UnitOfWork, code: str, order_id: str) -> None:
        """``code`` was found holding ``order_id`` at this station."""
        tote = uow.totes.get(code) or SiteTote(code)
        if tote.order_id != order_id or tote.state is ToteState.FREE:
            tote.fill(order_id, "")
            tote.hold(self.station)
            uow.totes.save(tote)

    def waiting_totes(self, limit: int = 6) -> list[str]:
        """Totes holding an order this station may open now (picked, or being packed)."""
        with self.store.unit_of_work() as uow:
            out: list[str] = []
            for tote in uow.totes.in_state(ToteState.HOLDING, limit=10_000):
                if len(out) >= limit or tote.order_id is None:
                    break
                if not uow.orders.exists(tote.order_id):
                    continue
                state = uow.orders.get(tote.order_id).state
                if state in (OrderState.PICKED, OrderState.PACKING):
                    out.append(tote.code)
            return out

    def waiting_orders(self, limit: int = 3) -> list[str]:
        """Orders picked (or being packed) on this station, by id: what a packing slip
        scanned now may open."""
        with self.store.unit_of_work() as uow:
            return uow.orders.by_state(OrderState.PACKING, OrderState.PICKED)[:limit]

    def totes_holding(self, order_id: str) -> list[str]:
        """The totes this station knows hold ``order_id`` (a scan of one opens it)."""
        with self.store.unit_of_work() as uow:
            return [t.code for t in uow.totes.holding(order_id)]

    def tote_known(self, code: str) -> bool:
        """True when ``code`` holds an order this station has (a tote scan opens it)."""
        with self.store.unit_of_work() as uow:
            try:
                self._order_in(uow, code)
            except ToteNotHeard:
                return False
        return True

    def _new_session(self, uow: UnitOfWork, order: Order) -> PackSession:
        if order.state is OrderState.HELD:
            raise DomainError(
                f"order {order.order_id} is on hold: {order.hold_reason}",
                hint="a supervisor must release it first",
                code="pack.order_held",
                params={"order": order.order_id, "why": order.hold_reason},
            )
        if order.state in (OrderState.PACKED, OrderState.LABELLED, OrderState.SHIPPED):
            raise DomainError(
                f"order {order.order_id} is already {order.state}",
                code="pack.already",
                params={"order": order.order_id, "order_state": order.state.value},
            )
        if order.state is not OrderState.PICKED:
            raise DomainError(
                f"order {order.order_id} is {order.state}, not picked yet",
                hint="pack it when its tote arrives",
                code="pack.not_picked",
                params={"order": order.order_id, "order_state": order.state.value},
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
                    code="pack.not_item",
                    params={"code": code.value, "code_kind": code.kind.value},
                )
            sku = uow.catalogue.sku_by_gtin(code.value)
            if sku.sku not in session.expected:
                raise DomainError(
                    f"{sku.sku} {sku.description} is not in order {session.order_id}",
                    hint="set it aside for the supervisor",
                    code="pack.sku_not_in_order",
                    params={"sku": sku.sku, "order": session.order_id},
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
            raise DomainError(
                f"{code.value} is not a carton code",
                hint="scan a CTN-… code",
                code="pack.not_carton",
                params={"code": code.value},
            )
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            if session.state not in (PackState.VERIFYING, PackState.WEIGHING):
                raise DomainError(
                    f"the parcel is already {session.state}",
                    code="pack.parcel_already",
                    params={"pack_state": session.state.value},
                )
            if code.value not in {c.code for c in uow.catalogue.cartons()}:
                raise NotFound(
                    f"unknown carton {code.value}",
                    code="pack.unknown_carton",
                    params={"carton": code.value},
                )
            session.carton = code.value
            uow.packs.save_session(session)
            view = self._view(uow, session, uow.orders.get(session.order_id))
            uow.commit()
        return view

    # -- weighing ----------------------------------------------------------------------------

    def weigh(
        self,
        session_id: str,
        weight_g: int,
        user: str,
        *,
        override_badge: str | None = None,
        override_reason: str = "",
    ) -> PackView:
        """Accept the parcel's weight and record it packed (:class:`PackCompleted`).

        Outside the tolerance it raises :class:`WeightMismatch` unless ``override_badge``
        is the badge of an active supervisor and ``override_reason`` one of the site's reason
        codes for accepting a weight; both are named in the event.
        """
        if weight_g <= 0:
            raise DomainError(
                f"weight must be positive, got {weight_g} g",
                hint="weigh again",
                code="pack.weight_not_positive",
                params={"weight": weight_g},
            )
        with self.store.unit_of_work() as uow:
            session = self._open_session(uow, session_id, PackState.WEIGHING)
            order = uow.orders.get(session.order_id)
            view = self._view(uow, session, order)
            carton = view.carton
            if carton is None:
                raise DomainError(
                    "no carton fits these items",
                    hint="scan the carton you use (CTN-…)",
                    code="pack.no_carton",
                )
            expected = view.expected_weight_g
            tolerance = self.tolerance_g(expected)
            overridden_by = reason = ""
            if abs(weight_g - expected) > tolerance:
                if override_badge is None:
                    raise WeightMismatch(weight_g, expected, tolerance)
                supervisor = self._supervisor(
                    uow.users.by_badge(override_badge.strip().upper()), override_badge
                )
                reason = self.reason_codes.check(DecisionKind.ACCEPT_WEIGHT, override_reason)
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
                    weight_override_reason=reason,
                )
            )
            for tote in uow.totes.holding(order.order_id):
                tote.release()
                uow.totes.save(tote)
                uow.emit(
                    ToteReleased(
                        tote=tote.code, order=order.order_id, station=self.station, user=user
                    )
                )
            view = self._view(uow, session, order)
            uow.commit()
        return view

    # -- holding -----------------------------------------------------------------------------

    def hold(self, session_id: str, reason: str, user: str) -> PackView:
        """Put the order on hold (a missing or damaged item): :class:`OrderHeld`."""
        if not reason.strip():
            raise DomainError("a hold needs a reason", code="order.hold_reason")
        with self.store.unit_of_work() as uow:
            session = uow.packs.get_session(session_id)
            if session.state in (PackState.PACKED, PackState.HELD):
                raise DomainError(
                    f"the parcel is already {session.state}",
                    code="pack.parcel_already",
                    params={"pack_state": session.state.value},
                )
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
                raise DomainError(
                    f"the parcel is already {session.state}",
                    code="pack.parcel_already",
                    params={"pack_state": session.state.value},
                )
            order = uow.orders.get(session.order_id)
            if order.carrier_choice is None:
                raise DomainError(
                    f"order {order.order_id} has no carrier services to choose from",
                    hint="the hub sends them with the order; ship with the one shown",
                    code="pack.no_carrier_choice",
                    params={"order": order.order_id},
                )
            if (carrier.lower(), service.lower()) == (order.carrier.lower(), order.service.lower()):
                raise DomainError(
                    f"the parcel already goes with {carrier} {service}",
                    code="pack.same_carrier",
                    params={"carrier": carrier, "service": service},
                )
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
                code="pack.wrong_step",
                params={"pack_state": session.state.value, "expected_pack_state": state.value},
            )
        return session
