"""floor_app.logs: JSON records with the floor context, and nothing secret in them."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from floor_app.domain.codes import BADGE_RE
from floor_app.logs import log_context, parse_level, redact_text, setup_logging

pytestmark = pytest.mark.unit

SECRET = "hunter2-Very-Secret"
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBVxZ9j1c3cbFakeKeyMaterialOnlyForTests0123456789oAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----"
)
HASH = "$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA=="


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = setup_logging("floor-hub", "debug", json=True, stream=out, device="hh-07", site="dc1")
    # only this test's records: a thread an earlier test left behind logs to the root too
    handler.addFilter(lambda record: record.thread == threading.get_ident())
    yield out
    logging.getLogger().removeHandler(handler)


def records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_service_and_device(capture: io.StringIO) -> None:
    logging.getLogger("floor.hub").info("applied %d events", 3)
    (rec,) = records(capture)
    assert rec["msg"] == "applied 3 events"
    assert rec["level"] == "info" and rec["logger"] == "floor.hub"
    assert (rec["service"], rec["device"], rec["site"]) == ("floor-hub", "hh-07", "dc1")
    assert str(rec["ts"]).endswith("+00:00")


def test_context_fields_follow_the_code_and_nest(capture: io.StringIO) -> None:
    log = logging.getLogger("floor.picking")
    with log_context(user="alice", order="SO-1001"):
        log.info("picked")
        with log_context(event_id="01J0EVENT"):
            log.info("emitted")
    log.info("outside")
    inner, nested, outside = records(capture)
    assert (inner["user"], inner["order"]) == ("alice", "SO-1001") and "event_id" not in inner
    assert nested["event_id"] == "01J0EVENT" and nested["order"] == "SO-1001"
    assert "user" not in outside and "order" not in outside


def test_unknown_context_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log context field"), log_context(badge="x"):
        pass  # pragma: no cover


def test_passwords_in_message_args_and_extras_are_redacted(capture: io.StringIO) -> None:
    log = logging.getLogger("floor.sync")
    log.warning("connect to %s failed", f"mqtts://hh-07:{SECRET}@hub:8883")
    log.info("settings: password=%s username=hh-07", SECRET)
    log.info("login", extra={"password": SECRET, "user_pin": "4711", "attempt": 2})
    log.info("config %s", {"sync": {"password": SECRET, "broker": "mqtts://hub"}})
    text = capture.getvalue()
    assert SECRET not in text and "4711" not in text
    first, second, third, fourth = records(capture)
    assert first["msg"] == "connect to mqtts://hh-07:***@hub:8883 failed"
    assert second["msg"] == "settings: password=*** username=hh-07"
    assert (third["password"], third["user_pin"], third["attempt"]) == ("***", "***", 2)
    assert "'password': '***'" in str(fourth["msg"]) and "mqtts://hub" in str(fourth["msg"])


def test_private_keys_and_password_hashes_are_redacted(capture: io.StringIO) -> None:
    log = logging.getLogger("floor.provisioning")
    log.info("wrote key %s", PEM)
    log.info("passwd line hh-07:%s", HASH)
    text = capture.getvalue()
    assert "PRIVATE KEY" not in text.replace("[private key redacted]", "")
    assert "FakeKeyMaterial" not in text and HASH not in text
    assert "hh-07:***" in text


def test_badge_numbers_never_appear(capture: io.StringIO) -> None:
    badge = "B1001"
    assert BADGE_RE.match(badge)  # the floor's own badge format
    log = logging.getLogger("floor.session")
    log.info("badge %s is not known on this device", badge)
    log.info("login", extra={"badge": badge, "user": "alice"})
    log.info("scanned tote T0901, location A-01-02, order SO-1001")
    text = capture.getvalue()
    assert badge not in text
    first, second, third = records(capture)
    assert first["msg"] == "badge B*** is not known on this device"
    assert second["user"] == "alice"
    assert third["msg"] == "scanned tote T0901, location A-01-02, order SO-1001"


def test_secrets_in_exceptions_are_redacted(capture: io.StringIO) -> None:
    try:
        raise ConnectionError(f"auth failed for mqtt://hh-07:{SECRET}@hub password={SECRET}")
    except ConnectionError:
        logging.getLogger("floor.sync").exception("broker refused")
    (rec,) = records(capture)
    assert SECRET not in json.dumps(rec)
    assert "ConnectionError" in str(rec["exc"]) and "Traceback" in str(rec["exc"])


def test_ordinary_words_are_left_alone() -> None:
    for text in (
        "user or PIN is wrong",
        "shipping: 3 cartons",
        "key_file=/etc/floor/device.key",
        "spinning up 2 workers",
        "sku B1001X and location B-10-01",
    ):
        assert redact_text(text) == text


def test_plain_text_format_and_level_filter() -> None:
    out = io.StringIO()
    handler = setup_logging("floor-app", "warning", json=False, stream=out)
    try:
        logging.getLogger("floor.ui").info("hidden")
        with log_context(order="SO-9"):
            logging.getLogger("floor.ui").warning("token: %s", SECRET)
    finally:
        logging.getLogger().removeHandler(handler)
    line = out.getvalue().strip()
    assert "hidden" not in line and SECRET not in line
    assert "WARNING floor.ui: token: ***" in line and "order=SO-9" in line


def test_setup_twice_replaces_its_handler() -> None:
    a, b = io.StringIO(), io.StringIO()
    setup_logging("floor-hub", "info", json=True, stream=a)
    handler = setup_logging("floor-hub", "info", json=True, stream=b)
    try:
        logging.getLogger("x").info("once")
    finally:
        logging.getLogger().removeHandler(handler)
    assert a.getvalue() == "" and b.getvalue().count("once") == 1


@pytest.mark.parametrize("bad", ["verbose", "", "trace"])
def test_bad_level_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match="is not one of"):
        parse_level(bad)


def test_journal_without_file_fallback_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="needs a file"):
        setup_logging(
            "floor-app", "info", json=True, target="journal", journal_socket="/nonexistent"
        )
