"""E-mailing invoices to a real SMTP server on loopback (aiosmtpd on 127.0.0.1, a free port),
signing in with a password taken from the keyring. Runs on SQLite and PostgreSQL (the batch
marks ``emailed_at`` in the database).
"""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import socket
import subprocess
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.accounts import service as accounts
from app.billing import mailing
from app.billing.mailing import MailError, SmtpSettings
from app.billing.models import VOID, Invoice
from app.core import logs
from app.core.errors import PermissionDenied, ValidationError
from app.core.permissions import BUILTIN_ROLES, Actor
from app.core.secrets import SecretStore
from tests.integration.test_billing_documents import (  # noqa: F401 - fixtures used by name
    company,
    lookups,
    make_invoice,
    new_account,
    standard_lines,
    taxes,
)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "billing@northwind.example", "Tr0ub4dor&3-smtp"



@pytest.fixture(autouse=True)
def no_saved_mail_settings():
    """mail.json lives in the session's shared config folder: each test starts without one."""
    SmtpSettings.path().unlink(missing_ok=True)
    yield
    SmtpSettings.path().unlink(missing_ok=True)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message and can refuse chosen recipients."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refuse: set[str] = set()
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append(auth_data.login.decode())
            if auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture()
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=box.authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture()
def secrets() -> SecretStore:
    return SecretStore()


@pytest.fixture()
def smtp(mailbox, secrets) -> SmtpSettings:
    settings = SmtpSettings(host="127.0.0.1", port=mailbox.port, security=mailing.NONE, username=USER,
                            from_address="billing@northwind.example", timeout=5)
    settings.save_password(secrets, PASSWORD)
    return settings


@pytest.fixture()
def tenants(uow, admin, lookups, company):  # noqa: F811
    """Three accounts: two financial contacts; a primary only; nobody with an address."""
    maya = new_account(uow, admin, lookups, "Maya Green", [
        accounts.ContactInput("Maya Green", email="maya@example.com", is_primary=True),
        accounts.ContactInput("Green Family Trust", email="trust@example.com", is_financial=True),
        accounts.ContactInput("Trust Accountant", email="ledger@example.com", is_financial=True),
    ], unit="1204")
    owen = new_account(uow, admin, lookups, "Owen White", [
        accounts.ContactInput("Owen White", email="owen@example.com", is_primary=True),
    ], unit="1205")
    nobody = new_account(uow, admin, lookups, "Paper Only", [
        accounts.ContactInput("Front desk", phone="604 555 0100", is_primary=True),
    ], unit="1206")
    return maya, owen, nobody


def emailed_at(uow, invoice_id: int):
    with uow() as u:
        return u.session.get(Invoice, invoice_id).emailed_at


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "attachment.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


# -- sending --------------------------------------------------------------------------------------

