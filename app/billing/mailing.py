"""E-mailing invoices over SMTP: the settings, a connection test, and the batch send. No Qt.

    smtp = SmtpSettings.load()                      # host, port, security, user, from address
    smtp.save(); smtp.save_password(secrets, "…")   # the password goes to the keyring only
    test_connection(smtp, secrets)                  # → "Signed in to smtp.example.com:587 …"
    result = send_invoices(uow_factory, actor, ids, smtp, secrets, progress=…, cancelled=…)

**Where things are kept.** The settings are per desk, like the database URL: a small JSON file
``mail.json`` beside ``settings.json`` in the config folder (``app.core.settings.config_dir``).
The password never goes there, nor into a log or an exception message: it lives in the system
keyring (``SecretStore``) under ``smtp:{host}:{username}``.

**The batch.** For each invoice: its document (``documents.load_documents``) → a PDF
(``pdf.invoice_pdf_bytes``) → one ``EmailMessage`` to the account's financial contacts that take
billing notices and have an address (else the primary contact), sent over one SMTP connection.

- An invoice with nobody to send to is *reported* (``no_address``), not failed; a void invoice
  is skipped and reported.
- Each invoice sent gets ``emailed_at`` in its own small transaction, right after the server
  accepted it, so a batch stopped half way (cancel, a crash) knows exactly which went out.
- A server refusal of one message (a bad recipient, a message too large) is reported with the
  server's reason and the batch goes on.
- Failing to connect, to start TLS or to sign in stops the batch before anything is sent, with
  a message that says what to check (``MailError``). A connection dropped mid-batch is
  reopened once; if that fails too, the batch stops and reports what was sent so far.
- Documents are loaded 50 at a time, so a batch of thousands holds 50 PDFs at most.

Sending needs ``billing.edit`` (it changes ``emailed_at`` and speaks for the company).
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from app.billing.documents import InvoiceDocument, load_documents
from app.billing.models import Invoice
from app.billing.pdf import invoice_pdf_bytes
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import RiserError, SecretStoreUnavailable, ValidationError
from app.core.money import format_minor
from app.core.permissions import Actor, Permission
from app.core.secrets import SecretStore
from app.core.settings import config_dir
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

NONE, STARTTLS, SSL = "none", "starttls", "ssl"
SECURITY_CHOICES = (NONE, STARTTLS, SSL)
SECURITY_LABELS = {NONE: "None (plain, port 25)", STARTTLS: "STARTTLS (port 587)", SSL: "SSL/TLS (port 465)"}
DEFAULT_PORTS = {NONE: 25, STARTTLS: 587, SSL: 465}
DOCUMENTS_PER_LOAD = 50


class MailError(RiserError):
    """The mail server cannot be used: unreachable, TLS refused, sign-in refused."""


@dataclass
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = STARTTLS  # none | starttls | ssl
    username: str = ""
    from_address: str = ""
    from_name: str = ""  # empty: the invoice's company name
    timeout: float = 20.0

    # -- stored beside settings.json ------------------------------------------------------
    @classmethod
    def path(cls) -> Path:
        return config_dir() / "mail.json"

    @classmethod
    def load(cls) -> SmtpSettings:
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        try:
            settings = cls(**known)
            settings.port = int(settings.port)
            settings.timeout = float(settings.timeout)
        except (TypeError, ValueError):
            return cls()
        return settings

    def save(self) -> None:
        self.validate()
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)

    def validate(self) -> None:
        """Refuse what cannot work, with the field to show the message next to."""
        self.host = (self.host or "").strip()
        self.username = (self.username or "").strip()
        self.from_address = (self.from_address or "").strip()
        if not self.host:
            raise ValidationError("Enter the mail server's name, e.g. smtp.example.com.", "host")
        if any(ch.isspace() for ch in self.host) or "/" in self.host:
            raise ValidationError(f"“{self.host}” is not a server name.", "host")
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValidationError("The port is a number from 1 to 65535 (587 for STARTTLS, 465 for SSL).", "port")
        if self.security not in SECURITY_CHOICES:
            raise ValidationError("Choose the connection security: none, STARTTLS or SSL.", "security")
        if "@" not in self.from_address or any(ch.isspace() for ch in self.from_address):
            raise ValidationError("Enter the address invoices are sent from, e.g. billing@example.com.",
                                  "from_address")

    # -- the password ---------------------------------------------------------------------
    @property
    def secret_key(self) -> str:
        """The keyring entry's name: ``smtp:{host}:{username}``."""
        return f"smtp:{self.host.strip().lower()}:{self.username.strip()}"

    def save_password(self, secrets: SecretStore, password: str) -> None:
        """Keep ``password`` in the keyring (``SecretStoreUnavailable`` when there is none)."""
        secrets.put(self.secret_key, password)

    def password(self, secrets: SecretStore) -> str | None:
        return secrets.get(self.secret_key)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


