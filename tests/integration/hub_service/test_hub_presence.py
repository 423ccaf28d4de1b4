"""Presence with connection epochs, sync requests answered from the push stream, and the
hub's broker identity file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from hub import HubError, Receiver, allocate
from hub.identity import read_identity
from hub.tables import PresenceRow, table_of
from sync.protocol import DeviceStatus, PushMessage, SyncRequest, Topics, decode, decode_ack, encode

pytestmark = pytest.mark.integration

SITE = "dc1"
TOPICS = Topics(SITE)


def presence(engine: Engine, device: str) -> tuple[str, int]:
    rows = table_of(PresenceRow)
    with engine.connect() as conn:
        row = conn.execute(select(rows).where(rows.c.device_id == device)).one()
    return row.state, row.epoch


def test_a_late_will_of_an_older_connection_never_hides_a_newer_online(
    demo_engine: Engine,
) -> None:
    receiver = Receiver(demo_engine, SITE)
    topic = TOPICS.status("hh-01")
    receiver.handle(topic, encode(DeviceStatus(device_id="hh-01", state="online", epoch=7)))
    late_will = DeviceStatus(device_id="hh-01", state="offline", epoch=6, reason="connection lost")
    handled = receiver.handle(topic, encode(late_will))
    assert handled.note == "older epoch: ignored"
    assert presence(demo_engine, "hh-01") == ("online", 7)
    receiver.handle(topic, encode(DeviceStatus(device_id="hh-01", state="offline", epoch=7)))
    assert presence(demo_engine, "hh-01") == ("offline", 7)
    assert receiver.handle(topic, b"").note == "retained status cleared"


def test_a_sync_request_gets_every_push_after_the_cursor_and_the_current_ack(
    demo_engine: Engine,
) -> None:
    report = allocate(demo_engine, SITE)
    device = sorted(report.assigned.values())[0]
    pushed = [m for m in report.messages if m.topic == TOPICS.push(device)]
    assert len(pushed) >= 2
    request = SyncRequest(device_id=device, since_cursor=1, epoch=3, sent_at=0.0)
    handled = Receiver(demo_engine, SITE).handle(TOPICS.sync(device), encode(request))
    replayed = [
        decode(PushMessage, m.payload) for m in handled.messages if m.topic.endswith("/push")
    ]
    cursors = [p.cursor for p in replayed]
    assert cursors == list(range(2, 2 + len(cursors)))  # in order, after the cursor
    first_roster = json.loads(pushed[0].payload)
    assert first_roster["cursor"] >= 1
    acks = [decode_ack(m.payload) for m in handled.messages if m.topic == TOPICS.ack(device)]
    assert [(a.kind, getattr(a, "up_to_seq", None)) for a in acks] == [("ack", 0)]


def test_the_hub_identity_file_gives_the_broker_url_and_credentials(tmp_path: Path) -> None:
    password = tmp_path / "identity.toml"
    password.write_text(
        '[broker]\nsite = "dc1"\nurl = "mqtt://127.0.0.1:1883"\nclient_name = "hub-1"\n'
        'ca_file = "/etc/floor/hub/ca.crt"\nusername = "hub-1"\npassword = "p@ss:w/rd"\n'
    )
    identity = read_identity(password)
    assert identity.url == "mqtt://hub-1:p%40ss%3Aw%2Frd@127.0.0.1:1883"
    assert identity.ca_file == Path("/etc/floor/hub/ca.crt") and identity.cert_file is None
    cert = tmp_path / "cert.toml"
    cert.write_text(
        '[broker]\nurl = "mqtts://hub.dc1:8883"\nca_file = "ca.crt"\n'
        'cert_file = "device.crt"\nkey_file = "device.key"\n'
    )
    identity = read_identity(cert)
    assert (identity.url, identity.cert_file, identity.key_file) == (
        "mqtts://hub.dc1:8883",
        Path("device.crt"),
        Path("device.key"),
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("[broker\n")
    with pytest.raises(HubError, match="not valid TOML"):
        read_identity(broken)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(HubError, match="has no \\[broker\\] url"):
        read_identity(empty)
    with pytest.raises(HubError, match="cannot read"):
        read_identity(tmp_path / "missing.toml")
