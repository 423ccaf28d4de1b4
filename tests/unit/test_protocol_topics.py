import pytest

from sync.protocol import TopicError, TopicKind, Topics, device_client_id, parse_topic

pytestmark = pytest.mark.unit


def test_device_topics_live_under_the_site_prefix() -> None:
    t = Topics("dc1")
    assert t.evt("hh-01") == "floor/v1/dc1/dev/hh-01/evt"
    assert t.ack("hh-01") == "floor/v1/dc1/dev/hh-01/ack"
    assert t.push("hh-01") == "floor/v1/dc1/dev/hh-01/push"
    assert t.status("hh-01") == "floor/v1/dc1/dev/hh-01/status"
    assert t.sync("hh-01") == "floor/v1/dc1/dev/hh-01/sync"
    assert t.orders_in == "floor/v1/dc1/orders/in"
    assert t.orders_cancel == "floor/v1/dc1/orders/cancel"
    assert t.cancel_result == "floor/v1/dc1/orders/cancel/result"
    assert t.order_status("SO-1") == "floor/v1/dc1/orders/SO-1/status"
    assert t.dlq == "floor/v1/dc1/dlq"
    assert t.count_difference(12) == "floor/v1/dc1/counts/12/difference"
    assert t.devices == "floor/v1/dc1/devices"
    assert t.decisions == "floor/v1/dc1/decisions"


def test_a_count_difference_topic_names_its_count() -> None:
    ref = Topics("dc1").parse("floor/v1/dc1/counts/12/difference")
    assert (ref.kind, ref.count_id) == (TopicKind.COUNT_DIFFERENCE, "12")


@pytest.mark.parametrize(
    ("topic", "kind", "device", "order"),
    [
        ("floor/v1/dc1/dev/hh-01/evt", TopicKind.EVT, "hh-01", None),
        ("floor/v1/dc1/dev/pk-02/status", TopicKind.STATUS, "pk-02", None),
        ("floor/v1/dc1/orders/in", TopicKind.ORDERS_IN, None, None),
        ("floor/v1/dc1/orders/cancel", TopicKind.ORDERS_CANCEL, None, None),
        ("floor/v1/dc1/orders/cancel/result", TopicKind.CANCEL_RESULT, None, None),
        ("floor/v1/dc1/orders/cancel/status", TopicKind.ORDER_STATUS, None, "cancel"),
        ("floor/v1/dc1/orders/SO-9/status", TopicKind.ORDER_STATUS, None, "SO-9"),
        ("floor/v1/dc1/dlq", TopicKind.DLQ, None, None),
        ("floor/v1/dc1/devices", TopicKind.DEVICES, None, None),
        ("floor/v1/dc1/decisions", TopicKind.DECISIONS, None, None),
    ],
)
def test_parse_gives_back_what_was_built(
    topic: str, kind: TopicKind, device: str | None, order: str | None
) -> None:
    ref = Topics("dc1").parse(topic)
    assert (ref.kind, ref.device_id, ref.order_id) == (kind, device, order)


@pytest.mark.parametrize(
    "topic",
    [
        "floor/v2/dc1/dlq",
        "other/v1/dc1/dlq",
        "floor/v1/dc1/dev/hh-01/nope",
        "floor/v1/dc1/dev/hh-01",
        "floor/v1/dc1/orders/x/y",
        "floor/v1/dc1/counts/12/status",
        "floor/v1/dc1/dev//evt",
        "floor/v1",
    ],
)
def test_unknown_topics_are_refused(topic: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(topic)


def test_a_topic_of_another_site_is_refused() -> None:
    with pytest.raises(TopicError, match="site"):
        Topics("dc1").parse("floor/v1/dc2/dlq")


@pytest.mark.parametrize("bad", ["", "a/b", "a+", "#", "x" * 65, "nul\x00"])
def test_ids_that_would_change_a_topic_are_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        Topics("dc1").evt(bad)


def test_client_ids_are_stable_per_device() -> None:
    assert device_client_id("dc1", "hh-01") == device_client_id("dc1", "hh-01") == "floor-dc1-hh-01"


def test_hub_and_device_subscriptions() -> None:
    t = Topics("dc1")
    assert t.device_subscriptions("hh-01") == [t.ack("hh-01"), t.push("hh-01"), t.status("hh-01")]
    assert "floor/v1/dc1/dev/+/evt" in t.hub_subscriptions()
    assert t.orders_in in t.hub_subscriptions()
    assert t.orders_cancel in t.hub_subscriptions()
