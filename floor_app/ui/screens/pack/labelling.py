"""The label on the pack station: printed in a worker, previewed, reprinted with a reason.

:meth:`LabelPreview.print` prints a label job in a worker (the printer blocks) and says how
it went with :class:`LabelPreview.Printed`; the preview shows the job's state and what the
label says. A printed label is reprinted only with a reason (:meth:`LabelPreview.ask_reprint`).
Scanning the printed label back confirms it (the screen calls the label service).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.widgets import Static

from device_drivers.base import PrintResult
from floor_app.domain.errors import DomainError
from floor_app.domain.packing import LabelJob
from floor_app.services.errors import ServiceError
from floor_app.services.labels import LabelService
from floor_app.ui.i18n import Translator
from floor_app.ui.screens.base import explain
from floor_app.ui.screens.pack_dialogs import ReasonScreen


class LabelPreview(Static):
    """The label job's state and the label's text; prints it."""

    @dataclass
    class Printed(Message):
        """The print of ``job`` was recorded (printed or failed: ``job.state`` says)."""

        job: LabelJob
        result: PrintResult

    @dataclass
    class PrintFailed(Message):
        """The print could not be recorded; ``reason`` says why."""

        reason: str

    @dataclass
    class ReprintAsked(Message):
        """The packer chose why the label is printed again."""

        reason: str

    def __init__(self, labels: LabelService, tr: Translator) -> None:
        super().__init__("", id="label-preview", classes="preview")
        self.labels = labels
        self.tr = tr

    def show(self, job: LabelJob | None) -> None:
        """Preview ``job`` (nothing without one)."""
        if job is None:
            self.update("")
            return
        head = self.tr("packer.label", state=self.tr(f"label_state.{job.state.value}"))
        self.update(head + "\n" + " · ".join(self.labels.lines(job)))

    @work(thread=True, exclusive=True, group="printer")
    def print(self, job: LabelJob, user: str) -> None:
        """Print ``job`` and record it (in a worker thread: the printer blocks)."""
        try:
            stored, result = self.labels.print(job, user)
        except (DomainError, ServiceError) as exc:
            self.post_message(self.PrintFailed(explain(self.tr, exc)))
            return
        self.post_message(self.Printed(stored, result))

    def ask_reprint(self) -> None:
        """Ask why the label is printed again (then :class:`ReprintAsked`)."""

        def chosen(text: str | None) -> None:
            if text:
                self.post_message(self.ReprintAsked(text))

        self.app.push_screen(
            ReasonScreen(self.tr("packer.reprint_title"), self.tr("reprint.reasons").split("|")),
            chosen,
        )
