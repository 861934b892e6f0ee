"""Late fees and delinquency: what happens, day by day, to an account that does not pay.

The timeline (``BillingSettings`` of the account's company; /work/shared/DOMAIN.md):

- **Late fee** — ``apply_late_fees``: an open invoice with a balance gets one LATE_FEE ledger
  entry once ``due_on + late_fee_days`` has come (fixed, or a percentage of the invoice's balance
  due rounded half-even, never less than ``late_fee_minimum``). Any day of the week: fees are
  bookkeeping, not network actions. The fee joins the overdue invoice: a "late fee" line and its
  total grow by it (so paying that invoice pays the fee), and the LATE_FEE entry is linked to the
  invoice (``LedgerEntry.invoice_id``); voiding the invoice reverses the fee with it.
- **Delinquent** — ``run_delinquency``: the account has an open invoice with a balance *past*
  ``due_on + grace_days`` (due on the 10th with 7 grace days: delinquent from the 18th) and its
  balance (the sum of its ledger) is over ``minimum_delinquent_balance``. Its status switches to
  ``delinquent_status_id`` when one is set, the status it had is kept, and the network is told
  to throttle it (an outbox event).
- **Status switch** — ``status_switch_days`` after it became delinquent the status switches to
  ``switch_status_id`` (Suspended, which stops recurring charges) and the network disconnects.
- **Restored** — as soon as the account no longer qualifies (paid, credited, or excluded since):
  the status goes back to the one it had, and the network restores it. ``after_payment`` does it
  in the payment's own transaction, so a paying customer never waits for the next check.

When checks run: only on the company's ``check_weekdays`` and never on an exclusion date (a
``DelinquencyExclusion`` without a year repeats every year) — operators do not cut service on a
Saturday or on Christmas. On those days nobody becomes delinquent and no status switches, but
restores still happen (giving service back is never the thing to wait for); the result says
"skipped: Saturday is not a check day".

Who is never made delinquent: accounts with ``delinquency_excluded``, accounts of a type in
``excluded_account_type_ids``, and accounts whose status is not billed (Inactive, Lead, already
Suspended by hand) or that are disconnected: they have no service to throttle, and switching
them to a billed "Delinquent" status would bill them again.

Restoring puts back the status the account had only if it still has a status this process set
(the delinquent or the switch status): a status someone changed by hand in between is left.

Exactly once across desktops: each late fee is claimed by a conditional UPDATE and each account
is changed in its own transaction after locking its billing row (see
``app.billing.delinquency_repository``); two checks at once, or a check and a payment, take
turns per account and the second sees what the first did.

Every change writes an audit entry on the account (entity ``account``; actions ``late fee``,
``delinquent``, ``status switched``, ``delinquency cleared``) whose ``after`` holds ``result``,
one sentence the account's History tab shows as it is, and ``payload``, the same facts as data
(the History tab hides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from app.accounts.models import Account
from app.billing.delinquency_repository import DelinquencyRepository
from app.billing.models import (
    LATE_FEE,
    BillingAccount,
    BillingSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import ConflictError, NotFound, ReadOnlyDatabase
from app.core.money import format_minor, format_percent_milli, percent_of
from app.core.outbox import NETWORK, emit
from app.core.permissions import Actor, Permission
from app.uow import UnitOfWork

ACCOUNT_ENTITY = "account"
LATE_FEE_ACTION, DELINQUENT_ACTION = "late fee", "delinquent"
SWITCHED_ACTION, CLEARED_ACTION = "status switched", "delinquency cleared"
THROTTLE, DISCONNECT, RESTORE = "throttle", "disconnect", "restore"
FIXED, PERCENT = "fixed", "percent"

# Where an account stands, for the overview (worst first).
SWITCHED, DELINQUENT, OVERDUE, EXEMPT = "switched", "delinquent", "overdue", "exempt"
STAGE_ORDER = {SWITCHED: 0, DELINQUENT: 1, OVERDUE: 2, EXEMPT: 3}
# What happens next to it.
NEXT_DELINQUENT, NEXT_SWITCH, NEXT_RESTORE = "delinquent", "switch", "restore"

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SEARCH_DAYS = 400  # how far ahead a next check day is looked for (a year of exclusions and then some)


# -- results -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LateFee:
    invoice_id: int
    invoice_number: str
    account_id: int
    amount: int  # minor units
    currency: str


@dataclass(frozen=True)
class LateFeeResult:
    fees: tuple[LateFee, ...] = ()

    @property
    def applied(self) -> int:
        return len(self.fees)

    @property
    def summary(self) -> str:
        """ "2 late fees, 50.00" (no total when the fees are in several currencies)."""
        if not self.fees:
            return "no late fees"
        n = len(self.fees)
        text = f"{n} late fee{'s' if n != 1 else ''}"
        currencies = {f.currency for f in self.fees}
        if len(currencies) == 1:
            text += f", {format_minor(sum(f.amount for f in self.fees), currencies.pop())}"
        return text


@dataclass(frozen=True)
class DelinquencyResult:
    today: date
    ran: bool  # False: no company checked today (not a check day, or an exclusion date)
    delinquent: int = 0
    switched: int = 0
    restored: int = 0
    skipped: tuple[str, ...] = ()  # why, per company that did not check ("Saturday is not a check day")
    errors: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """ "skipped: Saturday is not a check day" or "2 delinquent, 1 status switched, 1 restored"."""
        restored = f"{self.restored} restored" if self.restored else ""
        if not self.ran:
            text = "skipped: " + "; ".join(dict.fromkeys(self.skipped))
            return f"{text} ({restored})" if restored else text
        parts = [f"{self.delinquent} delinquent" if self.delinquent else "",
                 f"{self.switched} status switched" if self.switched else "", restored]
        text = ", ".join(p for p in parts if p) or "no changes"
        if self.skipped:
            text += "; skipped: " + "; ".join(self.skipped)
        if self.errors:
            text += f"; {len(self.errors)} failed"
        return text


@dataclass(frozen=True)
class DelinquentRow:
    """One line of Billing → Delinquency."""

    account_id: int
    number: str
    name: str
    balance: int  # minor units, the sum of the ledger
    currency: str
    invoice_number: str  # the oldest overdue invoice ("" when none is overdue any more)
    invoice_due_on: date | None
    delinquent_since: date | None
    status: str  # now
    status_colour: str
    stage: str  # switched | delinquent | overdue | exempt
    next_step: str  # "status switches to Suspended on 2026-12-07", "delinquent on 2026-11-30 if unpaid"
    next_on: date | None
    next_kind: str = ""  # delinquent | switch | restore | "" (nothing will happen by itself)
    switch_status: str = ""  # the company's switch status ("Suspended"), "" if none


@dataclass(frozen=True)
class UpcomingDates:
    """For the account's Billing tab. Dates to come assume nothing is paid meanwhile."""

    late_fee_on: date | None  # the next late fee (None: none configured, or nothing open without one)
    late_fee_invoice: str
    delinquent_on: date | None  # when it becomes delinquent (None: already is, or will not)
    delinquent_since: date | None
    status_switch_on: date | None  # when its status switches (None: already did, or will not)
    status_switched_on: date | None
    switch_status: str  # "Suspended", "" if the company switches to none


