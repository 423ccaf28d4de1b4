"""MQTT topic names of the floor protocol, version 1, and parsing them back.

Every topic starts with ``floor/v1/{site}/``. A device publishes only under its own
``dev/{device}/`` prefix (its dead letters too); the hub publishes the rest. Ids that end
up in a topic level must be non-empty and must not contain ``/``, ``+``, ``#`` or NUL, or
they would change the meaning of the topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ROOT = "floor/v1"

_FORBIDDEN_IN_LEVEL = frozenset("/+#\x00")


class TopicError(ValueError):
    """A topic or an id used in a topic is not valid for the floor protocol."""


class TopicKind(StrEnum):
    """What a topic carries."""

    EVT = "evt"  # device -> hub: event batches from the outbox
    ACK = "ack"  # hub -> device: cumulative acks, resend requests, refusals
    PUSH = "push"  # hub -> device: the versioned state stream
    STATUS = "status"  # device -> all (retained): presence and health
    SYNC = "sync"  # device -> hub: "send me everything since cursor N"
    ORDERS_IN = "orders/in"  # upstream -> hub: order intake
    ORDERS_CANCEL = "orders/cancel"  # upstream -> hub: cancel an order
    CANCEL_RESULT = "orders/cancel/result"  # hub -> upstream: what became of a cancellation
    ORDER_STATUS = "orders/status"  # hub -> tracking (retained): order status
    COUNT_DIFFERENCE = "counts/difference"  # hub -> supervisors (retained): count exceptions
    RECEIPT_STATUS = "receipts/status"  # hub -> upstream (retained): a delivery's receipt
    DEVICES = "devices"  # hub -> supervisors (retained): every registered device
    DECISIONS = "decisions"  # hub -> supervisors (retained): recent supervisor decisions
    DLQ = "dlq"  # hub (site level) or a device (dev/{device}/dlq) -> operators: dead letters


DEVICE_KINDS = frozenset(
    {TopicKind.EVT, TopicKind.ACK, TopicKind.PUSH, TopicKind.STATUS, TopicKind.SYNC, TopicKind.DLQ}
)


def check_level(value: str, what: str = "id") -> str:
    """Return ``value`` if it can be one topic level; raise :class:`TopicError` otherwise."""
    if not value:
        raise TopicError(f"{what} is empty")
    bad = _FORBIDDEN_IN_LEVEL.intersection(value)
    if bad:
        shown = ", ".join(repr(c) for c in sorted(bad))
        raise TopicError(
            f"{what} {value!r} contains {shown}, which cannot appear in an MQTT topic level"
        )
    if len(value) > 64:
        raise TopicError(f"{what} {value[:20]!r}... is longer than 64 characters")
    return value


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A parsed floor topic: its site, kind and the device or order it names (if any)."""

    site: str
    kind: TopicKind
    device_id: str | None = None
    order_id: str | None = None
    count_id: str | None = None
    receipt_id: str | None = None


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one site.

    ``Topics("dc1").evt("hh-01")`` is ``floor/v1/dc1/dev/hh-01/evt``.
    """

    site: str

    def __post_init__(self) -> None:
        check_level(self.site, "site")

    @property
    def base(self) -> str:
        """``floor/v1/{site}``."""
        return f"{ROOT}/{self.site}"

    def device(self, device_id: str, kind: TopicKind) -> str:
        """The topic of ``kind`` for ``device_id``."""
        if kind not in DEVICE_KINDS:
            raise TopicError(f"{kind} is not a per-device topic")
        return f"{self.base}/dev/{check_level(device_id, 'device id')}/{kind.value}"

    def evt(self, device_id: str) -> str:
        """Device -> hub event batches."""
        return self.device(device_id, TopicKind.EVT)

    def ack(self, device_id: str) -> str:
        """Hub -> device acks, resend requests and refusals."""
        return self.device(device_id, TopicKind.ACK)

    def push(self, device_id: str) -> str:
        """Hub -> device state stream."""
        return self.device(device_id, TopicKind.PUSH)

    def status(self, device_id: str) -> str:
        """Retained presence and health of a device."""
        return self.device(device_id, TopicKind.STATUS)

    def sync(self, device_id: str) -> str:
        """Device -> hub resync requests."""
        return self.device(device_id, TopicKind.SYNC)

    @property
    def orders_in(self) -> str:
        """Upstream order intake."""
        return f"{self.base}/orders/in"

    @property
    def orders_cancel(self) -> str:
        """Upstream cancellations."""
        return f"{self.base}/orders/cancel"

    @property
    def cancel_result(self) -> str:
        """The hub's answer to each upstream cancellation."""
        return f"{self.base}/orders/cancel/result"

    def order_status(self, order_id: str) -> str:
        """Retained status of one order, for tracking."""
        return f"{self.base}/orders/{check_level(order_id, 'order id')}/status"

    def receipt_status(self, receipt_id: str) -> str:
        """Retained status of one receipt (a delivery), for upstream systems."""
        return f"{self.base}/receipts/{check_level(receipt_id, 'receipt id')}/status"

    def count_difference(self, count_id: int | str) -> str:
        """Retained difference of one accepted count, for the supervisors."""
        return f"{self.base}/counts/{check_level(str(count_id), 'count id')}/difference"

    @property
    def devices(self) -> str:
        """Every device registered with the hub, for the supervisors (retained)."""
        return f"{self.base}/devices"

    @property
    def decisions(self) -> str:
        """The newest supervisor decisions the hub recorded (retained)."""
        return f"{self.base}/decisions"

    @property
    def dlq(self) -> str:
        """The hub's dead letters (rejected messages with their reasons)."""
        return f"{self.base}/dlq"

    def device_dlq(self, device_id: str) -> str:
        """A device's dead letters: under its own prefix, so the topic (which the broker
        allows only to that identity) says who reported them, whatever the payload says."""
        return self.device(device_id, TopicKind.DLQ)

    # -- subscriptions --------------------------------------------------------------------

    def device_subscriptions(self, device_id: str) -> list[str]:
        """What a device subscribes to: its acks, its push stream and its own status."""
        return [self.ack(device_id), self.push(device_id), self.status(device_id)]

    def hub_subscriptions(self) -> list[str]:
        """What the hub subscribes to: device events, sync requests and status, intake and
        upstream cancellations."""
        return [
            f"{self.base}/dev/+/evt",
            f"{self.base}/dev/+/sync",
            f"{self.base}/dev/+/status",
            self.orders_in,
            self.orders_cancel,
        ]

    # -- parsing --------------------------------------------------------------------------

    def parse(self, topic: str) -> TopicRef:
        """Parse a topic of this site; raise :class:`TopicError` for anything else."""
        ref = parse_topic(topic)
        if ref.site != self.site:
            raise TopicError(f"topic {topic!r} belongs to site {ref.site!r}, not {self.site!r}")
        return ref


