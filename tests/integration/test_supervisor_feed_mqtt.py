"""The supervisor's MQTT feed against a real Mosquitto: device presence with health and
epochs, every device of the hub's roster (also those offline or never seen), orders per
stage from the retained order statuses, and the hub's decision log in the history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from support.mosquitto import MosquittoBroker, require_mosquitto

from floor_app.bootstrap import build_context
from floor_app.domain.errors import DomainError
from floor_app.domain.order import OrderState
from floor_app.services.supervision import DevicePresence, StageBacklog
from floor_app.settings import load_settings
from floor_app.store import Store
from sync.device.supervisor_feed import FeedSettings, MqttSupervisorFeed
from sync.mqtt import LinkOptions, parse_broker_url
from sync.protocol import (
    CountDifference,
    DecisionEntry,
    DecisionLog,
    DeviceRoster,
    DeviceStatus,
    Health,
    OrderStatus,
    RosterDevice,
    Topics,
    encode,
)

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

SITE = "dc1"
TOPICS = Topics(SITE)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    require_mosquitto()
    b = MosquittoBroker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "sup-01.db", device_id="sup-01", site=SITE)
    yield s
    s.close()


class Publisher:
    """Plays the devices and the hub: publishes retained statuses, QoS 1, in order."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id="test-publisher",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def retain(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)

    def status(self, device: str, state: str, epoch: int, **health: object) -> None:
        message = DeviceStatus(
            device_id=device,
            state=state,  # type: ignore[arg-type]
            epoch=epoch,
            health=Health(**health) if health else None,  # type: ignore[arg-type]
        )
        self.retain(TOPICS.status(device), encode(message))

    def order(self, order_id: str, state: OrderState, version: int, at: float) -> None:
        message = OrderStatus(order_id=order_id, state=state, version=version, at=at)
        self.retain(TOPICS.order_status(order_id), encode(message))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def own_row() -> DevicePresence:
    return DevicePresence("sup-01", True, user="sam", task="", health={"scanner": "ready"})


def start_feed(broker: MosquittoBroker, store: Store) -> MqttSupervisorFeed:
    feed = MqttSupervisorFeed(
        store, own_row, FeedSettings(link=LinkOptions(parse_broker_url(broker.url)), site=SITE)
    )
    feed.start()
    assert feed.wait(lambda f: f.online, 10), feed.last_error
    return feed


def row(feed: MqttSupervisorFeed, device: str) -> DevicePresence | None:
    return next((d for d in feed.devices() if d.device_id == device), None)


def stage(feed: MqttSupervisorFeed, name: str) -> StageBacklog:
    return next(s for s in feed.bottlenecks() if s.stage == name)


def test_devices_with_health_and_the_newer_epoch_wins(
    broker: MosquittoBroker, store: Store
) -> None:
    feed = start_feed(broker, store)
    pub = Publisher(broker)
    try:
        pub.status(
            "hh-01",
            "online",
            3,
            user="alice",
            outbox_depth=5,
            oldest_unsent_age_s=12.5,
            devices={"scanner": "ready"},
        )
        pub.status(
            "pk-02", "online", 1, user="bob", outbox_depth=0, devices={"printer": "paper_out"}
        )
        assert feed.wait(lambda f: row(f, "hh-01") is not None and row(f, "pk-02") is not None, 10)
        hh, pk = row(feed, "hh-01"), row(feed, "pk-02")
        assert hh is not None and pk is not None
        assert (hh.online, hh.user, hh.outbox_depth, hh.oldest_unsent_age_s) == (
            True,
            "alice",
            5,
            12.5,
        )
        assert hh.health == {"scanner": "ready"}
        assert (pk.online, pk.user, pk.outbox_depth, pk.health) == (
            True,
            "bob",
            0,
            {"printer": "paper_out"},
        )
        own = row(feed, "sup-01")  # this device's own row, from the local side
        assert own is not None and own.user == "sam"

        # A late will of an older connection never hides the newer "online".
        pub.status("hh-01", "offline", 2)
        pub.status("pk-02", "online", 1, user="bob", outbox_depth=7)  # a marker after the will
        assert feed.wait(lambda f: (r := row(f, "pk-02")) is not None and r.outbox_depth == 7, 10)
        hh = row(feed, "hh-01")
        assert hh is not None and hh.online is True and hh.outbox_depth == 5

        # The will of the current connection does count; a newer connection wins again.
        pub.status("hh-01", "offline", 3)
        assert feed.wait(lambda f: (r := row(f, "hh-01")) is not None and r.online is False, 10)
        pub.status("hh-01", "online", 4, user="alice", outbox_depth=1)
        assert feed.wait(lambda f: (r := row(f, "hh-01")) is not None and r.online is True, 10)

        # Bad input is counted, never applied, and the feed goes on.
        pub.retain(TOPICS.status("hh-09"), b"{not json")
        pub.status("hh-01", "online", 4, user="alice", outbox_depth=2)
        assert feed.wait(lambda f: (r := row(f, "hh-01")) is not None and r.outbox_depth == 2, 10)
        assert row(feed, "hh-09") is None
        assert sum(feed.bad_input.values()) == 1

        # A feed that connects later reads the same from the retained topics.
        late = start_feed(broker, store)
        try:
            assert late.wait(
                lambda f: (r := row(f, "hh-01")) is not None and r.outbox_depth == 2, 10
            )
            pk = row(late, "pk-02")
            assert pk is not None and pk.outbox_depth == 7
        finally:
            late.stop()
    finally:
        pub.close()
        feed.stop()