# -- the company's rules -----------------------------------------------------------------------

def _column_default(name: str, fallback: object) -> object:
    default = BillingSettings.__table__.c[name].default
    arg = getattr(default, "arg", None)
    return fallback if arg is None or callable(arg) else arg


@dataclass(frozen=True)
class Rules:
    """The delinquency and late-fee settings of one company, read once per run.

    A company with no ``BillingSettings`` row yet gets the schema's defaults, which apply no
    late fee."""

    company_id: int
    currency: str
    grace_days: int
    status_switch_days: int
    delinquent_status_id: int | None
    delinquent_status: str
    switch_status_id: int | None
    switch_status: str
    minimum_balance: int
    late_fee_kind: str
    late_fee_amount: int
    late_fee_minimum: int
    late_fee_days: int
    check_weekdays: frozenset[int]
    excluded_type_ids: frozenset[int]
    exclusions: tuple[tuple[int | None, int, int, str], ...]  # (year or None, month, day, name)

    @property
    def charges_late_fees(self) -> bool:
        return self.late_fee_kind in (FIXED, PERCENT)

    def late_fee_for(self, balance_due: int) -> int:
        """The fee on an invoice with this balance: fixed, or the percentage rounded half-even;
        at least the minimum either way."""
        if self.late_fee_kind == FIXED:
            fee = self.late_fee_amount
        elif self.late_fee_kind == PERCENT:
            fee = percent_of(balance_due, self.late_fee_amount)
        else:
            return 0
        return max(fee, self.late_fee_minimum)

    def describe_late_fee(self) -> str:
        if self.late_fee_kind == PERCENT:
            return f"{format_percent_milli(self.late_fee_amount)} % of the balance due"
        return "fixed"

    def skip_reason(self, day: date) -> str | None:
        """Why delinquency checks do not run on ``day`` (None: they do)."""
        for year, month, dom, name in self.exclusions:
            if (year is None or year == day.year) and (month, dom) == (day.month, day.day):
                return name.strip() or f"{day.isoformat()} is an exclusion date"
        if day.isoweekday() not in self.check_weekdays:
            return f"{WEEKDAYS[day.isoweekday() - 1]} is not a check day"
        return None

    def next_check_day(self, start: date) -> date | None:
        """The first day on or after ``start`` that checks run (None: no weekday is enabled)."""
        if not self.check_weekdays:
            return None
        day = start
        for _ in range(_SEARCH_DAYS):
            if self.skip_reason(day) is None:
                return day
            day += timedelta(days=1)
        return None