# -- connecting -----------------------------------------------------------------------------------

def _connect(smtp: SmtpSettings, secrets: SecretStore) -> smtplib.SMTP:
    """An open, signed-in connection, or a MailError that says what to check."""
    smtp.validate()
    password = None
    if smtp.username:
        try:
            password = smtp.password(secrets)
        except SecretStoreUnavailable as exc:
            raise MailError(f"The mail password could not be read from the system keyring: {exc}") from None
        if password is None:
            raise MailError(f"No password is saved for {smtp.username} on {smtp.host}. "
                            "Enter it in Billing → Mail settings.")
    context = ssl.create_default_context()
    try:
        if smtp.security == SSL:
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (socket.gaierror, UnicodeError):
        raise MailError(f"The mail server {smtp.host} was not found. Check its name.") from None
    except TimeoutError:
        raise MailError(f"The mail server {smtp.where} did not answer within {smtp.timeout:.0f} s. "
                        "Check the name and port, and that a firewall lets the connection through.") from None
    except ConnectionRefusedError:
        raise MailError(f"The mail server {smtp.where} refused the connection. Check the port "
                        f"({', '.join(f'{p} for {k}' for k, p in DEFAULT_PORTS.items())}).") from None
    except ssl.SSLError as exc:
        raise MailError(f"A secure (SSL) connection to {smtp.where} failed: {exc.reason or exc}. "
                        "If the server uses STARTTLS, choose that instead (usually port 587).") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Could not connect to the mail server {smtp.where}: {_reason(exc)}") from None
    try:
        client.ehlo()
        if smtp.security == STARTTLS:
            if not client.has_extn("starttls"):
                raise MailError(f"The mail server {smtp.where} does not offer STARTTLS. Choose SSL "
                                "(port 465) or, on a trusted network only, no security.")
            client.starttls(context=context)
            client.ehlo()
        if smtp.username:
            if not client.has_extn("auth"):
                raise MailError(f"The mail server {smtp.where} does not accept a sign-in"
                                f"{' without TLS' if smtp.security == NONE else ''}. "
                                + ("Choose STARTTLS or SSL." if smtp.security == NONE else "Clear the username."))
            try:
                client.login(smtp.username, password or "")
            except smtplib.SMTPAuthenticationError:
                raise MailError(f"The mail server {smtp.where} refused the username or password for "
                                f"{smtp.username}. Check them in Billing → Mail settings.") from None
        return client
    except MailError:
        _close(client)
        raise
    except ssl.SSLError as exc:
        _close(client)
        raise MailError(f"Starting TLS with {smtp.where} failed: {exc.reason or exc}.") from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(client)
        raise MailError(f"The mail server {smtp.where} broke off: {_reason(exc)}") from None


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        try:
            client.close()
        except OSError:
            pass


