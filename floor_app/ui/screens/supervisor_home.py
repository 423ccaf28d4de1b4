"""The supervisor's screen: devices, exceptions, throughput and bottlenecks, updated live.

Keys 1-4 switch the view (it fits a 40x16 handheld that way). In the exceptions view
``a`` approves a short, ``r`` releases a hold and ``t`` gives a stalled task to another
picker; each decision is a claim the hub may refuse as stale (the reason is shown). ``k``
acknowledges a count difference (stock an accepted count adjusted).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import ContentSwitcher, DataTable, Footer, Static

from floor_app.domain.errors import DomainError
from floor_app.services.supervision import FloorException, SupervisorFeed
from floor_app.store import StoreError
from floor_app.ui.widgets.status_header import format_age

from .base import FloorScreen, error_text
from .pack_dialogs import ReasonScreen

VIEWS = ("devices", "exceptions", "throughput", "bottlenecks")
REFRESH_S = 2.0


class SupervisorHomeScreen(FloorScreen):
    """The live floor (see the module docstring)."""

    BINDINGS = [
        Binding("1", "view('devices')", "keys.devices", id="sup.devices"),
        Binding("2", "view('exceptions')", "keys.exceptions", id="sup.exceptions"),
        Binding("3", "view('throughput')", "keys.throughput", id="sup.throughput"),
        Binding("4", "view('bottlenecks')", "keys.bottlenecks", id="sup.bottlenecks"),
        Binding("a", "approve", "keys.approve", id="sup.approve"),
        Binding("r", "release", "keys.release", id="sup.release"),
        Binding("t", "reassign", "keys.reassign", id="sup.reassign"),
        Binding("k", "acknowledge", "keys.acknowledge", id="sup.acknowledge"),
        Binding("ctrl+l", "app.logout", "keys.logout", id="app.logout"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current = "devices"
        self._exceptions: list[FloorException] = []

    @property
    def feed(self) -> SupervisorFeed:
        assert self.floor.ctx.supervisor is not None
        return self.floor.ctx.supervisor

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static("", id="sup-title", classes="title")
        with ContentSwitcher(initial="devices", id="views"):
            for name in VIEWS:
                table: DataTable[str] = DataTable(id=name, cursor_type="row", zebra_stripes=True)
                yield table
        yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        tr = self.tr
        cols = {
            "devices": ("device", "user", "task", "outbox", "last_scan", "health"),
            "exceptions": ("what", "subject", "detail", "age"),
            "throughput": ("who", "pick", "pack", "label"),
            "bottlenecks": ("stage", "waiting", "oldest"),
        }
        for name, columns in cols.items():
            self.query_one(f"#{name}", DataTable).add_columns(
                *(tr(f"supervisor.col.{c}") for c in columns)
            )
        self.refresh_views()
        self.set_interval(REFRESH_S, self.refresh_views)
        self.action_view("devices")

    def action_view(self, name: str) -> None:
        self.current = name
        self.query_one("#views", ContentSwitcher).current = name
        self.query_one(f"#{name}", DataTable).focus()
        self.query_one("#sup-title", Static).update(
            f"{self.tr('supervisor.view.' + name)}  "
            + " ".join(
                f"[reverse]{i}[/]" if v == name else str(i) for i, v in enumerate(VIEWS, start=1)
            )
        )

    def refresh_views(self) -> None:
        """Read the feed and redraw every view."""
        try:
            self._devices()
            self._exceptions_view()
            self._throughput()
            self._bottlenecks()
        except (DomainError, StoreError) as exc:
            self.show_message(error_text(exc), error=True)

    @staticmethod
    def _refill(table: DataTable[str], rows: Sequence[tuple[str, ...]], keys: list[str]) -> None:
        cursor = table.cursor_row
        table.clear()
        for row, key in zip(rows, keys, strict=True):
            table.add_row(*row, key=key)
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(rows) - 1))

    def _devices(self) -> None:
        rows, keys = [], []
        marks = {"ready": "✓", "printing": "✓", "connecting": "…"}
        for d in self.feed.devices():
            presence = {True: "●", False: "○", None: "?"}[d.online]
            outbox = str(d.outbox_depth)
            if d.oldest_unsent_age_s is not None and d.outbox_depth > 0:
                outbox += f" {format_age(d.oldest_unsent_age_s)}"
            scan = d.last_scan
            if d.last_scan_age_s is not None:
                scan += f" {format_age(d.last_scan_age_s)}"
            health = " ".join(f"{k[:4]}{marks.get(v, '✗')}" for k, v in d.health.items())
            rows.append(
                (
                    f"{presence} {d.device_id}",
                    d.user or "-",
                    d.task or "-",
                    outbox,
                    scan or "-",
                    health or "-",
                )
            )
            keys.append(d.device_id)
        self._refill(self.query_one("#devices", DataTable), rows, keys)

    def _exceptions_view(self) -> None:
        self._exceptions = self.feed.exceptions()
        rows = [
            (self.tr(f"supervisor.kind.{e.kind}"), e.subject, e.summary, format_age(e.age_s))
            for e in self._exceptions
        ]
        self._refill(
            self.query_one("#exceptions", DataTable), rows, [e.key for e in self._exceptions]
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
                    format_age(b.oldest_age_s) if b.waiting else "-",
                )
            )
            keys.append(b.stage)
        self._refill(self.query_one("#bottlenecks", DataTable), rows, keys)

    # -- actions -----------------------------------------------------------------------------

    def selected_exception(self) -> FloorException | None:
        """The exception under the cursor in the exceptions view."""
        if self.current != "exceptions" or not self._exceptions:
            return None
        row = self.query_one("#exceptions", DataTable).cursor_row
        return self._exceptions[row] if 0 <= row < len(self._exceptions) else None

    def _act(self, action: str) -> FloorException | None:
        exc = self.selected_exception()
        if exc is None:
            self.flash_error(self.tr("supervisor.select_first"))
            return None
        if action not in exc.actions:
            self.flash_error(
                self.tr("supervisor.not_for", action=self.tr(f"keys.{action}"), subject=exc.subject)
            )
            return None
        return exc

    def _done(self, text: str) -> None:
        self.show_message(text)
        self.refresh_views()

    def action_approve(self) -> None:
        exc = self._act("approve")
        if exc is None:
            return
        try:
            self.feed.approve_short(exc.subject, self.floor.user_id)
        except (DomainError, StoreError) as err:
            self.flash_error(error_text(err))
            return
        self._done(self.tr("supervisor.approved", order=exc.subject))

    def action_release(self) -> None:
        exc = self._act("release")
        if exc is None:
            return
        try:
            self.feed.release_hold(exc.subject, self.floor.user_id)
        except (DomainError, StoreError) as err:
            self.flash_error(error_text(err))
            return
        self._done(self.tr("supervisor.released", order=exc.subject))

    def action_acknowledge(self) -> None:
        exc = self._act("acknowledge")
        if exc is None:
            return
        try:
            self.feed.acknowledge_count(int(exc.key.split(":", 1)[1]), self.floor.user_id)
        except (DomainError, StoreError) as err:
            self.flash_error(error_text(err))
            return
        self._done(self.tr("supervisor.acknowledged", subject=exc.subject))

    def action_reassign(self) -> None:
        exc = self._act("reassign")
        if exc is None:
            return
        pickers = self.feed.pickers()

        def chosen(user: str | None) -> None:
            if not user:
                return
            try:
                self.feed.reassign_task(exc.subject, user, self.floor.user_id)
            except (DomainError, StoreError) as err:
                self.flash_error(error_text(err))
                return
            self._done(self.tr("supervisor.reassigned", task=exc.subject, user=user))

        self.app.push_screen(
            ReasonScreen(self.tr("supervisor.reassign_to", task=exc.subject), pickers[:9]), chosen
        )
