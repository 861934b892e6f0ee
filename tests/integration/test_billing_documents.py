"""Invoice documents and their PDFs: what a printed invoice says (lines grouped, taxes by rate,
statement mode, who it is addressed to), built from the database on SQLite and PostgreSQL;
and the PDF itself read back as a person or a scanner would (pdftotext, pdftoppm + zbar).

Invoices are written with the ORM here (the bill run is not under test), the way
``invoicing.post_invoice`` writes them: lines, a charge entry in the ledger, the statement mark
on the first line. One test posts through ``post_invoice`` itself to keep the two in step.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event

from app.accounts import service as accounts
from app.addresses import service as addresses
from app.billing import documents, invoicing, rating
from app.billing.documents import InvoiceDocument
from app.billing.models import (
    CHARGE,
    LATE_FEE,
    PAYMENT,
    VOID,
    BillingAccount,
    BillingSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Tax,
)
from app.billing.pdf import (
    invoice_pdf_bytes,
    render_deposit_slip,
    render_invoice,
    render_invoices,
)
from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from app.inventory.barcodes import decode_image
from tests.benchmarks.bench_invoice_pdf import sample_document

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm) not installed")

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


# -- helpers -------------------------------------------------------------------------------------

def pdf_text(data: bytes, tmp_path: Path, *, mode: str = "-layout") -> str:
    """The PDF's text as pdftotext reads it: ``-layout`` keeps the columns; ``-raw`` keeps the
    order of the content stream (the rotated VOID reads as a word)."""
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    args = ["pdftotext", mode, str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pdf_pages(data: bytes, tmp_path: Path, resolution: int = 200) -> list[Image.Image]:
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(resolution), "-png", str(path), str(tmp_path / "page")], check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("page-*.png"))]


def make_invoice(uow, account_id: int, number: str, lines: list[dict], *, status: str = "open", paid: int = 0,
                 statement: bool = False, previous_balance: int = 0, payments_since: int = 0,
                 issued_on: date = date(2025, 3, 1), message: str = "", void_reason: str = "") -> int:
    """An invoice as the invoicing service stores it: lines, totals, the charge entry."""
    with uow() as u:
        company_id = u.companies.default().id
        tax = sum(ln["amount"] for ln in lines if ln["kind"] == "tax")
        other = sum(ln["amount"] for ln in lines if ln["kind"] != "tax")
        invoice = Invoice(
            number=number, account_id=account_id, company_id=company_id, period_start=MARCH[0],
            period_end=MARCH[1], issued_on=issued_on, due_on=date(2025, 3, 15), currency="USD",
            subtotal=other, tax_total=tax, total=other + tax, paid=paid, status=status, message=message,
            previous_balance=previous_balance, payments_since=payments_since, void_reason=void_reason,
        )
        u.session.add(invoice)
        u.session.flush()
        for position, ln in enumerate(lines):
            detail = dict(ln.get("detail", {}))
            if statement and position == 0:
                detail[invoicing.STATEMENT_MARK] = True
            u.session.add(InvoiceLine(
                invoice_id=invoice.id, position=position, kind=ln["kind"], description=ln["description"],
                amount=ln["amount"], quantity=ln.get("quantity", 1), unit_amount=ln.get("unit_amount", 0),
                tax_id=ln.get("tax_id"), account_id=ln.get("account_id"), detail=detail,
                period_start=MARCH[0] if ln["kind"] != "tax" else None,
                period_end=MARCH[1] if ln["kind"] != "tax" else None,
            ))
        u.session.add(LedgerEntry(account_id=account_id, kind=CHARGE, amount=other + tax, posted_on=issued_on,
                                  description=f"Invoice {number}", invoice_id=invoice.id))
        u.commit()
        return invoice.id


@pytest.fixture()
def company(uow):
    """The default company, with an address and billing settings (remit-to, message)."""
    with uow() as u:
        c = u.companies.default()
        c.name, c.street, c.city, c.region, c.postal_code = (
            "Northwind Fibre", "1200 Harbour Street", "Vancouver", "BC", "V6B 1A1")
        c.phone, c.email = "(604) 555-0142", "billing@northwind.example"
        u.session.add(BillingSettings(company_id=c.id, remit_to="Northwind Fibre\nPO Box 2211\nVancouver, BC V6B 3W7",
                                      invoice_message="Thank you for your business.", currency="USD"))
        u.commit()
        return c.id


@pytest.fixture()
def taxes(uow, company):
    with uow() as u:
        gst = Tax(company_id=company, name="GST", kind="percent", rate=5000)
        pst = Tax(company_id=company, name="PST", kind="percent", rate=7000)
        u.session.add_all([gst, pst])
        u.commit()
        return gst.id, pst.id


@pytest.fixture()
def lookups(uow, admin):
    return accounts.lookups(uow(), admin)


def new_account(uow, admin, lookups, name: str, contacts: list[accounts.ContactInput], unit: str = "1204",
                parent_id: int | None = None) -> accounts.AccountDetail:
    address = addresses.create_address(uow(), admin, addresses.AddressInput(
        street="88 Cedar Street", unit=unit, city="Vancouver", region="BC", postal_code="V6B 2K9", country="CA",
        building="Cedar Court"))
    status = next(c.id for c in lookups.statuses if c.name == "Active")
    kind = next(c.id for c in lookups.types if c.name == "Residential")
    return accounts.create_account(uow(), admin, accounts.NewAccount(
        name=name, type_id=kind, status_id=status, address_id=address.id, contacts=contacts, parent_id=parent_id))


@pytest.fixture()
def maya(uow, admin, lookups, company):
    return new_account(uow, admin, lookups, "Maya Green", [
        accounts.ContactInput("Maya Green", email="maya@example.com", is_primary=True),
        accounts.ContactInput("Green Family Trust", email="trust@example.com", is_financial=True),
    ])


def standard_lines(taxes: tuple[int, int], child_id: int | None = None) -> list[dict]:
    gst, pst = taxes
    lines = [
        {"kind": "service", "description": "Fibre 500 internet", "amount": 6500, "unit_amount": 6500},
        {"kind": "package", "description": "TV Essentials", "amount": 3999, "unit_amount": 3999},
        {"kind": "service", "description": "Static IPv4 address", "amount": 1000, "quantity": 2, "unit_amount": 500},
        {"kind": "credit", "description": "Welcome credit (3 of 6)", "amount": -1000, "unit_amount": -1000},
        {"kind": "discount", "description": "Bulk discount 10 %", "amount": -650},
        {"kind": "fee", "description": "Printed invoice fee", "amount": 200, "unit_amount": 200},
        {"kind": "usage", "description": "Fibre 500 usage (Feb 1 – Feb 28): 402.40 GB counted", "amount": 450,
         "quantity": 3, "unit_amount": 150,
         "detail": {"total_mb": 612_400, "free_mb": 210_000, "counted_mb": 402_400, "allowance_mb": 400_000,
                    "billable_mb": 2_400, "blocks": 3}},
        {"kind": "tax", "description": "GST 5 %", "amount": 500, "tax_id": gst,
         "detail": {"kind": "percent", "rate": 5000}},
        {"kind": "tax", "description": "PST 7 %", "amount": 735, "tax_id": pst,
         "detail": {"kind": "percent", "rate": 7000}},
    ]
    if child_id is not None:
        lines.insert(6, {"kind": "service", "description": "100099 · Fibre 100 (Unit 1205)", "amount": 3000,
                         "unit_amount": 3000, "account_id": child_id})
        lines.append({"kind": "tax", "description": "GST 5 %", "amount": 150, "tax_id": gst,
                      "detail": {"kind": "percent", "rate": 5000}})
    return lines


# -- documents ------------------------------------------------------------------------------------

def test_document_groups_charges_usage_and_sums_each_tax_by_rate(uow, admin, lookups, maya, taxes):
    child = new_account(uow, admin, lookups, "Unit 1205", [], unit="1205", parent_id=maya.id)
    invoice_id = make_invoice(uow, maya.id, "100123", standard_lines(taxes, child.id))

    doc = documents.invoice_document(uow(), admin, invoice_id)

    assert [c.description for c in doc.charges] == [
        "Fibre 500 internet", "TV Essentials", "Static IPv4 address", "Welcome credit (3 of 6)",
        "Bulk discount 10 %", "Printed invoice fee", "100099 · Fibre 100 (Unit 1205)"]
    assert doc.charges[-1].account_number == child.number
    assert [(c.quantity, c.unit_amount, c.amount) for c in doc.charges[2:4]] == [(2, 500, 1000), (1, -1000, -1000)]
    assert len(doc.usage) == 1
    use = doc.usage[0]
    assert (use.used_mb, use.free_mb, use.billable_mb, use.allowance_mb, use.overage_mb, use.amount) == (
        612_400, 210_000, 402_400, 400_000, 2_400, 450)
    assert [(t.label, t.amount) for t in doc.taxes] == [("GST 5 %", 650), ("PST 7 %", 735)]
    assert doc.subtotal == 6500 + 3999 + 1000 - 1000 - 650 + 200 + 450 + 3000
    assert doc.tax_total == 650 + 735
    assert doc.total == doc.subtotal + doc.tax_total
    assert doc.balance_due == doc.total and doc.amount_due == doc.total
    assert not doc.statement_mode and doc.title == "INVOICE"


def test_document_carries_company_remit_to_message_and_service_address(uow, admin, maya, taxes, company):
    invoice_id = make_invoice(uow, maya.id, "100124", standard_lines(taxes))

    doc = documents.invoice_document(uow(), admin, invoice_id)

    assert doc.company_name == "Northwind Fibre"
    assert doc.company_address == ("1200 Harbour Street", "Vancouver, BC V6B 1A1")
    assert doc.company_phone == "(604) 555-0142"
    assert doc.remit_to == ("Northwind Fibre", "PO Box 2211", "Vancouver, BC V6B 3W7")
    assert doc.message == "Thank you for your business."  # the settings' message when the invoice has none
    assert doc.account_number == maya.number and doc.account_name == "Maya Green"
    assert doc.service_address == ("Cedar Court", "88 Cedar Street #1204", "Vancouver, BC V6B 2K9")
    assert (doc.issued_on, doc.due_on, doc.period) == (date(2025, 3, 1), date(2025, 3, 15), "Mar 1 – Mar 31, 2025")


def test_bill_to_is_the_financial_contact_rather_than_the_primary(uow, admin, maya, taxes):
    invoice_id = make_invoice(uow, maya.id, "100125", standard_lines(taxes))

    doc = documents.invoice_document(uow(), admin, invoice_id)

    assert [r.name for r in doc.bill_to] == ["Green Family Trust"]
    assert [r.email for r in doc.email_recipients] == ["trust@example.com"]


def test_bill_to_falls_back_to_the_primary_contact_and_mail_to_it_when_no_financial_contact_takes_bills(
        uow, admin, lookups, company, taxes):
    owen = new_account(uow, admin, lookups, "Owen White", [
        accounts.ContactInput("Owen White", email="owen@example.com", is_primary=True),
        accounts.ContactInput("Flatmate", email="flat@example.com"),
    ], unit="301")
    quiet = new_account(uow, admin, lookups, "Ivy Stone", [
        accounts.ContactInput("Ivy Stone", email="ivy@example.com", is_primary=True),
        accounts.ContactInput("Accountant", email="acct@example.com", is_financial=True, notify_billing=False),
    ], unit="302")
    nobody = new_account(uow, admin, lookups, "No Mail Ltd", [accounts.ContactInput("Front desk", phone="604 555 0100", is_primary=True)],
                         unit="303")
    ids = [make_invoice(uow, a.id, f"10020{i}", standard_lines(taxes)) for i, a in enumerate((owen, quiet, nobody))]

    owen_doc, quiet_doc, nobody_doc = documents.invoice_documents(uow(), admin, ids)

    assert [r.name for r in owen_doc.bill_to] == ["Owen White"]
    assert [r.email for r in owen_doc.email_recipients] == ["owen@example.com"]
    assert [r.name for r in quiet_doc.bill_to] == ["Accountant"]  # on paper: still the financial contact
    assert [r.email for r in quiet_doc.email_recipients] == ["ivy@example.com"]  # by e-mail: they opted out
    assert nobody_doc.email_recipients == ()


def test_statement_shows_previous_balance_payments_since_and_other_charges_in_the_amount_due(
        uow, admin, maya, taxes):
    first = make_invoice(uow, maya.id, "100130", standard_lines(taxes), issued_on=date(2025, 2, 1))
    with uow() as u:
        u.session.add(LedgerEntry(account_id=maya.id, kind=PAYMENT, amount=-10000, posted_on=date(2025, 2, 10)))
        u.session.add(LedgerEntry(account_id=maya.id, kind=LATE_FEE, amount=500, posted_on=date(2025, 2, 20),
                                  invoice_id=first))
        u.commit()
    with uow() as u:
        previous = u.session.get(Invoice, first).total
    statement_id = make_invoice(uow, maya.id, "100131", standard_lines(taxes), statement=True,
                                previous_balance=previous, payments_since=10000)

    doc = documents.invoice_document(uow(), admin, statement_id)

    assert doc.statement_mode and doc.title == "STATEMENT"
    assert (doc.previous_balance, doc.payments_since, doc.other_since) == (previous, 10000, 500)
    assert doc.amount_due == previous - 10000 + 500 + doc.total
    with uow() as u:  # the statement adds up to the account's balance
        balance = sum(e.amount for e in u.session.query(LedgerEntry).filter_by(account_id=maya.id))
    assert doc.amount_due == balance


def test_statement_posted_by_the_invoicing_service_reads_the_same(uow, admin, maya, company):
    draft = rating.Draft(
        account_id=maya.id, period_start=MARCH[0], period_end=MARCH[1],
        lines=(rating.DraftLine("service", "Fibre 500 internet", 6500, 1, 6500),), subtotal=6500, tax_total=0,
        total=6500)
    with uow() as u:
        invoice_id = invoicing.post_invoice(u, admin, draft, company_id=company, issued_on=MARCH[0],
                                            due_on=date(2025, 3, 15), currency="USD", statement_mode=True)
        u.commit()

    doc = documents.invoice_document(uow(), admin, invoice_id)
    detail = invoicing.get_invoice(uow(), admin, invoice_id)

    assert doc.statement_mode == detail.statement_mode is True
    assert doc.amount_due == detail.statement_due == 6500
    assert [c.description for c in doc.charges] == ["Fibre 500 internet"]


def test_paid_so_far_reduces_the_balance_due_and_a_void_invoice_is_due_nothing(uow, admin, maya, taxes):
    part_paid = make_invoice(uow, maya.id, "100140", standard_lines(taxes), paid=5000)
    void = make_invoice(uow, maya.id, "100141", standard_lines(taxes), status=VOID, void_reason="Billed twice")

    paid_doc, void_doc = documents.invoice_documents(uow(), admin, [part_paid, void])

    assert paid_doc.balance_due == paid_doc.total - 5000
    assert void_doc.is_void and void_doc.balance_due == 0 and void_doc.void_reason == "Billed twice"


def test_documents_in_bulk_keep_the_order_given_in_a_handful_of_queries(db, uow, admin, maya, taxes):
    ids = [make_invoice(uow, maya.id, f"1003{i:02d}", standard_lines(taxes)) for i in range(30)]
    with uow() as u:
        u.session.add(BillingAccount(account_id=maya.id, paper_invoice=True))
        u.commit()
    wanted = list(reversed(ids)) + [999_999]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        docs = documents.invoice_documents(uow(), admin, wanted)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)

    assert [d.invoice_id for d in docs] == list(reversed(ids))  # the missing id is left out
    assert all(d.paper_invoice for d in docs)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 9, queries


def test_reading_a_document_needs_billing_view_and_a_real_invoice(uow, admin, maya, taxes):
    invoice_id = make_invoice(uow, maya.id, "100150", standard_lines(taxes))
    technician = Actor(None, "tech", "Technician", BUILTIN_ROLES["Technician"][1])

    with pytest.raises(PermissionDenied):
        documents.invoice_document(uow(), technician, invoice_id)
    with pytest.raises(NotFound):
        documents.invoice_document(uow(), admin, 987_654)


# -- the PDF --------------------------------------------------------------------------------------

@needs_poppler
def test_pdf_text_shows_the_number_lines_taxes_totals_and_remittance(uow, admin, maya, taxes, tmp_path):
    invoice_id = make_invoice(uow, maya.id, "100160", standard_lines(taxes))
    doc = documents.invoice_document(uow(), admin, invoice_id)

    text = pdf_text(invoice_pdf_bytes(doc), tmp_path)

    assert "INVOICE" in text and "100160" in text
    for needle in ("Northwind Fibre", "PO Box 2211", "Green Family Trust", "88 Cedar Street #1204",
                   "Fibre 500 internet", "65.00", "Welcome credit (3 of 6)", "-10.00", "GST 5 %", "5.00",
                   "PST 7 %", "7.35", "Subtotal", "Total", "Thank you for your business.", "REMITTANCE",
                   "Amount enclosed", "Invoice 100160 · page 1 of 1", "612.40 GB", "210.00 GB"):
        assert needle in text, needle
    total = f"${doc.total // 100:,}.{doc.total % 100:02d}"
    assert text.count(total) >= 3  # the summary band, the totals, the stub


@needs_poppler
def test_account_number_barcodes_on_the_rendered_page_decode_to_the_account_number(uow, admin, maya, taxes, tmp_path):
    invoice_id = make_invoice(uow, maya.id, "100161", standard_lines(taxes))
    doc = documents.invoice_document(uow(), admin, invoice_id)

    (page,) = pdf_pages(invoice_pdf_bytes(doc), tmp_path, 200)
    found = decode_image(page)

    assert [c.data for c in found] == [maya.number]  # the header's and the stub's, the same code
    assert all(c.symbology == "CODE128" for c in found)
    stub = decode_image(page.crop((0, page.height * 3 // 4, page.width, page.height)))
    assert [c.data for c in stub] == [maya.number]  # the tear-off stub carries it on its own


@needs_poppler
def test_a_sixty_line_invoice_flows_onto_two_pages_numbered_and_ends_with_totals(tmp_path):
    doc = replace(sample_document("100170", lines=60), usage=())

    data = invoice_pdf_bytes(doc)
    text = pdf_text(data, tmp_path)
    pages = text.split("\f")

    assert render_invoice(doc, tmp_path / "x.pdf") == 2
    assert "Invoice 100170 · page 1 of 2" in pages[0] and "Invoice 100170 · page 2 of 2" in pages[1]
    assert "line 1" in pages[0] and "line 60" in pages[1] and "(continued)" in pages[1]
    assert "Subtotal" not in pages[0] and "Subtotal" in pages[1] and "REMITTANCE" in pages[1]
    assert sum(p.count("Mar 1 – Mar 31, 2025") for p in pages) >= 60


@needs_poppler
def test_a_void_invoice_says_void_on_every_page_with_its_reason(tmp_path):
    doc = sample_document("100171", lines=60, void=True)

    pages = pdf_text(invoice_pdf_bytes(doc), tmp_path, mode="-raw").split("\f")

    assert len([p for p in pages if p.strip()]) >= 2
    assert all("VOID" in p for p in pages if p.strip())
    assert "VOID — Billed twice" in "".join(pages)


@needs_poppler
def test_a_batch_is_one_pdf_with_each_invoice_on_its_own_pages(tmp_path):
    docs = [sample_document("100180"), sample_document("100181", lines=60), sample_document("100182")]

    path = tmp_path / "batch.pdf"
    pages = render_invoices(docs, path)
    text = pdf_text(path.read_bytes(), tmp_path)

    assert pages == 5
    for footer in ("Invoice 100180 · page 1 of 1", "Invoice 100181 · page 1 of 3", "Invoice 100181 · page 3 of 3",
                   "Invoice 100182 · page 1 of 1"):
        assert footer in text


def test_the_logo_is_drawn_when_its_file_exists_and_left_out_when_it_does_not(tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 90), (31, 78, 121)).save(logo)

    with_logo = invoice_pdf_bytes(sample_document(logo_path=str(logo)))
    missing = invoice_pdf_bytes(sample_document(logo_path=str(tmp_path / "gone.png")))

    assert b"/Subtype /Image" in with_logo
    assert b"/Subtype /Image" not in missing and missing.startswith(b"%PDF")


@needs_poppler
def test_statement_pdf_shows_previous_balance_and_payments_received(tmp_path):
    doc: InvoiceDocument = sample_document("100190", statement=True)

    text = pdf_text(invoice_pdf_bytes(doc), tmp_path)

    assert "STATEMENT" in text and "Previous balance" in text and "Payments received" in text
    assert "-42.10" in text and "Amount due" in text


@needs_poppler
def test_deposit_slip_lists_each_payment_and_totals_per_method(tmp_path):
    from app.billing.payments import DepositLine, DepositSlip

    lines = tuple(DepositLine(f"1000{i:02d}", f"Tenant {i}", ("cash", "check", "card")[i % 3], f"REF{i}", 1000 + i)
                  for i in range(70))
    totals = tuple((m, sum(ln.amount for ln in lines if ln.method == m)) for m in ("cash", "check", "card"))
    slip = DepositSlip(batch_id=7, deposited_on=date(2025, 3, 3), reference="DEP-0303", created_by="alice",
                       currency="USD", lines=lines, totals=totals, grand_total=sum(ln.amount for ln in lines),
                       count=len(lines))

    path = tmp_path / "slip.pdf"
    pages = render_deposit_slip(slip, path)
    text = pdf_text(path.read_bytes(), tmp_path)

    assert pages == 2
    assert "DEPOSIT SLIP" in text and "DEP-0303" in text and "Mar 3, 2025" in text
    assert "Tenant 0" in text and "Tenant 69" in text
    assert f"{totals[0][1] / 100:,.2f}" in text and "Total deposit" in text
    assert f"${slip.grand_total / 100:,.2f}" in text
    assert "Deposit DEP-0303 · page 2 of 2" in text


def test_company_country_picks_letter_or_a4_paper():
    from reportlab.lib.pagesizes import A4, LETTER

    from app.billing.pdf import page_size_for

    assert page_size_for("US") == LETTER and page_size_for("CA") == LETTER
    assert page_size_for("DE") == A4 and page_size_for("") == LETTER



# -- print batches --------------------------------------------------------------------------------

def test_print_batch_prints_paper_accounts_only_and_marks_them_printed(uow, admin, lookups, maya, taxes, tmp_path):
    paper = new_account(uow, admin, lookups, "Paper Pat", [accounts.ContactInput("Pat", is_primary=True)], unit="401")
    with uow() as u:
        u.session.add(BillingAccount(account_id=paper.id, paper_invoice=True))
        u.commit()
    on_paper = make_invoice(uow, paper.id, "100401", standard_lines(taxes))
    void = make_invoice(uow, paper.id, "100402", standard_lines(taxes), status=VOID)
    by_mail = make_invoice(uow, maya.id, "100403", standard_lines(taxes))
    target = tmp_path / "batch.pdf"

    batch = documents.print_batch(uow, admin, [by_mail, void, on_paper], target)

    assert (batch.invoices, batch.pages, batch.not_paper, batch.void) == (1, 1, 1, 1)
    assert batch.summary == "1 invoice, 1 page (1 not on paper, 1 void left out)"
    assert target.read_bytes().startswith(b"%PDF") and not (tmp_path / "batch.pdf.part").exists()
    with uow() as u:
        assert u.session.get(Invoice, on_paper).printed_at is not None
        assert u.session.get(Invoice, by_mail).printed_at is None


def test_print_batch_with_nothing_to_print_or_cancelled_writes_nothing(uow, admin, maya, taxes, tmp_path):
    by_mail = make_invoice(uow, maya.id, "100410", standard_lines(taxes))
    target = tmp_path / "batch.pdf"

    with pytest.raises(ValidationError, match="nothing to print"):
        documents.print_batch(uow, admin, [by_mail], target)
    with pytest.raises(documents.Cancelled):
        documents.print_batch(uow, admin, [by_mail], target, paper_only=False, cancelled=lambda: True)

    assert list(tmp_path.glob("batch.pdf*")) == []
    with uow() as u:
        assert u.session.get(Invoice, by_mail).printed_at is None
