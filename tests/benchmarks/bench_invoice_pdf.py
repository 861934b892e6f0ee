"""Invoice PDF benchmark: how many invoices a second does ``app.billing.pdf`` render per core?

Run on demand (not part of the test suite; it asserts nothing about time):

    .venv/bin/python -m tests.benchmarks.bench_invoice_pdf [--single N] [--batch N] [--repeat N]

Rendering is pure CPU on one thread, so these numbers are per core. Three cases, each on
realistic documents (6 charge lines, 2 taxes, a usage line, a message, one in ten a 2-page
statement with 40 lines, one in twenty void):

- **single → bytes**: ``invoice_pdf_bytes(doc)`` once per invoice, as the e-mail batch does;
- **batch of N**: ``render_invoices(docs, buffer)`` for one print run in one PDF;
- **batch to a file**: the same, written to disk.

The table shows the median CPU time of ``--repeat`` runs, invoices/s, pages/s, bytes per invoice and the
peak memory of the batch (tracemalloc). Target: ≥ 100 invoices/s per core.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from reportlab.lib.rl_accel import _py_funcs

from app.billing.documents import (
    ChargeLine,
    InvoiceDocument,
    Recipient,
    TaxTotal,
    UsageLine,
)
from app.billing.pdf import invoice_pdf_bytes, render_invoices

TARGET = 100.0


def sample_document(number: str = "100123", lines: int = 6, *, statement: bool = False, void: bool = False,
                    logo_path: str = "", account_number: str = "100045") -> InvoiceDocument:
    """A realistic invoice to render (also used by the tests): internet, TV package, a rental,
    a promo credit, a discount, ``lines`` charges in all; two taxes; a usage line."""
    base = [
        ChargeLine("service", "Fibre 500 — 500/100 Mbps internet", 6500, 1, 6500, date(2025, 3, 1), date(2025, 3, 31)),
        ChargeLine("package", "TV Essentials (62 channels, 2 set-top boxes)", 3999, 1, 3999, date(2025, 3, 1),
                   date(2025, 3, 31)),
        ChargeLine("service", "Wi-Fi router rental", 500, 1, 500, date(2025, 3, 1), date(2025, 3, 31)),
        ChargeLine("credit", "Welcome credit (3 of 6)", -1000, 1, -1000, date(2025, 3, 1), date(2025, 3, 31)),
        ChargeLine("discount", "Building 7 bulk discount 10 %", -650, 1, 0, date(2025, 3, 1), date(2025, 3, 31)),
        ChargeLine("service", "Static IPv4 address", 1000, 2, 500, date(2025, 3, 1), date(2025, 3, 31)),
    ]
    charges = [base[i % len(base)] for i in range(lines)]
    if lines > len(base):
        charges = [replace(c, description=f"{c.description} — line {i + 1}") for i, c in enumerate(charges)]
    subtotal = sum(c.amount for c in charges) + 450
    gst, pst = (subtotal * 5 + 50) // 100, (subtotal * 7 + 50) // 100
    return InvoiceDocument(
        invoice_id=int(number), number=number, status="void" if void else "open", currency="USD",
        issued_on=date(2025, 3, 1), due_on=date(2025, 3, 15), period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
        company_name="Northwind Fibre Networks", company_address=("1200 Harbour Street, Suite 400",
                                                                   "Vancouver, BC V6B 1A1"),
        company_phone="(604) 555-0142", company_email="billing@northwind.example",
        company_website="www.northwind.example",
        remit_to=("Northwind Fibre Networks", "PO Box 2211, Station Terminal", "Vancouver, BC V6B 3W7"),
        logo_path=logo_path, message="Thank you for your business! Pay online at northwind.example/pay or by "
        "cheque to the remit-to address. Questions about this invoice: (604) 555-0142, Mon–Fri 8–6.",
        account_id=45, account_number=account_number, account_name="Maya Green",
        service_address=("Cedar Court", "88 Cedar Street #1204", "Vancouver, BC V6B 2K9"),
        bill_to=(Recipient("Maya Green", "maya.green@example.com", is_financial=True),),
        charges=tuple(charges),
        usage=(UsageLine("Fibre 500 usage (Feb 1 – Feb 28, 2025): 402.40 GB counted, 210.00 GB free; 2.40 GB over "
                         "the allowance, 3 × 1.00 GB at 1.50", 450, used_mb=612_400, free_mb=210_000, billable_mb=402_400,
                         allowance_mb=400_000, overage_mb=2_400),),
        taxes=(TaxTotal("GST", gst, 5000, 1), TaxTotal("PST", pst, 7000, 2)),
        subtotal=subtotal, tax_total=gst + pst, total=subtotal + gst + pst, paid=0,
        statement_mode=statement, previous_balance=4210 if statement else 0,
        payments_since=4210 if statement else 0, void_reason="Billed twice" if void else "",
    )


def documents(count: int) -> list[InvoiceDocument]:
    docs = []
    for i in range(count):
        long_one = i % 10 == 9
        docs.append(sample_document(str(100000 + i), lines=40 if long_one else 6, statement=long_one,
                                    void=i % 20 == 7, account_number=str(200000 + i)))
    return docs


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median CPU seconds of this process (``time.process_time``) over ``repeat`` runs.

    CPU time, not wall time: rendering is single-threaded CPU work, so CPU seconds are what
    "per core" means, and they stay honest on a busy shared machine where wall time doubles.
    """
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=200, help="invoices rendered one by one")
    parser.add_argument("--batch", type=int, default=500, help="invoices in the one-PDF batch")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    singles = documents(args.single)
    batch = documents(args.batch)
    invoice_pdf_bytes(singles[0])  # warm the imports and font metrics

    rows = []

    def single_run() -> tuple[int, int]:
        total_bytes = 0
        for doc in singles:
            total_bytes += len(invoice_pdf_bytes(doc))
        return total_bytes, 0

    seconds, (size, _) = timed(single_run, args.repeat)
    pages = sum(1 if len(d.charges) < 30 else 2 for d in singles)
    rows.append(("single → bytes", len(singles), pages, seconds, size / len(singles), None))

    def batch_run() -> tuple[int, int]:
        buffer = io.BytesIO()
        count = render_invoices(batch, buffer)
        return len(buffer.getvalue()), count

    seconds, (size, pages) = timed(batch_run, args.repeat)
    tracemalloc.start()
    batch_run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append((f"batch of {len(batch)} (bytes)", len(batch), pages, seconds, size / len(batch), peak))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.pdf"
        seconds, pages = timed(lambda: render_invoices(batch, path), args.repeat)
        rows.append((f"batch of {len(batch)} (file)", len(batch), pages, seconds, path.stat().st_size / len(batch),
                     None))

    accel = "C accelerator (rl-accel)" if "fp_str" not in _py_funcs else "pure-Python reportlab (no rl-accel)"
    print(f"Invoice PDFs, one core, median of {args.repeat}, {accel} (target ≥ {TARGET:.0f} invoices/s)")
    print(f"{'case':<24}{'invoices':>9}{'pages':>7}{'CPU s':>9}{'inv/s':>8}{'pages/s':>9}"
          f"{'KB/inv':>8}{'peak MB':>9}  verdict")
    worst = float("inf")
    for name, invoices, pages, seconds, per_invoice, peak in rows:
        rate = invoices / seconds
        worst = min(worst, rate)
        print(f"{name:<24}{invoices:>9}{pages:>7}{seconds:>9.3f}{rate:>8.0f}{pages / seconds:>9.0f}"
              f"{per_invoice / 1024:>8.1f}{(f'{peak / 2**20:.1f}' if peak else '—'):>9}  "
              f"{'ok' if rate >= TARGET else 'SLOW'}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