def test_each_invoice_goes_to_its_financial_contacts_with_its_pdf_attached(
        uow, admin, tenants, taxes, smtp, secrets, mailbox, tmp_path):  # noqa: F811
    maya, owen, _ = tenants
    maya_invoice = make_invoice(uow, maya.id, "100123", standard_lines(taxes))
    owen_invoice = make_invoice(uow, owen.id, "100124", standard_lines(taxes))

    result = mailing.send_invoices(uow, admin, [maya_invoice, owen_invoice], smtp, secrets)

    assert [s.number for s in result.sent] == ["100123", "100124"]
    assert result.summary == "2 sent"
    assert [sorted(e.rcpt_tos) for e in mailbox.envelopes] == [
        ["ledger@example.com", "trust@example.com"], ["owen@example.com"]]  # the primary when no financial one
    assert mailbox.logins == [USER]  # one connection, one sign-in for the batch
    first = mailbox.messages()[0]
    assert first["Subject"] == "Invoice 100123 from Northwind Fibre"
    assert first["From"] == "Northwind Fibre <billing@northwind.example>"
    assert "Amount due: $" in first.get_body(("plain",)).get_content()
    (attachment,) = list(first.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "invoice-100123.pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "100123" in text and maya.number in text and "Green Family Trust" in text
    assert emailed_at(uow, maya_invoice) is not None and emailed_at(uow, owen_invoice) is not None


def test_an_invoice_without_an_address_is_reported_and_a_void_one_skipped_while_the_rest_go(
        uow, admin, tenants, taxes, smtp, secrets, mailbox):  # noqa: F811
    maya, owen, nobody = tenants
    ids = [make_invoice(uow, nobody.id, "100130", standard_lines(taxes)),
           make_invoice(uow, owen.id, "100131", standard_lines(taxes), status=VOID, void_reason="Duplicate"),
           make_invoice(uow, maya.id, "100132", standard_lines(taxes))]

    result = mailing.send_invoices(uow, admin, ids, smtp, secrets)

    assert [(n.number, n.account_number) for n in result.no_address] == [("100130", nobody.number)]
    assert [(n.number, n.reason) for n in result.skipped] == [("100131", "it is void")]
    assert [s.number for s in result.sent] == ["100132"] and not result.failed
    assert result.summary == "1 sent, 1 without an e-mail address, 1 skipped"
    assert len(mailbox.envelopes) == 1
    assert emailed_at(uow, ids[0]) is None and emailed_at(uow, ids[1]) is None


def test_a_refused_recipient_is_reported_with_the_servers_reason_and_the_batch_goes_on(
        uow, admin, tenants, taxes, smtp, secrets, mailbox):  # noqa: F811
    maya, owen, _ = tenants
    mailbox.refuse = {"owen@example.com"}
    owen_invoice = make_invoice(uow, owen.id, "100140", standard_lines(taxes))
    maya_invoice = make_invoice(uow, maya.id, "100141", standard_lines(taxes))

    result = mailing.send_invoices(uow, admin, [owen_invoice, maya_invoice], smtp, secrets)

    assert [f.number for f in result.failed] == ["100140"]
    assert "550" in result.failed[0].reason and "mailbox unavailable" in result.failed[0].reason
    assert [s.number for s in result.sent] == ["100141"]
    assert emailed_at(uow, owen_invoice) is None and emailed_at(uow, maya_invoice) is not None


def test_a_wrong_password_stops_before_sending_with_a_clear_message(
        uow, admin, tenants, taxes, smtp, secrets, mailbox):  # noqa: F811
    maya = tenants[0]
    invoice_id = make_invoice(uow, maya.id, "100150", standard_lines(taxes))
    smtp.save_password(secrets, "not-the-password")

    with pytest.raises(MailError, match=r"refused the username or password for billing@northwind\.example"):
        mailing.send_invoices(uow, admin, [invoice_id], smtp, secrets)

    assert mailbox.envelopes == [] and emailed_at(uow, invoice_id) is None


def test_the_password_lives_in_the_keyring_and_never_reaches_the_log_or_the_settings_file(
        uow, admin, tenants, taxes, smtp, secrets, mailbox, memory_keyring):  # noqa: F811
    ids = [make_invoice(uow, a.id, f"10016{i}", standard_lines(taxes)) for i, a in enumerate(tenants)]
    log_path = logs.configure(logging.DEBUG)
    try:
        smtp.save()
        mailing.send_invoices(uow, admin, ids, smtp, secrets)
        assert mailing.test_connection(smtp, secrets).startswith("Connected to 127.0.0.1")
        smtp.save_password(secrets, PASSWORD + "-wrong")
        with pytest.raises(MailError):
            mailing.send_invoices(uow, admin, ids, smtp, secrets)
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
        logging.getLogger().setLevel(logging.WARNING)

    assert memory_keyring.store[("Riser", f"smtp:127.0.0.1:{USER}")] == PASSWORD + "-wrong"
    log_text = log_path.read_text(encoding="utf-8")
    assert "invoice e-mail batch via 127.0.0.1" in log_text  # the log was written…
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in log_text  # …without the password, plain or base64
    settings_text = SmtpSettings.path().read_text(encoding="utf-8")
    assert PASSWORD not in settings_text and "password" not in settings_text
    assert SmtpSettings.load() == smtp


def test_a_missing_password_or_an_unreachable_server_is_a_clear_error(smtp, secrets, admin, uow):
    smtp_without = SmtpSettings(**{**smtp.__dict__, "username": "someone-else"})
    with pytest.raises(MailError, match="No password is saved for someone-else on 127.0.0.1"):
        mailing.test_connection(smtp_without, secrets)

    closed = SmtpSettings(**{**smtp.__dict__, "port": free_port()})
    closed.save_password(secrets, PASSWORD)
    with pytest.raises(MailError, match=r"refused the connection\. Check the port"):
        mailing.send_invoices(uow, admin, [1], closed, secrets)

    starttls = SmtpSettings(**{**smtp.__dict__, "security": mailing.STARTTLS})
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        mailing.test_connection(starttls, secrets)


def test_connection_test_signs_in_and_says_so(smtp, secrets, mailbox):
    assert mailing.test_connection(smtp, secrets) == (
        f"Connected to 127.0.0.1:{mailbox.port} without encryption, signed in as {USER}.")
    assert mailbox.logins == [USER] and mailbox.envelopes == []


def test_cancelling_stops_between_invoices_and_keeps_what_was_sent(
        uow, admin, tenants, taxes, smtp, secrets, mailbox):  # noqa: F811
    maya = tenants[0]
    ids = [make_invoice(uow, maya.id, f"10017{i}", standard_lines(taxes)) for i in range(4)]
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total))

    result = mailing.send_invoices(uow, admin, ids, smtp, secrets, progress=progress,
                                   cancelled=lambda: len(mailbox.envelopes) >= 2)

    assert result.cancelled and [s.number for s in result.sent] == ["100170", "100171"]
    assert seen[:2] == [(0, 4), (1, 4)]
    assert [emailed_at(uow, i) is not None for i in ids] == [True, True, False, False]