def load_rules(repo: DelinquencyRepository, company_id: int) -> Rules:
    s = repo.settings(company_id)

    def value(name: str, fallback: object) -> object:
        given = getattr(s, name) if s is not None else None
        return given if given is not None else _column_default(name, fallback)

    def number(name: str, fallback: int) -> int:
        return int(str(value(name, fallback)))

    def status_id(name: str) -> int | None:
        given = getattr(s, name) if s is not None else None
        return int(given) if given is not None else None

    delinquent_status = repo.status(status_id("delinquent_status_id"))
    switch_status = repo.status(status_id("switch_status_id"))
    weekdays = str(value("check_weekdays", "12345"))
    return Rules(
        company_id=company_id,
        currency=str(value("currency", "USD")),
        grace_days=number("grace_days", 7),
        status_switch_days=number("status_switch_days", 14),
        delinquent_status_id=delinquent_status.id if delinquent_status else None,
        delinquent_status=delinquent_status.name if delinquent_status else "",
        switch_status_id=switch_status.id if switch_status else None,
        switch_status=switch_status.name if switch_status else "",
        minimum_balance=number("minimum_delinquent_balance", 0),
        late_fee_kind=str(value("late_fee_kind", "none")),
        late_fee_amount=number("late_fee_amount", 0),
        late_fee_minimum=number("late_fee_minimum", 0),
        late_fee_days=number("late_fee_days", 5),
        check_weekdays=frozenset(int(c) for c in weekdays if c in "1234567"),
        excluded_type_ids=frozenset(int(t) for t in ((s.excluded_account_type_ids if s else None) or [])),
        exclusions=tuple((e.year, e.month, e.day, e.name or "") for e in repo.exclusions(company_id)),
    )


class _RulesCache(dict[int, Rules]):
    def __init__(self, repo: DelinquencyRepository) -> None:
        super().__init__()
        self.repo = repo

    def __missing__(self, company_id: int) -> Rules:
        rules = self[company_id] = load_rules(self.repo, company_id)
        return rules


# -- late fees ---------------------------------------------------------------------------------

