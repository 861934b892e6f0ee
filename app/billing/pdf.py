"""Invoices and deposit slips as PDF, drawn with reportlab's canvas. No Qt.

    render_invoice(doc, "invoice.pdf")            # one invoice
    render_invoices(docs, buffer)                 # a print batch: one PDF, pages per invoice
    data = invoice_pdf_bytes(doc)                 # an e-mail attachment
    render_deposit_slip(slip, "deposit.pdf")      # a payment batch

Layout of an invoice (US Letter for North American companies, A4 elsewhere):

- **Top**: logo (when the configured file exists) and the company's name, address, phone and
  e-mail on the left; "INVOICE" (or "STATEMENT"), its number, dates, period and the account
  number on the right, with the account number as a Code 128 barcode below.
- **Addresses**: bill-to (the financial contacts, else the primary contact) and the service
  address; then a shaded band with account number, due date and amount due.
- **Lines**: charges, then a usage section (used, free, billable, included), amounts
  right-aligned in the currency's minor units; long descriptions wrap to two lines.
- **Totals**: subtotal, each tax by rate, total; statements add previous balance and
  payments since; paid so far and balance due. The invoice message sits beside them.
- **Remittance stub** at the bottom of the last page, behind a dashed tear-off line: remit-to,
  account and invoice numbers, due date, amount due, a box for the amount enclosed, and the
  account number as a barcode again (the payment desk scans it).
- Every page has "Invoice 100123 · page 1 of 2" at its foot. Long invoices flow onto more
  pages, each continuation with a short header and the table's column titles again.
- A void invoice carries a large diagonal "VOID" on every page and the reason near the totals.

**Speed.** The target is 100 invoices a second per core. The page is laid out in one pass
(plain arithmetic on fixed line heights), then drawn with direct ``drawString`` calls — no
platypus ``Paragraph`` per line, whose parsing would cost more than the drawing. The built-in
Helvetica needs no font embedding. A logo is read once per file (``ImageReader`` cached by
path and modification time) and reportlab stores it once per PDF however many invoices a
batch holds. See tests/benchmarks/bench_invoice_pdf.py.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.billing.documents import InvoiceDocument, period_text
from app.core.money import format_minor
from app.inventory.barcodes import draw_code128

Target = str | Path | BinaryIO

# Page streams are zlib-compressed and then, by reportlab's default, ASCII85-encoded: a
# 7-bit-safe armour from the days of mail gateways that costs a quarter of the rendering time
# (in pure Python) and makes every PDF 25 % larger. Binary streams are what every PDF reader
# and printer expects, so the armour is switched off for the process (labels included).
rl_config.useA85 = 0

# -- look -------------------------------------------------------------------------------------

INK = (0.11, 0.15, 0.20)
MUTED = (0.37, 0.42, 0.48)
ACCENT = (0.12, 0.31, 0.47)
RULE = (0.79, 0.82, 0.86)
SHADE = (0.93, 0.95, 0.97)
VOID_RED = (0.80, 0.10, 0.10)

FONT, BOLD = "Helvetica", "Helvetica-Bold"
MARGIN = 40.0
ROW = 13.0  # one table line
TITLES = 18.0  # the column titles bar and the gap under it
FOOTER_Y = 22.0
STUB_HEIGHT = 160.0  # the remittance stub, from the page's bottom edge to the tear-off line
LETTER_COUNTRIES = {"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR", "SV"}


def page_size_for(country: str) -> tuple[float, float]:
    """US Letter where it is the paper in the drawer, A4 elsewhere."""
    return LETTER if (country or "US").upper() in LETTER_COUNTRIES else A4


# -- public entry points ----------------------------------------------------------------------

def render_invoice(doc: InvoiceDocument, target: Target, *, pagesize: tuple[float, float] | None = None) -> int:
    """Write one invoice as a PDF to ``target`` (a path or a binary file). Returns its pages.
    ``pagesize`` None: the paper of the company's country (``page_size_for``)."""
    return render_invoices([doc], target, pagesize=pagesize)


def render_invoices(docs: Sequence[InvoiceDocument], target: Target, *,
                    pagesize: tuple[float, float] | None = None, title: str | None = None) -> int:
    """Write ``docs`` into one PDF, each invoice on its own page(s). Returns the page count."""
    if not docs:
        raise ValueError("render_invoices needs at least one invoice")
    pagesize = pagesize or page_size_for(docs[0].company_country)
    canvas = _canvas(target, pagesize)
    canvas.setTitle(title or (f"Invoice {docs[0].number}" if len(docs) == 1 else f"{len(docs)} invoices"))
    canvas.setAuthor(docs[0].company_name)
    pages = 0
    for doc in docs:
        pages += _InvoiceDrawer(canvas, doc, pagesize).draw()
    canvas.save()
    return pages


