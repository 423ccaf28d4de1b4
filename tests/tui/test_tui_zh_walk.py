"""A walk through every screen in Chinese at handheld size 40x16: no English sentence shows,
whatever is scanned or typed, and no input breaks the layout.

An English sentence is a run of three or more words of Latin letters; codes (SKU-00003,
A01-01-1A, T0901), ids and key names (f6, esc) are single words and may show, and so may
the names of the site's carrier services (``SF Express standard``): they are names, not
text. Each step reads what the terminal would show (the composed screen) and checks that
the screen did not scroll, the header is on the first line and the footer on the last.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from conftest import context_from_seed
from textual.pilot import Pilot

from floor_app.context import AppContext
from floor_app.domain.errors import Reason
from floor_app.domain.order import OrderState
from floor_app.domain.stockwork import StockTask, StockTaskKind
from floor_app.ui.app import FloorApp
from floor_app.ui.messages import ScanArrived, SyncNotice
from floor_app.ui.screens.base import FloorScreen
from floor_app.ui.screens.lock import LockScreen
from floor_app.ui.screens.packer_home import PackerHomeScreen
from floor_app.ui.widgets.scan_input import MAX_SCAN
from sync.device.push_apply import PushApplier
from sync.protocol import PushMessage, StockTaskAssigned, StockTaskModel

pytestmark = pytest.mark.tui

SIZE = (40, 16)
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")
LONG = "A1" * 250  # 500 characters, no floor code
CHINESE = "你好世界条码测试"


def said(lines: list[str]) -> str:
    """The screen's text without spaces (a sentence may wrap anywhere)."""
    return "".join(lines).replace(" ", "")


def service_names(ctx: AppContext) -> set[str]:
    """The carrier services the demo orders may ship with (names, not sentences)."""
    names: set[str] = set()
    with ctx.store.unit_of_work() as uow:
        for state in OrderState:
            for order_id in uow.orders.by_state(state):
                choice = uow.orders.get(order_id).carrier_choice
                if choice is not None:
                    names.update(q.name for q in choice.options)
    return names


def shown(app: FloorApp) -> list[str]:
    """The lines the terminal shows now (the screen as composed, dialogs included)."""
    update = app.screen._compositor.render_update(full=True)
    return ["".join(strip.text for strip in line) for line in update.strips]