def apply_late_fees(uow_factory: Callable[[], UnitOfWork], actor: Actor, today: date) -> LateFeeResult:
    """Charge the late fee of every invoice that has reached ``due_on + late_fee_days``.

    One transaction per invoice: claim it (the conditional UPDATE), add the LATE_FEE entry and
    the account's audit entry, commit. Run twice, or on two desktops at once, each invoice is
    charged once. A crash half-way leaves the charged invoices charged and the rest for the
    next run."""
    actor.require(Permission.BILLING_RUN)
    _check_writable(uow_factory)
    with uow_factory() as uow:
        repo = uow.delinquency
        plan: list[tuple[int, Rules]] = []
        for company in repo.companies():
            rules = load_rules(repo, company.id)
            if rules.charges_late_fees:
                cutoff = today - timedelta(days=rules.late_fee_days)
                plan += [(invoice_id, rules) for invoice_id in repo.late_fee_candidates(company.id, cutoff)]
    fees = [fee for invoice_id, rules in plan
            if (fee := _charge_late_fee(uow_factory, actor, invoice_id, rules, today)) is not None]
    return LateFeeResult(tuple(fees))


def _charge_late_fee(uow_factory: Callable[[], UnitOfWork], actor: Actor, invoice_id: int, rules: Rules,
                     today: date) -> LateFee | None:
    with uow_factory() as uow:
        repo = uow.delinquency
        if not repo.claim_late_fee(invoice_id, today):
            return None  # charged meanwhile (another desktop), paid, or voided
        invoice = repo.invoice(invoice_id)
        if invoice is None:
            return None
        balance_due = invoice.total - invoice.paid
        amount = rules.late_fee_for(balance_due)
        if amount <= 0:
            return None  # a zero fee is no fee: nothing is marked, so a corrected setting applies later
        currency = invoice.currency or rules.currency
        text = f"Late fee {format_minor(amount, currency)} on invoice {invoice.number}"
        # The fee joins the overdue invoice (a line, and its total), so paying that invoice pays
        # the fee too and the balance stays the sum of invoice totals minus payments.
        description = f"Late fee on invoice {invoice.number} (due {invoice.due_on.isoformat()})"
        position = max((line.position for line in repo.invoice_lines(invoice.id)), default=0) + 1
        uow.session.add(InvoiceLine(invoice_id=invoice.id, position=position, kind=LATE_FEE, description=description,
                                    unit_amount=amount, amount=amount, period_start=today, period_end=today))
        invoice.subtotal += amount
        invoice.total += amount
        repo.add_entry(LedgerEntry(
            account_id=invoice.account_id, kind=LATE_FEE, amount=amount, posted_on=today,
            description=description, invoice_id=invoice.id, created_by=actor.username[:60]))
        audit.record(uow.session, actor, ACCOUNT_ENTITY, invoice.account_id, LATE_FEE_ACTION, None, {
            "result": text,
            "payload": {"invoice": invoice.number, "amount": amount, "currency": currency,
                        "balance_due": balance_due, "kind": rules.late_fee_kind,
                        "rate": rules.late_fee_amount, "minimum": rules.late_fee_minimum,
                        "due_on": invoice.due_on, "applied_on": today},
        })
        uow.commit()
        return LateFee(invoice.id, invoice.number, invoice.account_id, amount, currency)


# -- delinquency -------------------------------------------------------------------------------