def test_count_differences_are_exceptions_until_acknowledged(
    broker: MosquittoBroker, store: Store
) -> None:
    feed = start_feed(broker, store)
    pub = Publisher(broker)
    now = time.time()
    diff = CountDifference(
        count_id=7,
        task_id="ST-000002",
        location="A01-01-2A",
        sku="SKU-00001",
        expected=43,
        counted=37,
        user="bob",
        reason="recount by bob (37) after a first count by alice",
        at=now - 60,
    )
    try:
        pub.retain(TOPICS.count_difference(7), encode(diff))
        pub.retain(TOPICS.count_difference(8), encode(diff))  # names another count: refused
        assert feed.wait(lambda f: any(e.kind == "count" for e in f.exceptions()), 10)
        (seen,) = [e for e in feed.exceptions() if e.kind == "count"]
        assert (seen.key, seen.subject, seen.actions) == (
            "count:7",
            "A01-01-2A SKU-00001",
            ("acknowledge",),
        )
        assert seen.summary == "43 → 37 (-6) bob: recount by bob (37) after a first count by alice"
        assert seen.age_s >= 60
        assert feed.wait(lambda f: f.bad_input.get("count_mismatch") == 1, 10)

        feed.acknowledge_count(7, "grace")
        assert [e for e in feed.exceptions() if e.kind == "count"] == []
        (event,) = [r for r in store.pending() if r.type == "count.acknowledged"]
        assert event.payload == {"count_id": 7, "user": "grace"}

        # the hub publishes it acknowledged: a feed that connects later never shows it
        acked = diff.model_copy(update={"acknowledged_by": "grace"})
        pub.retain(TOPICS.count_difference(7), encode(acked))
        late = start_feed(broker, store)
        try:
            assert late.wait(lambda f: f.count_difference(7) == acked, 10)
            assert [e for e in late.exceptions() if e.kind == "count"] == []
        finally:
            late.stop()
    finally:
        pub.close()
        feed.stop()


def test_an_order_the_hub_held_is_an_exception_the_supervisor_can_release(
    broker: MosquittoBroker, store: Store
) -> None:
    feed = start_feed(broker, store)
    pub = Publisher(broker)
    reason = (
        "no carrier service for destination FR 75001: no zone of the carrier rules covers it: "
        "add a zone for FR to carriers.toml and load it (floor-hub carriers FILE), then "
        "release the order"
    )
    held = OrderStatus(
        order_id="SO-FR1", state=OrderState.HELD, version=3, at=time.time() - 30, reason=reason
    )
    try:
        pub.retain(TOPICS.order_status("SO-FR1"), encode(held))
        assert feed.wait(lambda f: any(e.subject == "SO-FR1" for e in f.exceptions()), 10)
        (seen,) = [e for e in feed.exceptions() if e.subject == "SO-FR1"]
        assert (seen.key, seen.kind, seen.summary, seen.actions) == (
            "held:SO-FR1",
            "held",
            reason,
            ("release",),
        )
        assert seen.age_s >= 30
        with pytest.raises(DomainError, match="needs a reason"):
            feed.release_hold("SO-FR1", "grace", "")
        feed.release_hold("SO-FR1", "grace", "checked_ok")
        (event,) = [r for r in store.pending() if r.type == "order.released"]
        assert (event.kind, event.order_version) == ("claim", 3)
        assert event.payload == {
            "order": "SO-FR1",
            "user": "grace",
            "order_version": 3,
            "reason": "checked_ok",
        }
        with pytest.raises(DomainError, match="order SO-NONE is not held"):
            feed.release_hold("SO-NONE", "grace", "checked_ok")
    finally:
        pub.close()
        feed.stop()


