"""The site's totes at the hub, on SQLite and PostgreSQL: the tote list as site data, which
order is in which tote from the pickers' events, a busy tote refused naming its order,
totes holding picked orders told to stations, and packing releasing them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hub_builders import SITE, apply, envelope, order_row, pick, start_task
from sqlalchemy import Engine, delete, select

from floor_app.domain.events import (
    PackCompleted,
    TaskCompleted,
    ToteAssigned,
    TotePut,
    ToteReleased,
)
from hub import ApplyResult, cancel_order, register_device, run_transaction, transact
from hub.__main__ import main as hub_main
from hub.errors import HubError
from hub.tables import InboxRow, PushRow, SiteToteRow, ToteRow, table_of
from hub.totes import ToteList, read_tote_file, store_tote_list, tote_list_of
from sync.protocol import ClaimRefused, Topics, decode_ack

pytestmark = pytest.mark.integration

TOPICS = Topics(SITE)
SITE_TOTES = table_of(SiteToteRow)
TASK_TOTES = table_of(ToteRow)
PUSHES = table_of(PushRow)
INBOX = table_of(InboxRow)
TOLD = ["hh-01", "hh-02", "hh-03", "hh-04", "pk-01", "pk-02"]


def site_tote(engine: Engine, code: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(SITE_TOTES).where(SITE_TOTES.c.code == code)).one()


def pushed(result: ApplyResult, kind: str = "tote.contents") -> dict[str, list[dict[str, Any]]]:
    """Device -> the items of ``kind`` the batch pushed to it."""
    out: dict[str, list[dict[str, Any]]] = {}
    for m in result.messages:
        if "/push" in m.topic:
            item = json.loads(m.payload)["item"]
            if item["kind"] == kind:
                out.setdefault(m.topic.split("/")[-2], []).append(item)
    return out


def claim(device: str, seq: int, task: str, tote: str, position: int, order: str) -> Any:
    return envelope(device, seq, ToteAssigned(task, tote, position, order, "alice"))


def refusals(result: ApplyResult) -> list[ClaimRefused]:
    return [
        r
        for r in (decode_ack(m.payload) for m in result.messages if m.topic.endswith("/ack"))
        if isinstance(r, ClaimRefused)
    ]


def test_the_demo_loads_its_totes_as_site_data_told_to_pickers_and_stations(
    demo_engine: Engine,
) -> None:
    totes = run_transaction(demo_engine, tote_list_of)
    assert len(totes) == 960 and totes[0].code == "T0001"
    assert (totes[6].cart, totes[6].cart_position) == ("CART-02", 1)  # T0007
    assert all(t.state.value == "free" for t in totes)
    with demo_engine.connect() as conn:
        told = sorted(
            conn.execute(
                select(PUSHES.c.device_id).where(PUSHES.c.kind == "tote.contents")
            ).scalars()
        )
        body = conn.execute(
            select(PUSHES.c.body)
            .where(PUSHES.c.device_id == "pk-01")
            .where(PUSHES.c.kind == "tote.contents")
        ).scalar_one()
    assert told == TOLD  # not the supervisor's device
    item = json.loads(body)["item"]
    assert item["registry"] is True and len(item["totes"]) == 960


def test_a_tote_list_file_is_checked_and_loaded_keeping_busy_totes(
    engine: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'totes = ["T0001-T0003", "X12"]\nshelves = 1\n[[carts]]\ncart = "CART-01"\n'
        'totes = ["T0009"]\n'
    )
    with pytest.raises(HubError) as exc:
        read_tote_file(bad)
    assert (
        "unknown keys shelves" in exc.value.reason
        and "'X12' is not a tote code" in exc.value.reason
    )
    run_transaction(engine, lambda c: register_device(c, "pk-01", "packer", station="PACK-01"))
    run_transaction(engine, lambda c: register_device(c, "sv-01", "supervisor"))
    first = tmp_path / "totes.toml"
    first.write_text(
        'totes = ["T0001-T0004"]\n[[carts]]\ncart = "CART-01"\ntotes = ["T0003-T0004"]\n'
    )
    report, messages = transact(
        engine, TOPICS, lambda c, out: store_tote_list(c, out, read_tote_file(first))
    )
    assert (report.totes, report.added, report.removed, report.carts) == (4, 4, 0, 1)
    assert [m.topic for m in messages if "/push" in m.topic] == [TOPICS.push("pk-01")]
    with engine.begin() as conn:
        conn.execute(
            SITE_TOTES.update()
            .where(SITE_TOTES.c.code == "T0002")
            .values(state="holding", order_id="SO-1")
        )
    smaller = ToteList(["T0001", "T0003", "T0005"], {"CART-01": ["T0005", "T0003"]})
    report, _ = transact(engine, TOPICS, lambda c, out: store_tote_list(c, out, smaller))
    assert (report.added, report.removed, report.kept_busy) == (1, 1, ["T0002"])
    totes = {t.code: t for t in run_transaction(engine, tote_list_of)}
    assert sorted(totes) == ["T0001", "T0002", "T0003", "T0005"]  # T0004 gone, T0002 kept
    assert (totes["T0003"].cart_position, totes["T0005"].cart_position) == (2, 1)


def test_floor_hub_totes_loads_a_file_and_shows_what_totes_hold(
    engine: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "totes.toml"
    path.write_text('totes = ["T0001-T0010"]\n')
    assert hub_main(["totes", str(path), "--db", db_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 10
    assert hub_main(["totes", "--db", db_url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counts"] == {"free": 10} and len(shown["totes"]) == 10
    path.write_text('totes = ["T12"]\n')
    assert hub_main(["totes", str(path), "--db", db_url]) == 2  # nothing changed
    assert "'T12' is not a tote code" in capsys.readouterr().err
    assert len(run_transaction(engine, tote_list_of)) == 10


def test_a_tote_claim_records_the_order_in_it_and_a_busy_tote_is_refused_naming_it(
    demo_engine: Engine,
) -> None:
    device, task, lines, seq = start_task(demo_engine, "SO-100003")
    line = lines[0]
    result = apply(
        demo_engine,
        device,
        [claim(device, seq, task.task_id, "T0061", line.tote_position, "SO-100003")],
    )
    assert result.outcomes[0][1].kind == "applied"
    row = site_tote(demo_engine, "T0061")
    assert (row.state, row.order_id, row.task_id, row.device_id) == (
        "filling",
        "SO-100003",
        task.task_id,
        device,
    )
    with demo_engine.connect() as conn:
        scanned = conn.execute(
            select(TASK_TOTES.c.tote_id)
            .where(TASK_TOTES.c.task_id == task.task_id)
            .where(TASK_TOTES.c.position == line.tote_position)
        ).scalar_one()
    assert scanned == "T0061"
    assert pushed(result) == {}  # a tote being filled is nobody else's business yet
    # another device takes the same tote for another order: refused, naming the order
    other = apply(demo_engine, "hh-04", [claim("hh-04", 1, "PT-9", "T0061", 1, "SO-100009")])
    (refused,) = refusals(other)
    assert refused.type == "tote.assigned" and refused.task_id is None
    assert "tote T0061 still holds order SO-100003, not packed yet" in refused.reason
    back = pushed(other)
    assert list(back) == ["hh-04"]  # the hub's view of the tote, to the refused device
    assert back["hh-04"][0]["totes"][0]["order_id"] == "SO-100003"
    unknown = apply(demo_engine, "hh-04", [claim("hh-04", 2, "PT-9", "T9999", 1, "SO-100009")])
    assert refusals(unknown)[0].reason == "T9999 is not one of the site's totes"
    assert site_tote(demo_engine, "T0061").order_id == "SO-100003"


def test_without_a_tote_list_any_tote_code_is_taken(demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        conn.execute(delete(SITE_TOTES))
    result = apply(demo_engine, "hh-01", [claim("hh-01", 1, "PT-9", "T0042", 1, "SO-100009")])
    assert result.outcomes[0][1].kind == "applied"
    assert site_tote(demo_engine, "T0042").state == "filling"


def work_the_task(engine: Engine, order_id: str) -> tuple[str, str, int, str]:
    """Start the task picking ``order_id``, claim T0061 for the order's position and pick
    its lines into it: (device, task id, next seq, the tote)."""
    device, task, lines, seq = start_task(engine, order_id)
    position = lines[0].tote_position
    events = [claim(device, seq, task.task_id, "T0061", position, order_id)]
    seq += 1
    for line in lines:
        event = pick(
            order_id,
            line.sku,
            task=task.task_id,
            line=line.line_id,
            qty=line.qty,
            location=line.location,
            tote=position,
        )
        events.append(envelope(device, seq, type(event)(**{**event.payload(), "tote": "T0061"})))
        seq += 1
    events.append(
        envelope(
            device, seq, TotePut(task.task_id, lines[0].line_id, "T0061", order_id, 1, "alice")
        )
    )
    result = apply(engine, device, events)
    assert all(o.kind == "applied" for _, o in result.outcomes)
    return device, task.task_id, seq + 1, "T0061"


def test_a_completed_task_leaves_its_totes_holding_their_orders_told_to_stations(
    demo_engine: Engine,
) -> None:
    device, task_id, seq, code = work_the_task(demo_engine, "SO-100003")
    done = apply(demo_engine, device, [envelope(device, seq, TaskCompleted(task_id, "alice"))])
    station = order_row(demo_engine, "SO-100003").pack_station
    row = site_tote(demo_engine, code)
    assert (row.state, row.order_id, row.destination) == ("holding", "SO-100003", station)
    told = pushed(done)
    assert sorted(told) == TOLD
    assert told["pk-01"][0]["totes"] == [
        {
            "tote": code,
            "state": "holding",
            "order_id": "SO-100003",
            "destination": station,
            "cart": "",
            "cart_position": 0,
        }
    ]
    assert f"{code}: SO-100003 to {station}" in done.outcomes[0][1].note
    # a pick into that tote for another order is recorded, and flagged
    other = pick("SO-100009", "SKU-00001", task="PT-9", line="L9")
    stray = type(other)(**{**other.payload(), "tote": code})
    flagged = apply(demo_engine, "hh-04", [envelope("hh-04", 1, stray)])
    assert flagged.outcomes[0][1].kind == "applied"
    assert f"flagged: tote {code} holds order SO-100003" in flagged.outcomes[0][1].note
    assert site_tote(demo_engine, code).order_id == "SO-100003"


def test_packing_the_order_releases_its_tote_and_says_so(demo_engine: Engine) -> None:
    device, task_id, seq, code = work_the_task(demo_engine, "SO-100003")
    apply(demo_engine, device, [envelope(device, seq, TaskCompleted(task_id, "alice"))])
    wrong = apply(
        demo_engine, "pk-01", [envelope("pk-01", 1, ToteReleased(code, "SO-1", "PACK-01", "ben"))]
    )
    assert "holds order SO-100003, not SO-1: kept" in wrong.outcomes[0][1].note
    assert site_tote(demo_engine, code).state == "holding"
    packed = apply(
        demo_engine,
        "pk-01",
        [
            envelope("pk-01", 2, PackCompleted("SO-100003", "PACK-01", "CTN-M", 900, "ben")),
            envelope("pk-01", 3, ToteReleased(code, "SO-100003", "PACK-01", "ben")),
        ],
    )
    assert [o.kind for _, o in packed.outcomes] == ["applied", "applied"]
    row = site_tote(demo_engine, code)
    assert (row.state, row.order_id, row.task_id) == ("free", None, None)
    assert sorted(pushed(packed)) == TOLD
    assert pushed(packed)["hh-01"][0]["totes"][0]["state"] == "free"
    # free again: the next task may take it
    again = apply(demo_engine, "hh-04", [claim("hh-04", 1, "PT-9", code, 1, "SO-100009")])
    assert again.outcomes[0][1].kind == "applied"


def test_a_cancelled_orders_tote_is_free_for_new_work(demo_engine: Engine) -> None:
    device, task_id, seq, code = work_the_task(demo_engine, "SO-100003")
    apply(demo_engine, device, [envelope(device, seq, TaskCompleted(task_id, "alice"))])
    transact(
        demo_engine, TOPICS, lambda c, out: cancel_order(c, out, "SO-100003", "customer called")
    )
    again = apply(demo_engine, "hh-04", [claim("hh-04", 1, "PT-9", code, 1, "SO-100009")])
    assert again.outcomes[0][1].kind == "applied"
    assert site_tote(demo_engine, code).order_id == "SO-100009"
    with demo_engine.connect() as conn:
        notes = list(conn.execute(select(INBOX.c.note).where(INBOX.c.type == "tote.put")).scalars())
    assert notes == [""]
