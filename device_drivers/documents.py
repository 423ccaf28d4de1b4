"""Documents a pack station prints on A4 paper: the packing slip (a PDF made by fpdf2).

:func:`render_packing_slip` lays out one order: who sends it, where it goes, the carrier,
and a table of its lines (SKU, description, units) with the lots and serial numbers picked
for each, so a recall can be answered from the parcel itself. Text in any script is drawn
with a Unicode font (a CJK TrueType collection when installed: addresses and item names may
be Chinese), else with the PDF core font, characters it lacks replaced.

:class:`DocumentPrinter` prints a document on a CUPS queue (``lp -d QUEUE``; CUPS turns the
PDF into what the printer speaks) or, without a queue, keeps it as a file in the station's
spool folder for the screen to name. Either way the PDF is written to the spool first, so
nothing printed is lost when the printer is not.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from device_drivers.base import DocumentError, DocumentOutput
from device_drivers.labels.fonts import find_cjk_font
from floor_app.domain.documents import PackingSlip

logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "not subset" notes

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _font(pdf: FPDF, font: Path | None) -> tuple[str, bool]:
    """The font family to write with, and whether it covers any script."""
    path = font
    if path is None:
        try:
            path = find_cjk_font()
        except (OSError, RuntimeError, ValueError):
            path = None
    if path is not None and path.exists():
        try:
            pdf.add_font("floor", "", str(path))
            return "floor", True
        except Exception:  # a font file fpdf2 cannot read: the core font will do
            pass
    return "helvetica", False


def render_packing_slip(slip: PackingSlip, font: Path | None = None) -> bytes:
    """The packing slip as PDF bytes (A4, as many pages as its lines need)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Packing slip {slip.order_id}")
    pdf.set_creator("floor")
    family, unicode = _font(pdf, font)

    def text(value: str) -> str:
        return value if unicode else value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(family, size=16)
    pdf.cell(0, 10, text(f"Packing slip  {slip.order_id}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, size=9)
    meta = f"{slip.date}   {slip.carrier}" + (f"   {slip.tracking}" if slip.tracking else "")
    pdf.cell(0, 5, text(meta), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    top = pdf.get_y()
    pdf.set_font(family, size=10)
    pdf.multi_cell(90, 5, text("From\n" + "\n".join(slip.sender)), new_y=YPos.NEXT)
    bottom = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 5, text("To\n" + "\n".join(slip.ship_to)), new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(bottom, pdf.get_y()) + 4)
    widths = (10, 38, 92, 16)
    pdf.set_font(family, size=9)
    for title, width in zip(("#", "SKU", "Item", "Units"), widths, strict=True):
        pdf.cell(width, 6, title, border="B")
    pdf.ln()
    for line in slip.lines:
        pdf.cell(widths[0], 6, str(line.line_no))
        pdf.cell(widths[1], 6, text(line.sku))
        pdf.cell(widths[2], 6, text(line.description[:70]))
        pdf.cell(widths[3], 6, str(line.qty), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        traced = [f"lot {lot} x {qty}" for lot, qty in line.lots]
        if line.serials:
            traced.append("serials " + ", ".join(line.serials))
        if traced:
            pdf.set_x(pdf.l_margin + widths[0])
            pdf.multi_cell(
                sum(widths[1:]),
                5,
                text("; ".join(traced)),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
    pdf.ln(2)
    pdf.cell(0, 6, f"{sum(ln.qty for ln in slip.lines)} units", border="T")
    return bytes(pdf.output())


class PdfDocuments(DocumentOutput):
    """Packing slips by fpdf2, printed on the CUPS queue ``queue`` (``lp`` on ``PATH``),
    each kept first in ``spool``; with no queue, only kept there."""

    def __init__(
        self, spool: Path, queue: str = "", *, lp: str = "lp", timeout_s: float = 30.0
    ) -> None:
        self.spool = spool
        self.queue = queue
        self.lp = lp
        self.timeout_s = timeout_s

    def packing_slip(self, slip: PackingSlip) -> bytes:
        return render_packing_slip(slip)

    def print_pdf(self, name: str, data: bytes, title: str) -> str:
        """Keep ``data`` as ``name``.pdf in the spool and print it; where it went. Raises
        :class:`DocumentError` (the file kept) when the queue refuses it."""
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            path = self.spool / f"{_UNSAFE.sub('_', name)[:80]}.pdf"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            raise DocumentError(
                f"cannot keep the document in {self.spool}: {exc.strerror or exc}"
            ) from exc
        if not self.queue:
            return str(path)
        if shutil.which(self.lp) is None:
            raise DocumentError(
                f"{self.lp} not found: install the CUPS client (cups-client); the document is "
                f"kept as {path}"
            )
        try:
            done = subprocess.run(
                [self.lp, "-d", self.queue, "-t", title[:100], str(path)],
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DocumentError(f"cannot print on {self.queue}: {exc}; kept as {path}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise DocumentError(f"{self.queue} refused the document: {message}; kept as {path}")
        return f"{self.queue} ({path})"