def invoice_pdf_bytes(doc: InvoiceDocument, *, pagesize: tuple[float, float] | None = None) -> bytes:
    buffer = io.BytesIO()
    render_invoice(doc, buffer, pagesize=pagesize)
    return buffer.getvalue()


def _canvas(target: Target, pagesize: tuple[float, float]) -> Canvas:
    canvas = Canvas(str(target) if isinstance(target, (str, Path)) else target, pagesize=pagesize,
                    pageCompression=1)
    canvas.setCreator("Riser")
    return canvas


# -- small drawing helpers ----------------------------------------------------------------------

def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut short with "…" to fit ``width``."""
    text = " ".join(text.split())
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    lines = simpleSplit(" ".join(text.split()), font, size, width) or [""]
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = [*lines[:max_lines - 1], _fit(rest, font, size, width)]
    return lines


@lru_cache(maxsize=16)
def _logo(path: str, mtime: float) -> ImageReader | None:
    try:
        return ImageReader(path)
    except Exception:  # noqa: BLE001 - an unreadable logo is left out, not a failed invoice
        return None


def logo_reader(path: str) -> ImageReader | None:
    """The logo at ``path`` (read once while the file is unchanged), or None if there is none."""
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    return _logo(path, mtime)


def _gb(mb: int) -> str:
    """Megabytes as gigabytes (1 GB = 1000 MB) to two decimals: 12345 → "12.35 GB"."""
    whole, rest = divmod(abs(mb), 1000)
    hundredths = (rest + 5) // 10
    if hundredths == 100:
        whole, hundredths = whole + 1, 0
    return f"{'-' if mb < 0 else ''}{whole:,}.{hundredths:02d} GB"


def _day(day: date | None) -> str:
    return f"{day:%b} {day.day}, {day.year}" if day else ""


# -- the invoice --------------------------------------------------------------------------------

@dataclass
class _Row:
    """One laid-out line of the table (or a section title) with its height."""

    kind: str  # header | charge | usage_title | usage_header | usage
    height: float
    cells: tuple[Any, ...] = ()


@dataclass
class _Page:
    rows: list[_Row] = field(default_factory=list)
    last: bool = False


class _InvoiceDrawer:
    """Lays one invoice out (``_paginate``) and draws it page by page."""

    # Table columns (x of the left edge, or of the right edge for numbers), US Letter width.
    def __init__(self, canvas: Canvas, doc: InvoiceDocument, pagesize: tuple[float, float]) -> None:
        self.c, self.doc = canvas, doc
        self.width, self.height = pagesize
        self.left, self.right = MARGIN, self.width - MARGIN
        span = self.right - self.left
        self.col_period = self.left + span * 0.50
        self.col_qty = self.left + span * 0.74
        self.col_unit = self.left + span * 0.86
        self.desc_width = self.col_period - self.left - 10
        self.money = lambda amount: format_minor(amount, doc.currency)
        self.money_symbol = lambda amount: format_minor(amount, doc.currency, symbol=True)

    # -- layout ------------------------------------------------------------------------------
    def _rows(self) -> list[_Row]:
        doc, rows = self.doc, []
        for line in doc.charges:
            text = line.description
            if line.account_number and line.account_number not in text:
                text = f"{line.account_number} · {text}"
            wrapped = _wrap(text, FONT, 8.5, self.desc_width, 2)
            priced = bool(line.unit_amount) and line.kind not in ("discount",)
            qty = str(line.quantity) if priced else ""
            unit = self.money(line.unit_amount) if priced else ""
            rows.append(_Row("charge", ROW + (len(wrapped) - 1) * 10,
                             (wrapped, line.period_text, qty, unit, self.money(line.amount))))
        if doc.usage:
            rows.append(_Row("usage_title", 24))
            rows.append(_Row("usage_header", TITLES))
            width = (self.right - self.left) * 0.40 - 12
            for use in doc.usage:
                wrapped = _wrap(use.description, FONT, 8.5, width, 2)
                rows.append(_Row("usage", ROW + (len(wrapped) - 1) * 10, (
                    wrapped, _gb(use.used_mb), _gb(use.free_mb), _gb(use.billable_mb),
                    _gb(use.allowance_mb) if use.allowance_mb else "—", _gb(use.overage_mb),
                    self.money(use.amount))))
        if not rows:
            rows.append(_Row("charge", ROW, (["No charges this period"], "", "", "", self.money(0))))
        return rows

    def _totals(self) -> list[tuple[str, str, bool]]:
        """(label, amount, bold) lines of the totals block."""
        doc, out = self.doc, []
        out.append(("Subtotal", self.money(doc.subtotal), False))
        for tax in doc.taxes:
            out.append((tax.label, self.money(tax.amount), False))
        if doc.statement_mode:
            out.append(("New charges", self.money(doc.total), True))
            out.append(("Previous balance", self.money(doc.previous_balance), False))
            out.append(("Payments received", self.money(-doc.payments_since), False))
            if doc.other_since:
                out.append(("Other charges and credits", self.money(doc.other_since), False))
            out.append(("Amount due", self.money_symbol(doc.amount_due), True))
        else:
            out.append(("Total", self.money_symbol(doc.total), True))
        if doc.paid and not doc.is_void:
            out.append(("Paid so far", self.money(-doc.paid), False))
            out.append(("Balance due", self.money_symbol(doc.balance_due), True))
        return out

    def _closing_height(self, totals: list, message_lines: list[str]) -> float:
        """Room the totals, message and stub need on the last page (below the table)."""
        totals_h = 4 + len(totals) * 15 + (16 if self.doc.is_void else 0)
        message_h = 24 + len(message_lines) * 10.5 if message_lines else 0
        return 20 + max(totals_h, message_h) + STUB_HEIGHT + 10

    def _paginate(self, rows: list[_Row], closing: float) -> list[_Page]:
        pages, page = [], _Page()
        top = self._first_table_top()
        y = top - TITLES
        for row in rows:
            if y - row.height < MARGIN:
                pages.append(page)
                page = _Page()
                y = self._next_table_top() - TITLES
            page.rows.append(row)
            y -= row.height
        if y - closing < 0:
            pages.append(page)
            page = _Page()
        page.last = True
        pages.append(page)
        return pages

    def _first_table_top(self) -> float:
        return self.height - MARGIN - 266

    def _next_table_top(self) -> float:
        return self.height - MARGIN - 60

    # -- drawing -----------------------------------------------------------------------------
    def draw(self) -> int:
        doc = self.doc
        rows = self._rows()
        totals = self._totals()
        message_lines = _wrap(doc.message, FONT, 8.5, (self.right - self.left) * 0.48, 8) if doc.message.strip() else []
        pages = self._paginate(rows, self._closing_height(totals, message_lines))
        for number, page in enumerate(pages, start=1):
            self._begin_page()
            if number == 1:
                self._first_header()
                y = self._first_table_top()
            else:
                self._continued_header(number)
                y = self._next_table_top()
            if page.rows:
                y = self._table(page.rows, y)
            if page.last:
                self._closing(y - 20, totals, message_lines)
                self._stub()
            self._footer(number, len(pages))
            self._end_page()
            if doc.is_void:
                self._void_mark()
            self.c.showPage()
        return len(pages)

    def _begin_page(self) -> None:
        self._t = self.c.beginText()
        self._font: tuple[str, float] | None = None
        self._colour: tuple[float, float, float] | None = None

    def _end_page(self) -> None:
        self.c.drawText(self._t)

    def _text(self, x: float, y: float, text: str, size: float = 9, font: str = FONT,
              colour: tuple[float, float, float] = INK, align: str = "left") -> None:
        """Queue a string on the page's one text object (drawn over the page's shapes at
        ``_end_page``): one BT … ET block per page instead of one per string, and font and
        colour operators only when they change — most of the drawing time otherwise."""
        if not text:
            return
        t = self._t
        if self._font != (font, size):
            t.setFont(font, size)
            self._font = (font, size)
        if self._colour != colour:
            t.setFillColorRGB(*colour)
            self._colour = colour
        if align == "right":
            x -= stringWidth(text, font, size)
        elif align == "centre":
            x -= stringWidth(text, font, size) / 2
        t.setTextOrigin(x, y)
        t.textOut(text)

    def _first_header(self) -> None:
        doc, c = self.doc, self.c
        top = self.height - MARGIN
        # left: logo and company
        y = top
        logo = logo_reader(doc.logo_path)
        if logo is not None:
            iw, ih = logo.getSize()
            scale = min(170 / iw, 50 / ih)
            w, h = iw * scale, ih * scale
            c.drawImage(logo, self.left, top - h, w, h, mask="auto")
            y = top - h - 16
        else:
            y = top - 16
        half = (self.right - self.left) * 0.55
        self._text(self.left, y, _fit(doc.company_name, BOLD, 14, half), 14, BOLD, ACCENT)
        y -= 15
        for line in doc.company_address:
            self._text(self.left, y, _fit(line, FONT, 8.5, half), 8.5, colour=MUTED)
            y -= 11
        contact = "  ·  ".join(x for x in (doc.company_phone, doc.company_email) if x)
        if contact:
            self._text(self.left, y, _fit(contact, FONT, 8.5, half), 8.5, colour=MUTED)
            y -= 11
        if doc.company_website:
            self._text(self.left, y, _fit(doc.company_website, FONT, 8.5, half), 8.5, colour=MUTED)

        # right: title, numbers and dates, barcode
        self._text(self.right, top - 22, doc.title, 24, BOLD, ACCENT, "right")
        meta = [
            (f"{doc.title.title()} no.", doc.number),
            ("Issue date", _day(doc.issued_on)),
            ("Due date", _day(doc.due_on)),
            ("Billing period", doc.period),
            ("Account no.", doc.account_number),
        ]
        y = top - 44
        label_x = self.right - 200
        for label, value in meta:
            self._text(label_x, y, label, 8.5, colour=MUTED)
            self._text(self.right, y, value, 9, BOLD if label.endswith("no.") else FONT, INK, "right")
            y -= 12
        draw_code128(c, self.right - 165, top - 140, 165, 38, doc.account_number, font_size=7)

        # addresses
        y = top - 162
        c.setStrokeColorRGB(*RULE)
        c.setLineWidth(0.6)
        c.line(self.left, top - 148, self.right, top - 148)
        col = (self.right - self.left) / 3
        self._text(self.left, y, "BILL TO", 7.5, BOLD, MUTED)
        self._text(self.left + col, y, "SERVICE ADDRESS", 7.5, BOLD, MUTED)
        names = [r.name for r in doc.bill_to]
        bill = [*names[:3]]
        if doc.account_name not in names:
            bill.append(doc.account_name)
        emails = [r.email for r in doc.bill_to if r.email][:1]
        ly = y - 13
        for i, line in enumerate(bill[:4]):
            self._text(self.left, ly, _fit(line, BOLD if i == 0 else FONT, 9, col - 12), 9, BOLD if i == 0 else FONT)
            ly -= 11.5
        for line in emails:
            self._text(self.left, ly, _fit(line, FONT, 8.5, col - 12), 8.5, colour=MUTED)
        ly = y - 13
        for line in doc.service_address[:4] or ("—",):
            self._text(self.left + col, ly, _fit(line, FONT, 9, col - 12), 9)
            ly -= 11.5

        # the summary band
        band_top, band_h = top - 220, 34
        c.setFillColorRGB(*SHADE)
        c.rect(self.left, band_top - band_h, self.right - self.left, band_h, stroke=0, fill=1)
        cells = [("Account number", doc.account_number), ("Due date", _day(doc.due_on)),
                 ("Billing period", doc.period)]
        cw = (self.right - self.left - 170) / 3
        for i, (label, value) in enumerate(cells):
            x = self.left + 10 + i * cw
            self._text(x, band_top - 13, label, 7.5, colour=MUTED)
            self._text(x, band_top - 26, _fit(value, BOLD, 10, cw - 10), 10, BOLD)
        due_label = "Amount due" if not doc.is_void else "Amount due (void)"
        self._text(self.right - 10, band_top - 13, due_label, 7.5, colour=MUTED, align="right")
        self._text(self.right - 10, band_top - 28, self.money_symbol(doc.balance_due), 15, BOLD, ACCENT, "right")

    def _continued_header(self, number: int) -> None:
        doc = self.doc
        top = self.height - MARGIN
        self._text(self.left, top - 14, doc.company_name, 12, BOLD, ACCENT)
        self._text(self.right, top - 14, f"{doc.title} {doc.number} (continued)", 12, BOLD, ACCENT, "right")
        self._text(self.left, top - 30, f"Account {doc.account_number} · {doc.account_name}", 9, colour=MUTED)
        self._text(self.right, top - 30, f"Billing period {doc.period}", 9, colour=MUTED, align="right")
        self.c.setStrokeColorRGB(*RULE)
        self.c.setLineWidth(0.6)
        self.c.line(self.left, top - 40, self.right, top - 40)

    def _column_titles(self, y: float, titles: Iterable[tuple[float, str, str]]) -> None:
        c = self.c
        c.setFillColorRGB(*ACCENT)
        c.rect(self.left, y - 16, self.right - self.left, 16, stroke=0, fill=1)
        for x, text, align in titles:
            self._text(x, y - 11, text, 7.5, BOLD, (1, 1, 1), align)

    def _charge_titles(self, y: float) -> None:
        self._column_titles(y, (
            (self.left + 6, "DESCRIPTION", "left"), (self.col_period, "PERIOD", "left"),
            (self.col_qty, "QTY", "right"), (self.col_unit, "UNIT PRICE", "right"),
            (self.right - 6, "AMOUNT", "right")))

    def _table(self, rows: list[_Row], top: float) -> float:
        """Draw ``rows`` from ``top`` down; returns the y below the last row."""
        c = self.c
        usage_x = self._usage_columns()
        y = top
        if rows[0].kind == "charge":
            self._charge_titles(y)
        elif rows[0].kind == "usage":
            self._usage_titles(y, usage_x)
        y -= TITLES
        for row in rows:
            base = y - 9.5
            if row.kind == "charge":
                wrapped, period, qty, unit, amount = row.cells
                for i, part in enumerate(wrapped):
                    self._text(self.left + 6, base - i * 10, part, 8.5)
                self._text(self.col_period, base, period, 8, colour=MUTED)
                self._text(self.col_qty, base, qty, 8.5, align="right")
                self._text(self.col_unit, base, unit, 8.5, align="right")
                self._text(self.right - 6, base, amount, 8.5, align="right")
            elif row.kind == "usage_title":
                self._text(self.left, y - 16, "Usage", 10.5, BOLD, ACCENT)
                self._text(self.left + 40, y - 16, "Usage inside free periods never counts against the allowance. "
                           "1 GB = 1000 MB.", 7.5, colour=MUTED)
            elif row.kind == "usage_header":
                self._usage_titles(y, usage_x)
            elif row.kind == "usage":
                for i, part in enumerate(row.cells[0]):
                    self._text(self.left + 6, base - i * 10, part, 8.5)
                for x, value in zip(usage_x, row.cells[1:], strict=True):
                    self._text(x, base, value, 8.5, align="right")
            y -= row.height
            if row.kind in ("charge", "usage"):
                c.setStrokeColorRGB(*RULE)
                c.setLineWidth(0.4)
                c.line(self.left, y + 0.5, self.right, y + 0.5)
        return y

    def _usage_columns(self) -> list[float]:
        span = self.right - self.left
        return [self.left + span * f for f in (0.50, 0.60, 0.70, 0.80, 0.895)] + [self.right - 6]

    def _usage_titles(self, y: float, xs: list[float]) -> None:
        titles = ("USED", "FREE", "BILLABLE", "INCLUDED", "OVER", "AMOUNT")
        self._column_titles(y, [(self.left + 6, "SERVICE", "left"), *((x, t, "right") for x, t in zip(xs, titles, strict=True))])

    def _closing(self, y: float, totals: list[tuple[str, str, bool]], message_lines: list[str]) -> None:
        doc, c = self.doc, self.c
        label_x = self.right - 220
        ty = y - 4
        for label, amount, bold in totals:
            if bold:
                c.setStrokeColorRGB(*INK)
                c.setLineWidth(0.8)
                c.line(label_x, ty + 11, self.right, ty + 11)
            size = 10 if bold else 9
            self._text(label_x, ty, label, size, BOLD if bold else FONT, INK if bold else MUTED)
            self._text(self.right - 6, ty, amount, size, BOLD if bold else FONT, align="right")
            ty -= 15
        if doc.is_void:
            reason = f"VOID — {doc.void_reason}" if doc.void_reason else "VOID"
            self._text(self.right - 6, ty - 2, _fit(reason, BOLD, 9, 220), 9, BOLD, VOID_RED, "right")
        if message_lines:
            width = (self.right - self.left) * 0.48 + 16
            height = 20 + len(message_lines) * 10.5
            c.setFillColorRGB(*SHADE)
            c.roundRect(self.left, y - height + 8, width, height, 4, stroke=0, fill=1)
            self._text(self.left + 8, y - 4, "MESSAGE", 7.5, BOLD, MUTED)
            my = y - 17
            for line in message_lines:
                self._text(self.left + 8, my, line, 8.5)
                my -= 10.5

    def _stub(self) -> None:
        doc, c = self.doc, self.c
        top = STUB_HEIGHT + 10
        c.saveState()
        c.setStrokeColorRGB(*MUTED)
        c.setLineWidth(0.6)
        c.setDash(4, 3)
        c.line(0, top, self.width, top)
        c.restoreState()
        self._text(self.width / 2, top + 4, "Please detach and return this portion with your payment", 7, colour=MUTED,
                   align="centre")
        y = top - 22
        self._text(self.left, y, doc.company_name, 11, BOLD, ACCENT)
        self._text(self.right, y, "REMITTANCE", 11, BOLD, ACCENT, "right")
        # left: remit-to
        ly = y - 18
        self._text(self.left, ly, "REMIT TO", 7.5, BOLD, MUTED)
        ly -= 12
        for line in doc.remit_to[:5]:
            self._text(self.left, ly, _fit(line, FONT, 9, 220), 9)
            ly -= 11
        # middle-right: the numbers
        rows = [("Account no.", doc.account_number), ("Name", _fit(doc.account_name, BOLD, 9, 130)),
                (f"{doc.title.title()} no.", doc.number),
                ("Due date", _day(doc.due_on)), ("Amount due", self.money_symbol(doc.balance_due))]
        label_x, value_x = self.right - 210, self.right
        ry = y - 18
        for label, value in rows:
            bold = label == "Amount due"
            self._text(label_x, ry, label, 8.5 if not bold else 9.5, BOLD if bold else FONT, MUTED if not bold else INK)
            self._text(value_x, ry, value, 9 if not bold else 11, BOLD, INK, "right")
            ry -= 14
        self._text(label_x, ry - 4, "Amount enclosed", 9.5, BOLD)
        c.setStrokeColorRGB(*INK)
        c.setLineWidth(0.8)
        c.rect(value_x - 100, ry - 10, 100, 20, stroke=1, fill=0)
        # the barcode under the remit-to
        draw_code128(c, self.left - 4, 30, 200, 40, doc.account_number, font_size=7.5)

    def _footer(self, number: int, total: int) -> None:
        text = f"{self.doc.title.title()} {self.doc.number} · page {number} of {total}"
        self._text(self.width / 2, FOOTER_Y - 8 if self._stub_on(number, total) else FOOTER_Y, text, 7.5,
                   colour=MUTED, align="centre")

    def _stub_on(self, number: int, total: int) -> bool:
        return number == total

    def _void_mark(self) -> None:
        c = self.c
        c.saveState()
        c.translate(self.width / 2, self.height / 2)
        c.rotate(38)
        c.setFillColorRGB(*VOID_RED)
        c.setFillAlpha(0.16)
        c.setFont(BOLD, 160)
        c.drawCentredString(0, -55, "VOID")
        c.restoreState()


# -- deposit slip -------------------------------------------------------------------------------

class DepositLine(Protocol):
    account_number: str
    account_name: str
    method: str
    reference: str
    amount: int


class DepositSlipLike(Protocol):
    """What the renderer reads from ``payments.DepositSlip`` (extra attributes are ignored;
    ``company_name``, ``currency``, ``totals_by_method`` and ``total`` are optional)."""

    deposited_on: date
    reference: str
    lines: Sequence[DepositLine]


METHOD_LABELS = {"cash": "Cash", "check": "Checks", "card": "Card", "bank": "Bank transfer"}


def render_deposit_slip(slip: DepositSlipLike, target: Target, *, pagesize: tuple[float, float] = LETTER) -> int:
    """A deposit slip for a payment batch: date, reference, one line per payment, totals per
    method and the grand total. Flows onto more pages when long. Returns the page count."""
    currency = getattr(slip, "currency", "USD") or "USD"
    lines = list(slip.lines)
    totals: dict[str, int] = {}
    given = getattr(slip, "totals_by_method", None)
    if given:
        totals = dict(given.items() if hasattr(given, "items") else given)
    else:
        for line in lines:
            totals[line.method] = totals.get(line.method, 0) + line.amount
    grand = getattr(slip, "total", None)
    grand = sum(line.amount for line in lines) if grand is None else grand
    company = getattr(slip, "company_name", "") or ""
    batch = getattr(slip, "batch_id", None) or getattr(slip, "id", None)

    canvas = _canvas(target, pagesize)
    canvas.setTitle(f"Deposit slip {slip.reference or ''}".strip())
    width, height = pagesize
    left, right = MARGIN, width - MARGIN
    money = lambda amount: format_minor(amount, currency)
    cols = (left + 6, left + 70, left + 250, left + 330, right - 6)
    per_first = int((height - 200 - 150) // ROW)
    per_next = int((height - 120 - 150) // ROW)
    chunks: list[list] = []
    rest = lines
    chunks.append(rest[:per_first])
    rest = rest[per_first:]
    while rest:
        chunks.append(rest[:per_next])
        rest = rest[per_next:]
    pages = len(chunks)

    def text(x: float, y: float, value: str, size: float = 9, font: str = FONT, colour=INK, align="left") -> None:
        canvas.setFont(font, size)
        canvas.setFillColorRGB(*colour)
        {"left": canvas.drawString, "right": canvas.drawRightString, "centre": canvas.drawCentredString}[align](
            x, y, value)

    for number, chunk in enumerate(chunks, start=1):
        top = height - MARGIN
        text(left, top - 16, "DEPOSIT SLIP", 20, BOLD, ACCENT)
        if company:
            text(right, top - 16, company, 12, BOLD, ACCENT, "right")
        y = top - 40
        if number == 1:
            for label, value in (("Deposit date", _day(slip.deposited_on)), ("Reference", slip.reference or "—"),
                                 ("Batch", str(batch) if batch else "—"), ("Payments", str(len(lines))),
                                 ("Total", format_minor(grand, currency, symbol=True))):
                text(left, y, label, 8.5, colour=MUTED)
                text(left + 90, y, value, 9.5, BOLD)
                y -= 13
            y -= 10
        canvas.setFillColorRGB(*ACCENT)
        canvas.rect(left, y - 5, right - left, ROW + 2, stroke=0, fill=1)
        for x, title, align in zip(cols, ("ACCOUNT", "NAME", "METHOD", "REFERENCE", f"AMOUNT ({currency})"),
                                   ("left", "left", "left", "left", "right"), strict=True):
            text(x, y, title, 7.5, BOLD, (1, 1, 1), align)
        y -= ROW + 4
        for line in chunk:
            text(cols[0], y, _fit(line.account_number, FONT, 9, 60), 9)
            text(cols[1], y, _fit(line.account_name, FONT, 9, 175), 9)
            text(cols[2], y, METHOD_LABELS.get(line.method, line.method.title()), 9)
            text(cols[3], y, _fit(line.reference or "", FONT, 9, 120), 9)
            text(cols[4], y, money(line.amount), 9, align="right")
            canvas.setStrokeColorRGB(*RULE)
            canvas.setLineWidth(0.4)
            canvas.line(left, y - 4, right, y - 4)
            y -= ROW
        if number == pages:
            y -= 14
            text(right - 180, y, "TOTALS BY METHOD", 7.5, BOLD, MUTED)
            y -= 14
            for method, amount in totals.items():
                count = sum(1 for line in lines if line.method == method)
                text(right - 180, y, f"{METHOD_LABELS.get(method, method.title())} ({count})", 9, colour=MUTED)
                text(right - 6, y, money(amount), 9, align="right")
                y -= 13
            canvas.setStrokeColorRGB(*INK)
            canvas.line(right - 180, y + 9, right, y + 9)
            text(right - 180, y - 3, "Total deposit", 10, BOLD)
            text(right - 6, y - 3, format_minor(grand, currency, symbol=True), 10, BOLD, align="right")
            text(left, 70, "Prepared by ____________________", 9, colour=MUTED)
            text(left + 260, 70, "Verified by ____________________", 9, colour=MUTED)
        text(width / 2, FOOTER_Y, f"Deposit {slip.reference or _day(slip.deposited_on)} · page {number} of {pages}",
             7.5, colour=MUTED, align="centre")
        canvas.showPage()
    canvas.save()
    return pages


__all__ = [
    "DepositSlipLike",
    "invoice_pdf_bytes",
    "logo_reader",
    "page_size_for",
    "period_text",
    "render_deposit_slip",
    "render_invoice",
    "render_invoices",
]
