"""Bad input from the broker side: none crashes the agent; each is counted and reported,
and dead-lettered where docs/protocol.md says so."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.mosquitto import MosquittoBroker, require_mosquitto
from support.mqtt_peer import ScriptedHub, emit_picks, fast_settings

from floor_app.demo import build_demo_site
from floor_app.store import Store
from sync.device import SyncAgent, stored_cursor
from sync.protocol import (
    MAX_MESSAGE_BYTES,
    Ack,
    PushMessage,
    RosterUpdate,
    Topics,
    UserModel,
    encode,
)

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]

T = Topics("dc1")
USER = UserModel.from_domain(build_demo_site().users[0])


def roster_push(cursor: int, device: str = "hh-01") -> bytes:
    return encode(PushMessage(device_id=device, cursor=cursor, item=RosterUpdate(users=[USER])))


@dataclass
class Env:
    store: Store
    hub: ScriptedHub
    agent: SyncAgent


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    require_mosquitto()
    broker = MosquittoBroker(tmp_path / "broker").start()
    store = Store.open(tmp_path / "hh-01.db", device_id="hh-01", site="dc1")
    hub = ScriptedHub(broker.host, broker.port).start()
    agent = SyncAgent(store, fast_settings(broker.url))
    agent.start()
    assert agent.wait_online(10)
    # one good push first, so the stored cursor is 1
    hub.send_raw(T.push("hh-01"), roster_push(1))
    assert hub.wait_for(lambda: stored_cursor(store) == 1, 10)
    yield Env(store, hub, agent)
    agent.stop()
    hub.stop()
    store.close()
    broker.kill()


def with_version(v: object) -> bytes:
    data = json.loads(roster_push(2))
    data["v"] = v
    return json.dumps(data).encode()


CASES: dict[str, tuple[Callable[[], tuple[str, bytes]], str, str | None]] = {
    # name: (topic and payload, counter, dead-letter code or None)
    "malformed JSON push": (
        lambda: (T.push("hh-01"), b'{"v": 1, "cursor": 2, "item": {'),
        "push.malformed_json",
        "malformed_json",
    ),
    "wrong schema version": (
        lambda: (T.push("hh-01"), with_version(2)),
        "push.unsupported_version",
        "unsupported_version",
    ),
    "huge payload": (
        lambda: (T.push("hh-01"), b'{"v":1,"pad":"' + b"x" * (MAX_MESSAGE_BYTES + 10) + b'"}'),
        "push.too_large",
        "too_large",
    ),
    "push at the stored cursor": (
        lambda: (T.push("hh-01"), roster_push(1)),
        "push.stale_cursor",
        None,
    ),
    "push for another device": (
        lambda: (T.push("hh-01"), roster_push(2, device="hh-02")),
        "push.device_mismatch",
        "device_mismatch",
    ),
    "ack from the future": (
        lambda: (T.ack("hh-01"), encode(Ack(device_id="hh-01", up_to_seq=999))),
        "ack.future_seq",
        "future_ack",
    ),
    "malformed ack": (
        lambda: (T.ack("hh-01"), b"\x00\xff not json"),
        "ack.malformed_json",
        "malformed_json",
    ),
    "ack of unknown kind": (
        lambda: (T.ack("hh-01"), b'{"v": 1, "kind": "hug", "device_id": "hh-01"}'),
        "ack.invalid",
        "invalid",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_counted_reported_and_survived(env: Env, case: str) -> None:
    make, counter, dead_letter_code = CASES[case]
    topic, payload = make()
    env.hub.send_raw(topic, payload)
    assert env.hub.wait_for(lambda: env.agent.status().bad_input.get(counter, 0) == 1, 10), (
        env.agent.status()
    )
    if dead_letter_code is not None:
        assert env.hub.wait_for(
            lambda: any(d.code == dead_letter_code for d in env.hub.dead_letters), 10
        )
        letter = next(d for d in env.hub.dead_letters if d.code == dead_letter_code)
        assert (letter.source, letter.topic, letter.payload_size) == ("hh-01", topic, len(payload))
        assert letter.reason
    else:
        assert env.hub.dead_letters == []
    # still alive and still doing its job: the next good push and the next event go through
    env.hub.send_raw(T.push("hh-01"), roster_push(2))
    assert env.hub.wait_for(lambda: stored_cursor(env.store) == 2, 10)
    seq = emit_picks(env.store, 1)
    assert env.agent.wait_acked(seq, 10)
    assert env.agent.online
    assert env.agent.acked_seq == seq  # the future ack was not recorded