def run_delinquency(uow_factory: Callable[[], UnitOfWork], actor: Actor, today: date) -> DelinquencyResult:
    """The daily delinquency check: who becomes delinquent, whose status switches, who is
    restored. One transaction per account changed; safe to run again the same day."""
    actor.require(Permission.BILLING_RUN)
    _check_writable(uow_factory)
    with uow_factory() as uow:
        repo = uow.delinquency
        companies = [(c.id, c.name) for c in repo.companies()]
        rules = {cid: load_rules(repo, cid) for cid, _name in companies}
        reasons = {cid: rules[cid].skip_reason(today) for cid, _name in companies}
        candidates = set(repo.delinquent_account_ids())  # restores happen on any day
        for company_id, reason in reasons.items():
            if reason is None:
                cutoff = today - timedelta(days=rules[company_id].grace_days)
                candidates.update(repo.overdue_account_ids(company_id, cutoff))
    several = len(companies) > 1
    skipped = tuple(f"{name}: {reasons[cid]}" if several else str(reasons[cid])
                    for cid, name in companies if reasons[cid] is not None)
    counts = {DELINQUENT_ACTION: 0, SWITCHED_ACTION: 0, CLEARED_ACTION: 0}
    errors: list[str] = []
    for account_id in sorted(candidates):
        try:
            with uow_factory() as uow:
                changes = _check_account(uow, actor, account_id, today, rules, reasons)
                if changes:
                    uow.commit()
        except ConflictError as exc:  # the account was saved at this very moment: next run
            errors.append(f"account {account_id}: {exc}")
            continue
        for change in changes:
            counts[change] += 1
    return DelinquencyResult(
        today=today, ran=any(r is None for r in reasons.values()) or not companies,
        delinquent=counts[DELINQUENT_ACTION], switched=counts[SWITCHED_ACTION], restored=counts[CLEARED_ACTION],
        skipped=skipped, errors=tuple(errors))


def after_payment(uow: UnitOfWork, actor: Actor, account_id: int, today: date) -> bool:
    """Restore a delinquent account that the payment just made no longer qualify.

    Runs inside the caller's open unit of work (``take_payment``), after its ledger entry and
    invoice changes, and never commits: the restore commits, or rolls back, with the payment.
    Works on any day. True if the account was restored."""
    actor.require(Permission.BILLING_EDIT)
    repo = uow.delinquency
    billing = repo.lock_billing_account(account_id)
    if billing is None or billing.delinquent_since is None:
        return False
    account = repo.account(account_id)
    if account is None:
        return False
    rules = load_rules(repo, account.company_id)
    standing = _assess(repo, account, billing, rules, today)
    if standing.qualifies:
        return False
    _restore(uow, actor, account, billing, rules, standing)
    return True


@dataclass(frozen=True)
class _Standing:
    qualifies: bool
    invoice: Invoice | None  # the oldest open invoice past due + grace
    balance: int
    exempt: str  # why it can never be delinquent ("" if it can)


def _exemption(account: Account, billing: BillingAccount | None, rules: Rules, type_name: str,
               *, delinquent: bool) -> str:
    if billing is not None and billing.delinquency_excluded:
        return "the account is excluded from delinquency"
    if account.account_type_id in rules.excluded_type_ids:
        return f"{type_name or 'its'} accounts are excluded from delinquency"
    if not delinquent:  # a status this process set does not exempt it
        if account.disconnected_on is not None:
            return "the account is disconnected"
        if account.status is not None and not account.status.activates:
            return f"its status {account.status.name} is not billed"
    return ""


def _assess(repo: DelinquencyRepository, account: Account, billing: BillingAccount | None, rules: Rules,
            today: date) -> _Standing:
    delinquent = billing is not None and billing.delinquent_since is not None
    type_name = account.account_type.name if account.account_type else ""
    exempt = _exemption(account, billing, rules, type_name, delinquent=delinquent)
    balance = repo.balance(account.id)
    invoice = repo.oldest_open_invoice(account.id, due_before=today - timedelta(days=rules.grace_days))
    qualifies = not exempt and invoice is not None and balance > rules.minimum_balance
    return _Standing(qualifies, invoice, balance, exempt)