def test_sending_needs_billing_edit(uow, smtp, secrets):
    support = Actor(None, "sam", "Support", BUILTIN_ROLES["Support"][1])
    with pytest.raises(PermissionDenied):
        mailing.send_invoices(uow, support, [1], smtp, secrets)


def test_settings_refuse_what_cannot_work_with_the_field_named():
    cases = [
        (SmtpSettings(host="", from_address="a@b.example"), "host"),
        (SmtpSettings(host="smtp example.com", from_address="a@b.example"), "host"),
        (SmtpSettings(host="smtp.example.com", port=70000, from_address="a@b.example"), "port"),
        (SmtpSettings(host="smtp.example.com", security="tls13", from_address="a@b.example"), "security"),
        (SmtpSettings(host="smtp.example.com", from_address="billing"), "from_address"),
    ]
    for settings, field in cases:
        with pytest.raises(ValidationError) as caught:
            settings.save()
        assert caught.value.field == field


def test_the_keyring_entry_is_named_after_host_and_user():
    settings = SmtpSettings(host="SMTP.Example.com", username="billing")
    assert settings.secret_key == "smtp:smtp.example.com:billing"


def test_invoice_message_is_dated_and_identified():
    from tests.benchmarks.bench_invoice_pdf import sample_document

    doc = sample_document("100199")
    message = mailing.invoice_message(doc, b"%PDF-1.4 test", SmtpSettings(from_address="billing@northwind.example"))

    assert message["Message-ID"].endswith("@northwind.example>") and message["Date"]
    assert message["To"] == "Maya Green <maya.green@example.com>"
    assert f"Due date: March 15, {date(2025, 3, 15).year}" in message.get_body(("plain",)).get_content()