def _reason(exc: BaseException) -> str:
    """The server's own words for a refusal (never our password: smtplib does not echo it)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def test_connection(smtp: SmtpSettings, secrets: SecretStore, send_to: str | None = None) -> str:
    """Connect, start TLS and sign in as the settings say, then hang up. With ``send_to``, send
    a short test message there too (the settings dialog's "Send test" sends one to the from
    address: it proves the server relays for that sender, not only that it lets us in).
    Returns a line that says what worked; raises MailError saying what did not."""
    client = _connect(smtp, secrets)
    try:
        if send_to:
            message = EmailMessage()
            message["From"] = formataddr((smtp.from_name or "Riser", smtp.from_address))
            message["To"] = send_to
            message["Subject"] = "Riser test message"
            message["Date"] = formatdate(localtime=True)
            message.set_content(f"This is a test from Riser's mail settings: invoices will be sent through "
                                f"{smtp.where} as {smtp.from_address}.\n")
            try:
                client.send_message(message)
            except smtplib.SMTPException as exc:
                raise MailError(f"Signed in, but the server refused the test message: {_reason(exc)}") from None
        else:
            client.noop()
    finally:
        _close(client)
    how = {NONE: "without encryption", STARTTLS: "with STARTTLS", SSL: "over SSL/TLS"}[smtp.security]
    who = f", signed in as {smtp.username}" if smtp.username else ""
    sent = f"; a test message went to {send_to}" if send_to else ""
    return f"Connected to {smtp.where} {how}{who}{sent}."


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


# -- the message ----------------------------------------------------------------------------------

def invoice_message(doc: InvoiceDocument, pdf: bytes, smtp: SmtpSettings) -> EmailMessage:
    """The e-mail for one invoice: to its recipients, a short text body, the PDF attached."""
    recipients = doc.email_recipients
    message = EmailMessage()
    sender_name = smtp.from_name or doc.company_name
    message["From"] = formataddr((sender_name, smtp.from_address))
    message["To"] = ", ".join(formataddr((r.name, r.email)) for r in recipients)
    message["Subject"] = f"{doc.title.title()} {doc.number} from {doc.company_name}"
    message["Date"] = formatdate(localtime=True)
    domain = smtp.from_address.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(f"invoice-{doc.number}", domain=domain)
    greeting = f"Dear {recipients[0].name}," if len(recipients) == 1 and recipients[0].name else "Hello,"
    due = format_minor(doc.balance_due, doc.currency, symbol=True)
    lines = [
        greeting,
        "",
        (f"Please find attached {doc.title.lower()} {doc.number} for account {doc.account_number} "
         f"({doc.account_name}), for {doc.period}."),
        "",
        f"Amount due: {due}",
        f"Due date: {doc.due_on:%B} {doc.due_on.day}, {doc.due_on.year}",
    ]
    if doc.message.strip():
        lines += ["", doc.message.strip()]
    contact = " · ".join(x for x in (doc.company_phone, doc.company_email) if x)
    lines += ["", "Thank you,", doc.company_name]
    if contact:
        lines.append(contact)
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{doc.title.lower()}-{doc.number}.pdf")
    return message


# -- the batch ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SentInvoice:
    invoice_id: int
    number: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class NotSent:
    invoice_id: int
    number: str
    account_number: str
    reason: str


@dataclass
class SendResult:
    sent: list[SentInvoice] = field(default_factory=list)
    no_address: list[NotSent] = field(default_factory=list)  # nobody to send it to
    skipped: list[NotSent] = field(default_factory=list)  # void, or no longer exists
    failed: list[NotSent] = field(default_factory=list)  # the server refused this one
    cancelled: bool = False
    stopped: str = ""  # why the batch stopped early (the connection was lost), else ""

    @property
    def summary(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.no_address:
            parts.append(f"{len(self.no_address)} without an e-mail address")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        text = ", ".join(parts)
        if self.cancelled:
            text += " (cancelled)"
        if self.stopped:
            text += f" — stopped: {self.stopped}"
        return text


def send_invoices(
    uow_factory: Callable[[], UnitOfWork],
    actor: Actor,
    invoice_ids: Sequence[int],
    smtp: SmtpSettings,
    secrets: SecretStore,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> SendResult:
    """E-mail each invoice to its account's billing contacts (see the module docstring).
    Raises MailError before anything is sent when the server cannot be reached or signed in to."""
    actor.require(Permission.BILLING_EDIT)
    ids = list(dict.fromkeys(invoice_ids))
    result = SendResult()
    total = len(ids)
    if not ids:
        return result
    client = _connect(smtp, secrets)
    done = 0
    try:
        for start in range(0, total, DOCUMENTS_PER_LOAD):
            chunk = ids[start:start + DOCUMENTS_PER_LOAD]
            with uow_factory() as uow:
                docs = {d.invoice_id: d for d in load_documents(uow, chunk)}
            for invoice_id in chunk:
                if cancelled is not None and cancelled():
                    result.cancelled = True
                    return result
                doc = docs.get(invoice_id)
                if progress is not None:
                    progress(done, total, f"Invoice {doc.number}" if doc else "")
                done += 1
                if doc is None:
                    result.skipped.append(NotSent(invoice_id, "", "", "it no longer exists"))
                    continue
                if doc.is_void:
                    result.skipped.append(NotSent(invoice_id, doc.number, doc.account_number, "it is void"))
                    continue
                recipients = doc.email_recipients
                if not recipients:
                    result.no_address.append(NotSent(invoice_id, doc.number, doc.account_number,
                                                      "no billing contact with an e-mail address"))
                    continue
                message = invoice_message(doc, invoice_pdf_bytes(doc), smtp)
                try:
                    client = _send(client, message, smtp, secrets)
                except _ConnectionLost as lost:
                    result.failed.append(NotSent(invoice_id, doc.number, doc.account_number, lost.reason))
                    result.stopped = lost.reason
                    return result
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                        smtplib.SMTPNotSupportedError) as exc:
                    reason = _reason(exc)
                    log.warning("invoice %s was not e-mailed: %s", doc.number, reason)
                    result.failed.append(NotSent(invoice_id, doc.number, doc.account_number, reason))
                    _reset(client)
                    continue
                _mark_emailed(uow_factory, actor, invoice_id, recipients)
                result.sent.append(SentInvoice(invoice_id, doc.number, tuple(r.email for r in recipients)))
        if progress is not None:
            progress(total, total, "")
        return result
    finally:
        _close(client)
        log.info("invoice e-mail batch via %s: %s", smtp.where, result.summary)


class _ConnectionLost(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _send(client: smtplib.SMTP, message: EmailMessage, smtp: SmtpSettings, secrets: SecretStore) -> smtplib.SMTP:
    """Send over ``client``; if the server hung up (idle timeout), reconnect once and retry.
    Returns the connection to go on with."""
    try:
        client.send_message(message)
        return client
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
        log.info("mail server %s dropped the connection (%s); reconnecting", smtp.where, type(exc).__name__)
    _close(client)
    try:
        client = _connect(smtp, secrets)
        client.send_message(message)
        return client
    except MailError as exc:
        raise _ConnectionLost(str(exc)) from None
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
        raise _ConnectionLost(f"the mail server {smtp.where} keeps dropping the connection ({exc})") from None


def _reset(client: smtplib.SMTP) -> None:
    try:
        client.rset()
    except (OSError, smtplib.SMTPException):
        pass


def _mark_emailed(uow_factory: Callable[[], UnitOfWork], actor: Actor, invoice_id: int, recipients) -> None:
    with uow_factory() as uow:
        invoice = uow.session.get(Invoice, invoice_id)
        if invoice is None:
            return
        invoice.emailed_at = utcnow()
        audit.record(uow.session, actor, "invoice", invoice_id, "email", None,
                     {"number": invoice.number, "to": [r.email for r in recipients]})
        uow.commit()
