"""The supervisor's board: the site's devices, exceptions, throughput, bottlenecks and the
history of decisions, updated live.

Keys 1-5 switch the view (the title line shows them; it fits a 40x16 handheld that way),
and the columns fit the screen: a handheld shows the few that matter, Enter shows every
field of the row under the cursor. The devices view lists every device the hub knows
(from the feed: offline ones and those never seen too). In the exceptions view ``a``
approves a short and ``r`` releases a hold, each for a reason the supervisor chooses;
``t`` gives a stalled task to another picker and ``k`` acknowledges a count difference,
each after a yes. Nothing is done on one key. Each decision is a claim the hub may refuse
as stale (the reason is shown). The history view lists the decisions taken, on this
device and (with the hub) any other, such as a weight a supervisor accepted at a pack
station: what, why, who and when.

The footer shows only the keys that work now (the actions the selected exception allows),
so it is never cut, at 80 or at 40 columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import ContentSwitcher, DataTable, Footer, Static

from floor_app.domain.decisions import DecisionKind
from floor_app.domain.errors import DomainError
from floor_app.services.errors import ServiceError
from floor_app.services.supervision import (
    DecisionRecord,
    DevicePresence,
    FloorException,
    SupervisorFeed,
)
from floor_app.ui.devices import health_mark, state_named
from floor_app.ui.widgets.status_header import format_age

from .base import FloorScreen
from .pack_dialogs import ReasonScreen
from .supervisor_dialogs import ConfirmScreen, DetailsScreen

REFRESH_S = 2.0
#: Narrower screens than this get the handheld's columns.
WIDE_COLUMNS = 60

#: What each exception action decides (the reason codes of the kinds that need one).
ACTION_KIND = {
    "approve": DecisionKind.APPROVE_SHORT,
    "release": DecisionKind.RELEASE_HOLD,
    "reassign": DecisionKind.REASSIGN_TASK,
    "acknowledge": DecisionKind.ACKNOWLEDGE_COUNT,
}


class SupervisorView(StrEnum):
    """The views, in the order of their keys 1-5 (the value is the table's id)."""

    DEVICES = "devices"
    EXCEPTIONS = "exceptions"
    THROUGHPUT = "throughput"
    BOTTLENECKS = "bottlenecks"
    HISTORY = "history"


#: The columns of each view: on a wide screen, and on a handheld.
COLUMNS: dict[SupervisorView, tuple[tuple[str, ...], tuple[str, ...]]] = {
    SupervisorView.DEVICES: (
        ("device", "user", "task", "outbox", "last_scan", "health"),
        ("device", "user", "outbox", "health"),
    ),
    SupervisorView.EXCEPTIONS: (("what", "subject", "detail", "age"), ("what", "subject", "age")),
    SupervisorView.THROUGHPUT: (("who", "pick", "pack", "label"), ("who", "pick", "pack", "label")),
    SupervisorView.BOTTLENECKS: (("stage", "waiting", "oldest"), ("stage", "waiting", "oldest")),
    SupervisorView.HISTORY: (
        ("age", "what", "subject", "reason", "who"),
        ("age", "what", "subject", "who"),
    ),
}


def exception_detail(tr: Callable[..., str], exc: FloorException) -> str:
    """What an exception is about, in the user's language (its English summary when it
    came without parts to translate)."""
    if not exc.parts:
        return exc.summary
    texts = []
    for key, params in exc.parts:
        values = dict(params)
        if key == "exceptions.short":
            values["reason"] = tr(f"short.{values['reason']}")
        texts.append(tr(key, **values))
    return ", ".join(texts)


def reason_text(tr: Callable[..., str], kind: DecisionKind | str, code: str) -> str:
    """The text of a reason code in the user's language (the code itself for a site's own
    code its catalogue does not know; "-" for none)."""
    if not code:
        return "-"
    key = f"reason.{kind}.{code}"
    text = tr(key)
    return code if text == key else text


class SupervisorHomeScreen(FloorScreen):
    """The live floor (see the module docstring)."""

    BINDINGS = [
        Binding("1", "view('devices')", "keys.devices", id="sup.devices", show=False),
        Binding("2", "view('exceptions')", "keys.exceptions", id="sup.exceptions", show=False),
        Binding("3", "view('throughput')", "keys.throughput", id="sup.throughput", show=False),
        Binding("4", "view('bottlenecks')", "keys.bottlenecks", id="sup.bottlenecks", show=False),
        Binding("5", "view('history')", "keys.history", id="sup.history", show=False),
        Binding("a", "approve", "supervisor.keys.approve", id="sup.approve"),
        Binding("r", "release", "supervisor.keys.release", id="sup.release"),
        Binding("t", "reassign", "supervisor.keys.reassign", id="sup.reassign"),
        Binding("k", "acknowledge", "supervisor.keys.acknowledge", id="sup.acknowledge"),
        Binding("enter", "details", "keys.details", id="sup.details", priority=True),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current = SupervisorView.DEVICES
        self._devices_shown: list[DevicePresence] = []
        self._exceptions: list[FloorException] = []
        self._history: list[DecisionRecord] = []
        self._wide: bool | None = None

    @property
    def feed(self) -> SupervisorFeed:
        assert self.floor.ctx.supervisor is not None
        return self.floor.ctx.supervisor

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static("", id="sup-title", classes="title")
        with ContentSwitcher(initial=SupervisorView.DEVICES, id="views"):
            for view in SupervisorView:
                table: DataTable[str] = DataTable(id=view, cursor_type="row", zebra_stripes=True)
                yield table
        yield Static("", id="message", classes="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.feed.follow()
        self._set_columns(self.size.width)
        self.refresh_views()
        self.set_interval(REFRESH_S, self.refresh_views)
        self.action_view(SupervisorView.DEVICES)

    def on_resize(self, event: Resize) -> None:
        if self._set_columns(event.size.width):
            self.refresh_views()

    def _set_columns(self, width: int) -> bool:
        """The columns that fit ``width``; True when they changed."""
        wide = width >= WIDE_COLUMNS
        if wide == self._wide:
            return False
        self._wide = wide
        for view, (wide_columns, narrow_columns) in COLUMNS.items():
            table = self.query_one(f"#{view}", DataTable)
            table.clear(columns=True)
            table.add_columns(
                *(
                    self.tr(f"supervisor.col.{c}")
                    for c in (wide_columns if wide else narrow_columns)
                )
            )
        return True

    def action_view(self, name: str) -> None:
        """Show the view ``name`` (a :class:`SupervisorView` value; the keys' actions name it)."""
        view = SupervisorView(name)
        self.current = view
        self.query_one("#views", ContentSwitcher).current = view
        self.query_one(f"#{view}", DataTable).focus()
        self.query_one("#sup-title", Static).update(
            f"{self.tr(f'supervisor.view.{view}')}  "
            + " ".join(
                f"[reverse]{i}[/]" if v is view else str(i)
                for i, v in enumerate(SupervisorView, start=1)
            )
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that work now are shown and taken: Enter where a row has details,
        an exception's action where the selected exception allows it."""
        if action == "details":
            shown = {
                SupervisorView.DEVICES: self._devices_shown,
                SupervisorView.EXCEPTIONS: self._exceptions,
                SupervisorView.HISTORY: self._history,
            }
            return bool(shown.get(self.current))
        if action in ACTION_KIND:
            exc = self.selected_exception()
            return exc is not None and action in exc.actions
        return True

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        self.refresh_bindings()

    def refresh_views(self) -> None:
        """Read the feed and redraw every view."""
        try:
            self._devices()
            self._exceptions_view()
            self._throughput()
            self._bottlenecks()
            self._history_view()
        except (DomainError, ServiceError) as exc:
            self.show_message(self.explain(exc), error=True)
        self.refresh_bindings()

    @staticmethod
    def _refill(table: DataTable[str], rows: Sequence[tuple[str, ...]], keys: list[str]) -> None:
        cursor = table.cursor_row
        table.clear()
        for row, key in zip(rows, keys, strict=True):
            table.add_row(*row, key=key)
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(rows) - 1))

    # -- devices -------------------------------------------------------------------------------

    @staticmethod
    def _mark(d: DevicePresence) -> str:
        return {True: "●", False: "○", None: "?"}[d.online]

    def _devices(self) -> None:
        rows: list[tuple[str, ...]] = []
        keys: list[str] = []
        self._devices_shown = self.feed.devices()
        for d in self._devices_shown:
            outbox = str(d.outbox_depth) if d.online is not False or d.outbox_depth else "-"
            if self._wide:
                if d.oldest_unsent_age_s is not None and d.outbox_depth > 0:
                    outbox += f" {format_age(d.oldest_unsent_age_s, self.floor.tr)}"
                scan = d.last_scan
                if d.last_scan_age_s is not None:
                    scan += f" {format_age(d.last_scan_age_s, self.floor.tr)}"
                health = " ".join(
                    f"{k[:4]}{health_mark(state_named(v), other='✗')}" for k, v in d.health.items()
                )
                rows.append(
                    (
                        f"{self._mark(d)} {d.device_id}",
                        d.user or "-",
                        d.task or "-",
                        outbox,
                        scan or "-",
                        health or "-",
                    )
                )
            else:
                rows.append(
                    (
                        f"{self._mark(d)} {d.device_id}",
                        d.user or "-",
                        outbox,
                        self._health_short(d),
                    )
                )
            keys.append(d.device_id)
        self._refill(self.query_one("#devices", DataTable), rows, keys)

    @staticmethod
    def _health_short(d: DevicePresence) -> str:
        """``✓`` all working, ``✗2`` two not, ``-`` nothing reported."""
        if not d.health:
            return "-"
        marks = [health_mark(state_named(v), other="✗") for v in d.health.values()]
        bad = sum(1 for m in marks if m != "✓")
        return "✓" if not bad else f"✗{bad}"

    def _device_details(self, d: DevicePresence) -> list[tuple[str, str]]:
        tr = self.tr

        def age(seconds: float) -> str:
            return format_age(seconds, self.floor.tr)

        state = {True: "online", False: "offline", None: "unknown"}[d.online]
        lines = [
            (tr("supervisor.detail.presence"), f"{self._mark(d)} {tr(f'supervisor.{state}')}"),
            (tr("supervisor.col.user"), d.user or "-"),
            (tr("supervisor.col.task"), d.task or "-"),
            (
                tr("supervisor.col.outbox"),
                str(d.outbox_depth)
                + (
                    f" ({tr('supervisor.detail.oldest')} {age(d.oldest_unsent_age_s)})"
                    if d.oldest_unsent_age_s is not None and d.outbox_depth > 0
                    else ""
                ),
            ),
            (
                tr("supervisor.col.last_scan"),
                (d.last_scan or "-")
                + (f" ({age(d.last_scan_age_s)})" if d.last_scan_age_s is not None else ""),
            ),
            (
                tr("supervisor.detail.seen"),
                age(d.seen_age_s) if d.seen_age_s is not None else tr("supervisor.never"),
            ),
        ]
        if d.role or d.station:
            lines.append(
                (tr("supervisor.detail.role"), " ".join(p for p in (d.role, d.station) if p))
            )
        if d.note:
            lines.append((tr("supervisor.detail.note"), d.note))
        if d.app_version:
            lines.append((tr("supervisor.detail.version"), d.app_version))
        if d.battery_pct is not None:
            lines.append((tr("supervisor.detail.battery"), f"{d.battery_pct}%"))
        for name, state_text in d.health.items():
            mark = health_mark(state_named(state_text), other="✗")
            lines.append((f"{tr('supervisor.col.health')} {name}", f"{mark} {state_text}"))
        return lines

    # -- exceptions, history, figures ----------------------------------------------------------

    def _exceptions_view(self) -> None:
        self._exceptions = self.feed.exceptions()
        rows: list[tuple[str, ...]] = []
        for e in self._exceptions:
            what = self.tr(f"supervisor.kind.{e.kind}")
            if self._wide:
                rows.append(
                    (
                        what,
                        e.subject,
                        exception_detail(self.tr, e),
                        format_age(e.age_s, self.floor.tr),
                    )
                )
            else:
                rows.append((what, e.subject, format_age(e.age_s, self.floor.tr)))
        self._refill(
            self.query_one("#exceptions", DataTable), rows, [e.key for e in self._exceptions]
        )

    def _history_view(self) -> None:
        self._history = self.feed.history()
        now = self.floor.ctx.clock()
        rows: list[tuple[str, ...]] = []
        for r in self._history:
            d = r.decision
            age = format_age(max(0.0, now - r.at), self.floor.tr)
            what = self.tr(f"supervisor.decision.{d.kind}")
            if self._wide:
                rows.append((age, what, d.subject, reason_text(self.tr, d.kind, d.reason), d.user))
            else:
                rows.append((age, what, d.subject, d.user))
        self._refill(
            self.query_one("#history", DataTable), rows, [r.event_id for r in self._history]
        )

    def _throughput(self) -> None:
        t = self.feed.throughput()
        rows = [
            (
                self.tr("supervisor.all"),
                str(t.per_stage.get("pick", 0)),
                str(t.per_stage.get("pack", 0)),
                str(t.per_stage.get("label", 0)),
            )
        ]
        keys = ["*"]
        for person, stages in t.per_person.items():
            rows.append(
                (
                    person or "-",
                    str(stages.get("pick", 0)),
                    str(stages.get("pack", 0)),
                    str(stages.get("label", 0)),
                )
            )
            keys.append(person or "-")
        self._refill(self.query_one("#throughput", DataTable), rows, keys)

    def _bottlenecks(self) -> None:
        rows, keys = [], []
        for b in self.feed.bottlenecks():
            rows.append(
                (
                    self.tr(f"order_state.{b.stage}"),
                    str(b.waiting),
                    format_age(b.oldest_age_s, self.floor.tr) if b.waiting else "-",
                )
            )
            keys.append(b.stage)
        self._refill(self.query_one("#bottlenecks", DataTable), rows, keys)

    # -- details -------------------------------------------------------------------------------

    def _row(self, view: SupervisorView, count: int) -> int | None:
        row = self.query_one(f"#{view}", DataTable).cursor_row
        return row if 0 <= row < count else None

    def action_details(self) -> None:
        """Every field of the row under the cursor."""
        tr = self.tr
        if self.current is SupervisorView.DEVICES:
            row = self._row(self.current, len(self._devices_shown))
            if row is not None:
                device = self._devices_shown[row]
                self.app.push_screen(DetailsScreen(device.device_id, self._device_details(device)))
        elif self.current is SupervisorView.EXCEPTIONS:
            e = self.selected_exception()
            if e is not None:
                actions = ", ".join(tr(f"supervisor.keys.{a}") for a in e.actions) or "-"
                lines = [
                    (tr("supervisor.col.what"), tr(f"supervisor.kind.{e.kind}")),
                    (tr("supervisor.col.detail"), exception_detail(tr, e)),
                    (tr("supervisor.col.age"), format_age(e.age_s, self.floor.tr)),
                    (tr("supervisor.detail.actions"), actions),
                ]
                self.app.push_screen(DetailsScreen(e.subject, lines))
        elif self.current is SupervisorView.HISTORY:
            row = self._row(self.current, len(self._history))
            if row is not None:
                r = self._history[row]
                d = r.decision
                age = format_age(max(0.0, self.floor.ctx.clock() - r.at), self.floor.tr)
                lines = [
                    (tr("supervisor.col.what"), tr(f"supervisor.decision.{d.kind}")),
                    (tr("supervisor.col.reason"), reason_text(tr, d.kind, d.reason)),
                    (tr("supervisor.col.who"), d.user or "-"),
                    (tr("supervisor.detail.device"), r.device_id or "-"),
                    (tr("supervisor.col.age"), age),
                ]
                if d.detail:
                    lines.append((tr("supervisor.col.detail"), d.detail))
                self.app.push_screen(DetailsScreen(d.subject, lines))

    # -- actions -------------------------------------------------------------------------------

    def selected_exception(self) -> FloorException | None:
        """The exception under the cursor in the exceptions view."""
        if self.current is not SupervisorView.EXCEPTIONS or not self._exceptions:
            return None
        row = self._row(SupervisorView.EXCEPTIONS, len(self._exceptions))
        return self._exceptions[row] if row is not None else None

    def _act(self, action: str) -> FloorException | None:
        exc = self.selected_exception()
        if exc is None:
            self.flash_error(self.tr("supervisor.select_first"))
            return None
        if action not in exc.actions:
            self.flash_error(
                self.tr(
                    "supervisor.not_for",
                    action=self.tr(f"supervisor.keys.{action}"),
                    subject=exc.subject,
                )
            )
            return None
        return exc

    def _done(self, text: str) -> None:
        self.show_message(text)
        self.refresh_views()

    def _decide(self, do: Callable[[], None], done: str) -> None:
        try:
            do()
        except (DomainError, ServiceError) as err:
            self.flash_error(self.explain(err))
            return
        self._done(done)

    def _ask_reason(self, kind: DecisionKind, title: str, then: Callable[[str], None]) -> None:
        """Ask why (one of ``kind``'s reason codes); ``then(code)`` once one is chosen."""
        codes = list(self.feed.reasons(kind))
        texts = [reason_text(self.tr, kind, c) for c in codes]

        def chosen(text: str | None) -> None:
            if text:
                then(codes[texts.index(text)])

        self.app.push_screen(ReasonScreen(title, texts, dialog_id="decision-reason"), chosen)

    def action_approve(self) -> None:
        exc = self._act("approve")
        if exc is None:
            return
        user = self.floor.user_id
        self._ask_reason(
            DecisionKind.APPROVE_SHORT,
            self.tr(
                "supervisor.approve_why", order=exc.subject, detail=exception_detail(self.tr, exc)
            ),
            lambda code: self._decide(
                lambda: self.feed.approve_short(exc.subject, user, code),
                self.tr(
                    "supervisor.approved",
                    order=exc.subject,
                    reason=reason_text(self.tr, DecisionKind.APPROVE_SHORT, code),
                ),
            ),
        )

    def action_release(self) -> None:
        exc = self._act("release")
        if exc is None:
            return
        user = self.floor.user_id
        self._ask_reason(
            DecisionKind.RELEASE_HOLD,
            self.tr(
                "supervisor.release_why", order=exc.subject, detail=exception_detail(self.tr, exc)
            ),
            lambda code: self._decide(
                lambda: self.feed.release_hold(exc.subject, user, code),
                self.tr(
                    "supervisor.released",
                    order=exc.subject,
                    reason=reason_text(self.tr, DecisionKind.RELEASE_HOLD, code),
                ),
            ),
        )

    def action_acknowledge(self) -> None:
        exc = self._act("acknowledge")
        if exc is None:
            return
        user = self.floor.user_id
        count_id = int(exc.key.split(":", 1)[1])

        def answered(yes: bool | None) -> None:
            if yes:
                self._decide(
                    lambda: self.feed.acknowledge_count(count_id, user),
                    self.tr("supervisor.acknowledged", subject=exc.subject),
                )

        self.app.push_screen(
            ConfirmScreen(
                self.tr(
                    "supervisor.acknowledge_confirm",
                    subject=exc.subject,
                    detail=exception_detail(self.tr, exc),
                )
            ),
            answered,
        )

    def action_reassign(self) -> None:
        exc = self._act("reassign")
        if exc is None:
            return
        pickers = self.feed.pickers()
        user = self.floor.user_id

        def chosen(picker: str | None) -> None:
            if not picker:
                return

            def answered(yes: bool | None) -> None:
                if yes:
                    self._decide(
                        lambda: self.feed.reassign_task(exc.subject, picker, user),
                        self.tr("supervisor.reassigned", task=exc.subject, user=picker),
                    )

            self.app.push_screen(
                ConfirmScreen(
                    self.tr("supervisor.reassign_confirm", task=exc.subject, user=picker)
                ),
                answered,
            )

        self.app.push_screen(
            ReasonScreen(self.tr("supervisor.reassign_to", task=exc.subject), pickers[:9]), chosen
        )
