import random

import pytest

from floor_app.backoff import Backoff
from sync.mqtt import BrokerUrlError, parse_broker_url

pytestmark = pytest.mark.unit


def test_delays_grow_to_the_ceiling_and_stay_jittered() -> None:
    backoff = Backoff(0.1, 5.0, jitter=0.5, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.05 <= d <= 5.0 for d in delays)
    assert delays[-1] > delays[0]
    assert max(delays) <= 5.0
    assert len({round(d, 6) for d in delays[-5:]}) > 1  # at the ceiling, still spread out


def test_without_jitter_delays_double_to_the_ceiling() -> None:
    backoff = Backoff(0.1, 1.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_jitter_only_shortens_a_delay() -> None:
    backoff = Backoff(0.1, 0.5, jitter=0.5, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(50)]
    assert all(0.05 <= d <= 0.5 for d in delays)


def test_reset_starts_again_from_the_minimum() -> None:
    backoff = Backoff(0.2, 10.0, jitter=0.0)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.2)


def test_two_devices_do_not_retry_in_lock_step() -> None:
    a, b = Backoff(1, 30, rng=random.Random(1)), Backoff(1, 30, rng=random.Random(2))
    assert [a.next_delay() for _ in range(5)] != [b.next_delay() for _ in range(5)]


@pytest.mark.parametrize(
    ("minimum", "maximum", "factor", "jitter"),
    [(0, 1, 2, 0.5), (2, 1, 2, 0.5), (1, 2, 2, 1.5), (1, 2, 0.5, 0.5)],
)
def test_nonsense_settings_are_refused(
    minimum: float, maximum: float, factor: float, jitter: float
) -> None:
    with pytest.raises(ValueError):
        Backoff(minimum, maximum, factor=factor, jitter=jitter)


def test_broker_urls() -> None:
    assert parse_broker_url("mqtt://127.0.0.1:1884").port == 1884
    assert parse_broker_url("mqtt://broker").port == 1883
    tls = parse_broker_url("mqtts://hh-01:s3cret@broker.local")
    assert (tls.tls, tls.port, tls.username, tls.password) == (True, 8883, "hh-01", "s3cret")
    assert tls.url == "mqtts://broker.local:8883"


@pytest.mark.parametrize("url", ["http://x", "mqtt://", "mqtt://host:notaport", "broker:1883"])
def test_bad_broker_urls_are_refused(url: str) -> None:
    with pytest.raises(BrokerUrlError):
        parse_broker_url(url)