def _check_account(uow: UnitOfWork, actor: Actor, account_id: int, today: date, rules: dict[int, Rules],
                   reasons: dict[int, str | None]) -> tuple[str, ...]:
    repo = uow.delinquency
    billing = repo.lock_billing_account(account_id)
    account = repo.account(account_id)
    if account is None:
        return ()
    company_rules = rules.get(account.company_id) or load_rules(repo, account.company_id)
    checking = reasons.get(account.company_id, company_rules.skip_reason(today)) is None
    delinquent = billing is not None and billing.delinquent_since is not None
    standing = _assess(repo, account, billing, company_rules, today)
    if delinquent and not standing.qualifies:
        assert billing is not None
        _restore(uow, actor, account, billing, company_rules, standing)
        return (CLEARED_ACTION,)
    if not checking:
        return ()
    changes: list[str] = []
    if not delinquent:
        if not standing.qualifies:
            return ()
        billing = billing or repo.add_billing_account(account_id)
        _make_delinquent(uow, actor, account, billing, company_rules, standing, today)
        changes.append(DELINQUENT_ACTION)
    assert billing is not None and billing.delinquent_since is not None
    switch_on = billing.delinquent_since + timedelta(days=company_rules.status_switch_days)
    if company_rules.switch_status_id is not None and billing.status_switched_on is None and switch_on <= today:
        _switch(uow, actor, account, billing, company_rules, today)
        changes.append(SWITCHED_ACTION)
    return tuple(changes)


def _set_status(uow: UnitOfWork, actor: Actor, account: Account, status_id: int | None) -> tuple[str, str]:
    """Switch the account's status (its version moves); (old name, new name)."""
    old = account.status.name if account.status else ""
    status = uow.delinquency.status(status_id)
    if status is None or status.id == account.status_id:
        return old, old
    account.status = status
    account.updated_at = utcnow()
    account.updated_by_id = actor.user_id
    return old, status.name


def _status_words(old: str, new: str) -> str:
    return f"status {old} → {new}" if old != new else f"status stays {old}"


def _make_delinquent(uow: UnitOfWork, actor: Actor, account: Account, billing: BillingAccount, rules: Rules,
                     standing: _Standing, today: date) -> None:
    invoice = standing.invoice
    assert invoice is not None
    billing.delinquent_since = today
    billing.status_switched_on = None
    billing.status_before_delinquency_id = account.status_id
    old, new = _set_status(uow, actor, account, rules.delinquent_status_id)
    balance = format_minor(standing.balance, rules.currency)
    days = rules.grace_days
    reason = (f"Invoice {invoice.number} (due {invoice.due_on.isoformat()}) unpaid after {days} grace "
              f"day{'s' if days != 1 else ''}; balance {balance}")
    emit(uow.session, NETWORK, THROTTLE, account.id, reason=reason, invoice=invoice.number,
         balance=standing.balance, since=today.isoformat())
    audit.record(uow.session, actor, ACCOUNT_ENTITY, account.id, DELINQUENT_ACTION, None, {
        "result": f"{reason}: {_status_words(old, new)}; network access throttled.",
        "payload": {"status": [old, new], "delinquent_since": today, "invoice": invoice.number,
                    "due_on": invoice.due_on, "balance": standing.balance, "minimum": rules.minimum_balance,
                    "network": THROTTLE},
    })


def _switch(uow: UnitOfWork, actor: Actor, account: Account, billing: BillingAccount, rules: Rules,
            today: date) -> None:
    since = billing.delinquent_since
    assert since is not None
    billing.status_switched_on = today
    old, new = _set_status(uow, actor, account, rules.switch_status_id)
    days = (today - since).days
    reason = f"Delinquent for {days} day{'s' if days != 1 else ''} (since {since.isoformat()})"
    emit(uow.session, NETWORK, DISCONNECT, account.id, reason=reason, status=new, since=since.isoformat())
    audit.record(uow.session, actor, ACCOUNT_ENTITY, account.id, SWITCHED_ACTION, None, {
        "result": f"{reason}: {_status_words(old, new)}; network access cut.",
        "payload": {"status": [old, new], "status_switched_on": today, "delinquent_since": since,
                    "network": DISCONNECT},
    })