class Walk:
    """Collects what each step shows and what is wrong with it."""

    def __init__(self, app: FloorApp, pilot: Pilot[int]) -> None:
        self.app = app
        self.pilot = pilot
        self.problems: list[str] = []
        self.seen: dict[str, list[str]] = {}
        self.names = sorted(service_names(app.ctx), key=len, reverse=True)
        #: the footer: a key and its name (f2 用户+密码, esc 返回, ^q 退出 ...)
        self.footer = re.compile(r"(?:^|\s)(?:f\d+|esc|enter|\^\w|\d|[a-z]) \S")

    async def look(self, step: str) -> list[str]:
        await self.pilot.pause()
        await self.pilot.pause()
        lines = shown(self.app)
        self.seen[step] = lines
        for line in lines:
            text = line
            for name in self.names:
                text = text.replace(name, "·")
            for run in ENGLISH.findall(text):
                self.problems.append(f"{step}: English {run!r} in {line.strip()!r}")
        if len(lines) != SIZE[1] or self.app.screen.scroll_y:
            self.problems.append(f"{step}: the screen scrolled")
        if not lines[0].startswith("hh-01"):
            self.problems.append(f"{step}: the header is gone: {lines[0]!r}")
        if isinstance(self.app.screen, FloorScreen) and not self.footer.search(lines[-1]):
            self.problems.append(f"{step}: the footer is gone: {lines[-1]!r}")
        return lines

    async def keys(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.pilot.pause()

    async def scan(self, text: str) -> None:
        self.app.post_message(ScanArrived(text, "scanner"))
        await self.pilot.pause()

    async def typed(self, text: str) -> None:
        await self.pilot.press(*text, "enter")
        await self.pilot.pause()


def _run(ctx: AppContext, body: object) -> list[str]:
    problems: list[str] = []

    async def scenario() -> None:
        app = FloorApp(ctx, language="zh")
        async with app.run_test(size=SIZE) as pilot:
            walk = Walk(app, pilot)
            await body(walk)  # type: ignore[operator]
            problems.extend(walk.problems)

    asyncio.run(scenario())
    return problems


@pytest.fixture
def ctx(seeded_store: Path, tmp_path: Path) -> AppContext:
    return context_from_seed(seeded_store, tmp_path, bell=False)


async def _login_and_inputs(w: Walk) -> None:
    await w.look("login")
    await w.keys("f2")
    await w.look("login with user and PIN")
    await w.keys(*("u" * 40))
    assert "太长：最多32个字符" in said(await w.look("a user id of 40 characters"))
    await w.keys("tab", *("9" * 12))
    assert "太长：最多8个字符" in said(await w.look("a PIN of 12 digits"))
    await w.keys("f2")
    await w.keys(*LONG)
    lines = await w.look("500 characters typed at the badge")
    assert f"太长：最多{MAX_SCAN}个字符" in said(lines)
    await w.keys("enter")
    await w.look("500 characters submitted")
    await w.scan(LONG)
    assert "不是仓库条码" in said(await w.look("500 characters scanned"))
    await w.typed(CHINESE)
    await w.look("Chinese text as a badge")
    await w.typed("B9999")
    assert "本设备不认识工牌B9999" in said(await w.look("an unknown badge"))


async def _picker(w: Walk) -> None:
    await w.typed("B1002")
    await w.look("picker home")
    await w.typed("HELLO-WORLD-42")
    assert "未知条码HELLO-WORLD-42" in said(await w.look("an unknown code at home"))
    await w.typed("")  # Enter: the first task
    await w.look("the task's totes")
    await w.typed("HELLO-WORLD-42")
    await w.look("an unknown code for a tote")
    await w.typed("T0061")
    await w.typed("T0061")
    await w.look("a tote scanned twice")
    await w.typed("A01-01-1A")
    await w.look("a location before the totes")
    await w.typed("T0062")
    await w.typed("T0063")
    await w.typed("T0064")
    await w.look("pick")
    await w.typed("A09-09-9Z")
    await w.look("a wrong location")
    await w.typed("HELLO-WORLD-42")
    await w.look("an unknown code while picking")
    await w.typed(CHINESE)
    await w.look("Chinese text while picking")
    await w.keys(*LONG)
    await w.look("500 characters typed while picking")
    await w.keys("enter")
    await w.scan(LONG)
    await w.look("500 characters scanned while picking")
    await w.typed("4006381333931")
    await w.look("an item of another place")
    app = w.app
    app.post_message(SyncNotice("rejected", Reason("x", "hub.qty_not_positive", {"qty": 0})))
    await w.look("a rejection from the hub")
    changed = Reason("x", "hub.order_changed", {"order": "SO-1", "version": 3, "hub_version": 4})
    app.post_message(SyncNotice("refused", changed))
    assert "订单SO-1在本设备看到后已变化" in said(await w.look("a refusal from the hub"))
    await w.keys("f6")
    await w.look("why short")
    await w.keys("escape")
    task = app.ctx.activity.task
    lost = Reason("x", "task.lease_lost", {"device": "hh-02"})
    app.post_message(SyncNotice("task_cancelled", lost, task_id=task))
    lines = await w.look("the task stopped by the hub")
    assert "hh-02" in said(lines) and "离开超过租期" in said(lines)
    await w.keys("enter")
    await w.look("back home")
    app.push_screen(LockScreen())
    await w.look("locked")
    await w.typed("B1002")
    await w.keys("ctrl+l")


def push_stock_work(ctx: AppContext) -> None:
    """The hub's pushes of a refill, a put-away, a count and a recount the user may not do."""
    tasks = [
        StockTask("ST-1", StockTaskKind.REPLENISH, "SKU-00001", "", "A01-01-4A", "A01-01-2A", 5),
        StockTask("ST-2", StockTaskKind.PUTAWAY, "SKU-00002", "", "T0007", "A01-02-2A", 3),
        StockTask("ST-3", StockTaskKind.COUNT, "SKU-00001", "", "A01-01-2A", ""),
        StockTask(
            "ST-4", StockTaskKind.COUNT, "", "", "A01-01-1A", "", attempt=2, not_user="wangfang"
        ),
    ]
    applier = PushApplier(ctx.store)
    for cursor, task in enumerate(tasks, start=1):
        item = StockTaskAssigned(task=StockTaskModel.from_domain(task))
        assert applier.apply(PushMessage(device_id=ctx.store.device_id, cursor=cursor, item=item))


async def _stock_work(w: Walk) -> None:
    push_stock_work(w.app.ctx)
    await w.typed("B1002")
    home = w.app.screen
    rows = home.query_one("#tasks").row_count  # type: ignore[attr-defined]
    for row in range(rows):
        await w.keys(*(["down"] * row), "enter") if row else await w.keys("enter")
        screen = w.app.screen
        if type(screen).__name__ in ("StockCountScreen", "StockMoveScreen"):
            name = type(screen).__name__
            await w.look(name)
            await w.typed("HELLO-WORLD-42")
            await w.look(f"{name}: an unknown code")
            await w.typed("A09-09-9Z")
            await w.look(f"{name}: another location")
            await w.typed("-3")
            await w.look(f"{name}: a negative number")
        else:
            await w.look(f"row {row}")
        while w.app.screen is not home:
            await w.keys("escape")
    assert {"StockCountScreen", "StockMoveScreen"} <= set(w.seen)
    assert "别人" in said(w.seen["row 9"]) or "他人" in said(w.seen["row 9"])
    await w.keys("ctrl+l")


async def _packer(w: Walk) -> None:
    await w.typed("B2002")
    await w.look("packer home")
    await w.typed("HELLO-WORLD-42")
    await w.look("packer: an unknown code")
    await w.typed("A01-01-1A")
    assert "不是周转箱或订单" in said(await w.look("packer: a location"))
    await w.typed("T0901")
    await w.look("packer: a parcel open")
    await w.typed("4006381333931")
    await w.look("packer: an item not in the order")
    await w.keys("f3")
    await w.look("packer: carrier choice")
    await w.keys("escape")
    await w.keys("f4")
    await w.look("packer: why hold")
    await w.keys("escape")
    screen = w.app.screen
    assert isinstance(screen, PackerHomeScreen) and screen.view is not None
    for sku, qty in screen.view.session.expected.items():
        for _ in range(qty):
            await w.typed(screen.view.skus[sku].gtin)
    await w.look("packer: all verified")
    await w.typed("5")
    await w.look("packer: a weight far off")
    await w.keys("f7")
    await w.look("packer: supervisor's badge")
    await w.keys("escape")
    await w.keys("escape")
    await w.keys("f5")
    await w.look("returns desk")
    await w.typed("SO-999999")
    await w.look("returns: a parcel not on this device")
    await w.typed("A01-01-1A")
    await w.look("returns: a location for an item")
    await w.keys("escape")
    await w.keys("ctrl+l")


async def _supervisor(w: Walk) -> None:
    await w.typed("B3002")
    for view in "1234":
        await w.keys(view)
        await w.look(f"supervisor view {view}")
    await w.keys("a")
    await w.look("supervisor: nothing selected")
    await w.keys("2", "t")
    await w.look("supervisor: reassign")


@pytest.mark.parametrize(
    "part",
    [_login_and_inputs, _picker, _stock_work, _packer, _supervisor],
    ids=lambda f: f.__name__,
)
def test_every_screen_in_chinese_at_40x16_shows_no_english_sentence(
    ctx: AppContext, part: object
) -> None:
    problems = _run(ctx, part)
    ctx.close()
    assert problems == [], "\n".join(problems)