def parse_topic(topic: str) -> TopicRef:
    """Parse any floor v1 topic into a :class:`TopicRef` or raise :class:`TopicError`."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "floor" or parts[1] != "v1":
        raise TopicError(f"{topic!r} is not a floor/v1 topic")
    site = check_level(parts[2], "site")
    rest = parts[3:]
    if rest == ["dlq"]:
        return TopicRef(site, TopicKind.DLQ)
    if rest == ["devices"]:
        return TopicRef(site, TopicKind.DEVICES)
    if rest == ["decisions"]:
        return TopicRef(site, TopicKind.DECISIONS)
    if rest == ["orders", "in"]:
        return TopicRef(site, TopicKind.ORDERS_IN)
    if rest == ["orders", "cancel"]:
        return TopicRef(site, TopicKind.ORDERS_CANCEL)
    if rest == ["orders", "cancel", "result"]:
        return TopicRef(site, TopicKind.CANCEL_RESULT)
    if len(rest) == 3 and rest[0] == "orders" and rest[2] == "status":
        return TopicRef(site, TopicKind.ORDER_STATUS, order_id=check_level(rest[1], "order id"))
    if len(rest) == 3 and rest[0] == "receipts" and rest[2] == "status":
        receipt = check_level(rest[1], "receipt id")
        return TopicRef(site, TopicKind.RECEIPT_STATUS, receipt_id=receipt)
    if len(rest) == 3 and rest[0] == "counts" and rest[2] == "difference":
        return TopicRef(site, TopicKind.COUNT_DIFFERENCE, count_id=check_level(rest[1], "count id"))
    if len(rest) == 3 and rest[0] == "dev":
        try:
            kind = TopicKind(rest[2])
        except ValueError:
            raise TopicError(f"{topic!r}: unknown device topic {rest[2]!r}") from None
        if kind not in DEVICE_KINDS:
            raise TopicError(f"{topic!r}: unknown device topic {rest[2]!r}")
        return TopicRef(site, kind, device_id=check_level(rest[1], "device id"))
    raise TopicError(f"{topic!r} is not a known floor/v1 topic")


def device_client_id(site: str, device_id: str) -> str:
    """The MQTT client id of a device (stable, so its broker session survives reconnects)."""
    return f"floor-{check_level(site, 'site')}-{check_level(device_id, 'device id')}"


def hub_client_id(site: str, worker: str = "1") -> str:
    """The MQTT client id of a hub worker."""
    return f"floor-hub-{check_level(site, 'site')}-{check_level(worker, 'worker')}"