def _restore(uow: UnitOfWork, actor: Actor, account: Account, billing: BillingAccount, rules: Rules,
             standing: _Standing) -> None:
    since = billing.delinquent_since
    ours = {rules.delinquent_status_id, rules.switch_status_id} - {None}
    before_id = billing.status_before_delinquency_id
    if before_id is not None and account.status_id in ours:
        old, new = _set_status(uow, actor, account, before_id)
        status_text = _status_words(old, new)
    else:
        old = new = account.status.name if account.status else ""
        changed = before_id is not None and account.status_id != before_id
        status_text = f"status stays {old}" + (" (changed by hand meanwhile)" if changed else "")
    billing.delinquent_since = None
    billing.status_switched_on = None
    billing.status_before_delinquency_id = None
    if standing.exempt:
        reason = standing.exempt[0].upper() + standing.exempt[1:]
    elif standing.invoice is None:
        reason = "No invoice past due any more"
    else:
        reason = (f"Balance {format_minor(standing.balance, rules.currency)} is at or below the "
                  f"{format_minor(rules.minimum_balance, rules.currency)} minimum")
    emit(uow.session, NETWORK, RESTORE, account.id, reason=reason, status=new)
    audit.record(uow.session, actor, ACCOUNT_ENTITY, account.id, CLEARED_ACTION, None, {
        "result": f"{reason}: {status_text}; network access restored.",
        "payload": {"status": [old, new], "delinquent_since": since, "balance": standing.balance,
                    "network": RESTORE},
    })


# -- reading: the overview and an account's dates ----------------------------------------------