def test_orders_per_stage_and_throughput_from_order_statuses(
    broker: MosquittoBroker, store: Store
) -> None:
    feed = start_feed(broker, store)
    pub = Publisher(broker)
    now = time.time()
    try:
        pub.order("SO-1", OrderState.PICKED, 3, now - 120)
        pub.order("SO-2", OrderState.ALLOCATED, 1, now - 600)
        pub.order("SO-3", OrderState.PACKED, 5, now - 30)
        assert feed.wait(lambda f: stage(f, "packed").waiting == 1, 10)
        assert stage(feed, "picked").waiting == 1
        assert stage(feed, "allocated").waiting == 1
        assert stage(feed, "allocated").oldest_age_s >= 600

        pub.order("SO-1", OrderState.PACKED, 4, now - 10)
        assert feed.wait(lambda f: stage(f, "packed").waiting == 2, 10)
        assert stage(feed, "picked").waiting == 0
        pub.order("SO-1", OrderState.PICKED, 2, now - 300)  # stale: an older version
        pub.order("SO-3", OrderState.LABELLED, 6, now)
        assert feed.wait(lambda f: stage(f, "labelled").waiting == 1, 10)
        assert stage(feed, "packed").waiting == 1  # SO-1 stays packed
        assert stage(feed, "picked").waiting == 0
        figures = feed.throughput().per_stage
        assert figures["pack"] == 2 and figures["label"] == 1
    finally:
        pub.close()
        feed.stop()


def test_bootstrap_gives_a_supervisor_device_the_mqtt_feed(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    settings = load_settings(
        None,
        device={"id": "sup-01", "site": SITE, "role": "supervisor"},
        store={"data_dir": str(tmp_path / "data")},
        sync={"enabled": True, "broker": broker.url},
    )
    ctx = build_context(settings)
    try:
        feed = ctx.supervisor
        assert isinstance(feed, MqttSupervisorFeed)
        assert not feed.online  # it connects when the board opens
        feed.follow()
        assert feed.wait(lambda f: f.online, 10), feed.last_error
        pub = Publisher(broker)
        try:
            pub.status("hh-01", "online", 1, user="alice", outbox_depth=3)
            assert feed.wait(lambda f: row(f, "hh-01") is not None, 10)
            assert row(feed, "sup-01") is not None  # its own row, from the local side
        finally:
            pub.close()
    finally:
        ctx.close()
    assert not feed.online


def test_a_device_with_no_role_locked_gets_the_feed_too(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    settings = load_settings(
        None,
        device={"id": "hh-07", "site": SITE},
        store={"data_dir": str(tmp_path / "data")},
        sync={"enabled": True, "broker": broker.url},
    )
    ctx = build_context(settings)
    try:
        assert isinstance(ctx.supervisor, MqttSupervisorFeed)
    finally:
        ctx.close()
    picker = settings.model_copy(
        update={"device": settings.device.model_copy(update={"role": "picker"})}
    )
    ctx = build_context(picker)
    try:
        assert not isinstance(ctx.supervisor, MqttSupervisorFeed)
    finally:
        ctx.close()


def test_every_device_of_the_roster_is_listed_and_the_decision_log_is_history(
    broker: MosquittoBroker, store: Store
) -> None:
    feed = start_feed(broker, store)
    pub = Publisher(broker)
    now = time.time()
    roster = DeviceRoster(
        devices=[
            RosterDevice(device_id="hh-01", role="picker", state="online", seen_at=now, user="al"),
            RosterDevice(
                device_id="hh-02",
                role="picker",
                state="offline",
                seen_at=now - 600,
                reason="connection lost",
            ),
            RosterDevice(device_id="pk-01", role="packer", station="PACK-01"),
            RosterDevice(device_id="hh-09", role="picker", active=False),
            RosterDevice(device_id="sup-01", role="supervisor", state="online", seen_at=now),
        ],
        at=now,
    )
    log = DecisionLog(
        decisions=[
            DecisionEntry(
                event_id="01EVT",
                kind="accept_weight",
                subject="SO-100007",
                reason="scale_fault",
                user="grace",
                detail="1240 g",
                device_id="pk-01",
                at=now - 30,
            )
        ],
        at=now,
    )
    try:
        pub.status("hh-01", "online", 2, user="alice", outbox_depth=1)
        pub.retain(TOPICS.devices, encode(roster))
        pub.retain(TOPICS.decisions, encode(log))
        assert feed.wait(lambda f: row(f, "pk-01") is not None, 10)
        assert feed.wait(lambda f: len(f.history()) == 1, 10)
        assert [d.device_id for d in feed.devices()] == ["hh-01", "hh-02", "pk-01", "sup-01"]
        live, gone, never, own = feed.devices()
        assert (live.online, live.user, live.outbox_depth, live.role) == (
            True,
            "alice",
            1,
            "picker",
        )
        assert (gone.online, gone.note) == (False, "connection lost")
        assert gone.seen_age_s is not None and gone.seen_age_s >= 600
        assert (never.online, never.seen_age_s, never.note, never.station) == (
            False,
            None,
            "never seen",
            "PACK-01",
        )
        assert own.user == "sam" and own.role == "supervisor"  # its own row, from here
        [decision] = feed.history()
        assert (decision.decision.kind, decision.decision.reason, decision.device_id) == (
            "accept_weight",
            "scale_fault",
            "pk-01",
        )
        # an older roster (a late redelivery) never replaces a newer one
        assert not feed.apply_roster(roster.model_copy(update={"devices": [], "at": now - 1}))
        assert row(feed, "pk-01") is not None
    finally:
        pub.close()
        feed.stop()