def delinquency_overview(uow: UnitOfWork, actor: Actor, today: date) -> list[DelinquentRow]:
    """Every delinquent account and every account with an invoice past due: where it stands and
    what happens next, when. Worst first: switched, delinquent, overdue, then the exempt."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        repo = uow.delinquency
        rules = _RulesCache(repo)
        oldest = repo.oldest_overdue(today)
        ids = set(oldest) | set(repo.delinquent_account_ids())
        balances = repo.balances(ids)
        rows = [_overview_row(account, billing, rules[account.company_id], balances.get(account.id, 0),
                              oldest.get(account.id), today)
                for account, billing in repo.accounts_with_billing(ids)]
    rows.sort(key=lambda r: (STAGE_ORDER[r.stage], r.next_on or date.max, r.invoice_due_on or date.max, r.number))
    return rows


def _overview_row(account: Account, billing: BillingAccount | None, rules: Rules, balance: int,
                  invoice: Invoice | None, today: date) -> DelinquentRow:
    since = billing.delinquent_since if billing is not None else None
    type_name = account.account_type.name if account.account_type else ""
    exempt = _exemption(account, billing, rules, type_name, delinquent=since is not None)
    past_grace = invoice is not None and invoice.due_on < today - timedelta(days=rules.grace_days)
    next_on: date | None = None
    kind = ""
    if since is not None:
        switched = billing.status_switched_on if billing is not None else None
        stage = SWITCHED if switched else DELINQUENT
        if exempt or not past_grace or balance <= rules.minimum_balance:
            step, kind = "restored at the next check (no longer qualifies)", NEXT_RESTORE
            next_on = today
        elif switched:
            step = f"status {account.status.name} since {switched.isoformat()}; restored when paid"
        elif rules.switch_status_id is not None:
            next_on = rules.next_check_day(max(since + timedelta(days=rules.status_switch_days), today))
            step = (f"status switches to {rules.switch_status} on {next_on.isoformat()}" if next_on
                    else f"status would switch to {rules.switch_status}, but no weekday is checked")
            kind = NEXT_SWITCH if next_on else ""
        else:
            step = "restored when paid (no status switch set)"
    else:
        stage = OVERDUE
        if exempt:
            stage, step = EXEMPT, f"never delinquent: {exempt}"
        elif balance <= rules.minimum_balance:
            stage = EXEMPT
            step = (f"not delinquent: balance at or below the "
                    f"{format_minor(rules.minimum_balance, rules.currency)} minimum")
        else:
            assert invoice is not None
            next_on = rules.next_check_day(max(invoice.due_on + timedelta(days=rules.grace_days + 1), today))
            step = (f"delinquent on {next_on.isoformat()} if unpaid" if next_on
                    else "never delinquent: no weekday is checked")
            kind = NEXT_DELINQUENT if next_on else ""
    return DelinquentRow(
        account_id=account.id, number=account.number, name=account.name, balance=balance,
        currency=rules.currency, invoice_number=invoice.number if invoice else "",
        invoice_due_on=invoice.due_on if invoice else None, delinquent_since=since,
        status=account.status.name if account.status else "",
        status_colour=account.status.colour if account.status else "#808080",
        stage=stage, next_step=step, next_on=next_on, next_kind=kind, switch_status=rules.switch_status)


def overview_counts(rows: Iterable[DelinquentRow], today: date) -> str:
    """The line above the table: "12 delinquent · 3 will be suspended this week · 5 overdue"."""
    rows = list(rows)
    week_end = today + timedelta(days=6)
    delinquent = [r for r in rows if r.stage in (DELINQUENT, SWITCHED)]
    parts = [f"{len(delinquent)} delinquent"] if delinquent else []
    switched: dict[str, int] = {}
    soon: dict[str, int] = {}
    for r in rows:
        if r.stage == SWITCHED:
            switched[r.status.lower()] = switched.get(r.status.lower(), 0) + 1
        if r.next_kind == NEXT_SWITCH and r.next_on is not None and r.next_on <= week_end:
            soon[r.switch_status.lower()] = soon.get(r.switch_status.lower(), 0) + 1
    parts += [f"{n} {name}" for name, n in switched.items()]
    parts += [f"{n} will be {name} this week" for name, n in soon.items()]
    overdue = sum(1 for r in rows if r.stage == OVERDUE)
    if overdue:
        parts.append(f"{overdue} overdue")
    return " · ".join(parts)


def upcoming_dates(uow: UnitOfWork, actor: Actor, account_id: int, today: date) -> UpcomingDates:
    """The account's next late fee, delinquency and status switch dates (if nothing is paid)."""
    actor.require(Permission.BILLING_VIEW)
    with uow:
        repo = uow.delinquency
        account = repo.account(account_id)
        if account is None:
            raise NotFound("That account no longer exists.")
        rules = load_rules(repo, account.company_id)
        billing = repo.billing_account(account_id)
        since = billing.delinquent_since if billing is not None else None
        switched = billing.status_switched_on if billing is not None else None
        invoices = repo.open_invoices(account_id)
        balance = repo.balance(account_id)

        late_fee_on, late_fee_invoice = None, ""
        if rules.charges_late_fees:
            pending = [i for i in invoices if i.late_fee_applied_on is None]
            if pending:
                first = min(pending, key=lambda i: (i.due_on, i.id))
                late_fee_on = max(first.due_on + timedelta(days=rules.late_fee_days), today)
                late_fee_invoice = first.number

        delinquent_on = switch_on = None
        type_name = account.account_type.name if account.account_type else ""
        exempt = _exemption(account, billing, rules, type_name, delinquent=since is not None)
        if since is None and not exempt and invoices and balance > rules.minimum_balance:
            threshold = invoices[0].due_on + timedelta(days=rules.grace_days + 1)
            delinquent_on = rules.next_check_day(max(threshold, today))
        start = since or delinquent_on
        if rules.switch_status_id is not None and start is not None and switched is None:
            switch_on = rules.next_check_day(max(start + timedelta(days=rules.status_switch_days), today))
        return UpcomingDates(late_fee_on, late_fee_invoice, delinquent_on, since, switch_on, switched,
                             rules.switch_status)


# -- helpers -----------------------------------------------------------------------------------

def _check_writable(uow_factory: Callable[[], UnitOfWork]) -> None:
    probe = uow_factory()
    if probe.db.read_only_reason:
        raise ReadOnlyDatabase(probe.db.read_only_reason)

