"""What each client's pages show, computed once per build from the ledger: no rendering here."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

from notifier import money
from notifier.books import schema
from notifier.books.load import Books
from notifier.books.payment_links import Link, current_links
from notifier.ledger.fees import annual_rate
from notifier.ledger.plans import PlanOption
from notifier.ledger.state import EarlyDiscount, InvoiceState, Status
from notifier.ledger.totals import Totals
from notifier.portal import addresses
from notifier.portal.addresses import Secret

STATEMENT_DAYS = 365
STRIPE_LINK_HOSTS = {"buy.stripe.com"}


@dataclass(frozen=True)
class Step:
    """One step of "what happens next": on `on`, `stage` (a final notice gives until `deadline`)."""

    on: date
    stage: schema.Stage
    deadline: date | None


@dataclass(frozen=True)
class PayLink:
    """A Stripe Payment Link to pay `target` (`full` or `PLAN#N`) of `amount` minor units."""

    target: str
    plan: str
    instalment: int | None
    url: str
    amount: int | None


@dataclass(frozen=True)
class StatementLine:
    on: date
    what: str  # "invoice", "payment", "refund", "deposit", "discount"
    reference: str
    amount: int  # positive: owed more; negative: paid


@dataclass(frozen=True)
class Statement:
    currency: str
    since: date
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int


@dataclass(frozen=True)
class InvoiceView:
    state: InvoiceState
    page: str  # file name within the client's folder
    pdf: str
    ics: str
    reference: str  # what to write on a bank transfer
    steps: tuple[Step, ...]
    pay_links: tuple[PayLink, ...]
    bank_accounts: tuple[schema.BankAccount, ...]
    payments: tuple[schema.Payment, ...]
    interest_rate: Decimal  # the annual late-payment rate, in percent
    pay_now: int  # what to send now: the rest of the next instalment on a plan, else the balance

    @property
    def number(self) -> str:
        return self.state.invoice.number

    def links_for(self, option: PlanOption) -> tuple[PayLink, ...]:
        return tuple(link for link in self.pay_links if link.plan == option.id)


@dataclass(frozen=True)
class InvoiceDocument:
    """What an invoice's PDF shows: the invoice as issued, what was paid of it and what is owed on
    it, without what moves with the day alone (days overdue, interest so far, the reminders to come,
    which the page shows). A client keeps the PDF for their books; and it stays the same from one
    day to the next until something happens to the invoice (a payment, a late fee, a promise, a
    change of status), so a daily build prints again only the PDFs of those invoices."""

    invoice: schema.Invoice
    status: Status
    totals: Totals
    due_date: date  # the invoice's own, whether or not a plan spreads it
    paid: int
    discount_taken: int
    fees: int
    interest: int  # late interest settled; what accrues on an unpaid invoice is on its page
    owed: int  # what is owed before interest still accruing
    interest_rate: Decimal  # what an unpaid invoice bears a year once late (0: none)
    early_discount: EarlyDiscount | None
    plan: PlanOption | None  # the plan the client chose
    payments: tuple[schema.Payment, ...]

    @property
    def currency(self) -> str:
        return self.totals.currency


def invoice_document(view: InvoiceView) -> InvoiceDocument:
    """The PDF's view of an invoice (see `InvoiceDocument`)."""
    state = view.state
    accruing = state.status.is_open or state.status is Status.DISPUTED
    return InvoiceDocument(
        invoice=state.invoice,
        status=state.status,
        totals=state.totals,
        due_date=state.terms.due_date,
        paid=state.paid,
        discount_taken=state.discount_taken,
        fees=state.fees,
        interest=0 if accruing else state.interest,
        owed=state.balance - state.interest if accruing else state.balance,
        interest_rate=view.interest_rate if accruing else Decimal(0),
        early_discount=state.early_discount,
        plan=state.active_plan,
        payments=view.payments,
    )


@dataclass(frozen=True)
class ClientView:
    client: schema.Client
    token: str
    locale: str
    open: tuple[InvoiceView, ...]
    settled: tuple[InvoiceView, ...]
    owed: tuple[tuple[str, int], ...]  # (currency, minor units) per currency with something owed
    statements: tuple[Statement, ...]
    email: str | None

    @property
    def folder(self) -> str:
        return addresses.client_page(self.token)

    @property
    def invoices(self) -> tuple[InvoiceView, ...]:
        return self.open + self.settled


def client_views(
    books: Books, states: dict[str, InvoiceState], secret: Secret, as_of: date
) -> list[ClientView]:
    """A view per client with at least one issued invoice, in the books' order."""
    assert books.settings is not None
    settings = books.settings
    by_client: dict[str, list[InvoiceState]] = defaultdict(list)
    for state in states.values():
        if state.status is not Status.DRAFT:
            by_client[state.client.id].append(state)
    payments: dict[str, list[schema.Payment]] = defaultdict(list)
    for payment in books.payments:
        if payment.date <= as_of:
            payments[payment.invoice].append(payment)
    links = current_links(books)
    views = []
    for client_id, client_states in by_client.items():
        client = books.clients[client_id]
        email = next((c.email for c in client.contacts if c.email), None)
        invoices = [
            _invoice_view(
                settings,
                state,
                payments[state.invoice.number],
                links.get(state.invoice.number, {}),
                email,
            )
            for state in sorted(
                client_states, key=lambda s: (s.invoice.issue_date, s.invoice.number)
            )
        ]
        owed: dict[str, int] = defaultdict(int)
        for view in invoices:
            if view.state.status.is_open or view.state.status is Status.DISPUTED:
                owed[view.state.currency] += view.state.balance
        views.append(
            ClientView(
                client=client,
                token=addresses.client_token(secret, client.id, client.page_rotation),
                locale=client.locale or settings.business.locale,
                open=tuple(
                    v for v in invoices if v.state.balance > 0 and v.state.status is not Status.VOID
                ),
                settled=tuple(
                    v for v in invoices if v.state.balance == 0 or v.state.status is Status.VOID
                ),
                owed=tuple(sorted(owed.items())),
                statements=_statements(client_states, payments, as_of),
                email=email,
            )
        )
    return views


def _invoice_view(
    settings: schema.Settings,
    state: InvoiceState,
    payments: list[schema.Payment],
    links: dict[str, Link],
    email: str | None,
) -> InvoiceView:
    number = state.invoice.number
    reference = client_reference(number)
    accounts = [a for a in settings.business.bank_accounts if a.currency == state.currency]
    accounts = accounts or [a for a in settings.business.bank_accounts if a.currency is None]
    return InvoiceView(
        state=state,
        page=f"{number}.html",
        pdf=f"{number}.pdf",
        ics=f"{number}.ics",
        reference=number,
        steps=next_steps(settings, state),
        pay_links=tuple(_pay_link(link, reference, email) for _, link in sorted(links.items())),
        bank_accounts=tuple(accounts),
        payments=tuple(sorted(payments, key=lambda p: (p.date, p.id))),
        interest_rate=annual_rate(state.terms.late_payment),
        pay_now=_pay_now(state),
    )


def _pay_now(state: InvoiceState) -> int:
    """On a plan, what is left of the instalments due up to the next one; otherwise the balance."""
    plan, upcoming = state.active_plan, state.next_instalment
    if plan is None or upcoming is None:
        return state.balance
    due_so_far = sum(i.amount for i in plan.instalments if i.number <= upcoming.number)
    paid = state.paid - state.totals.deposit
    return min(state.balance, due_so_far - paid + state.fees + state.interest)


def client_reference(number: str) -> str:
    """The invoice number as Stripe accepts a `client_reference_id`: letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", number)[:200]


def _pay_link(link: Link, reference: str, email: str | None) -> PayLink:
    url = link.url
    if urlsplit(url).hostname in STRIPE_LINK_HOSTS:
        # Stripe reads these from the address: the payment arrives named, the form prefilled.
        parameters = {"client_reference_id": reference}
        if email:
            parameters["prefilled_email"] = email
        url += ("&" if "?" in url else "?") + urlencode(parameters)
    plan, _, number = link.target.partition("#")
    return PayLink(link.target, plan, int(number) if number else None, url, link.amount)


def next_steps(settings: schema.Settings, state: InvoiceState) -> tuple[Step, ...]:
    """The stages still to come for this invoice, with their dates, as the policy stands today."""
    reminder = state.next_reminder
    if reminder is None:
        return ()
    stages = settings.policies.get(state.client.policy or settings.reminders.policy, [])
    names = [stage.name for stage in stages]
    start = names.index(reminder.stage.name)
    steps = []
    previous = reminder.on
    for index, stage in enumerate(stages[start:]):
        on = (
            reminder.on if index == 0 else max(state.due_date + timedelta(days=stage.day), previous)
        )
        deadline = on + timedelta(days=stage.deadline_days) if stage.deadline_days else None
        steps.append(Step(on, stage, deadline))
        previous = on
    return tuple(steps)


def _statements(
    states: list[InvoiceState], payments: dict[str, list[schema.Payment]], as_of: date
) -> tuple[Statement, ...]:
    """One statement per currency over the last year: invoices, payments, refunds, discounts."""
    since = as_of - timedelta(days=STATEMENT_DAYS)
    entries: dict[str, list[StatementLine]] = defaultdict(list)
    for state in states:
        if state.status is Status.VOID:
            continue
        invoice = state.invoice
        lines = entries[state.currency]
        lines.append(
            StatementLine(invoice.issue_date, "invoice", invoice.number, state.totals.total)
        )
        if invoice.deposit is not None:
            lines.append(
                StatementLine(
                    invoice.deposit.date, "deposit", invoice.number, -state.totals.deposit
                )
            )
        for payment in payments[invoice.number]:
            amount = money.to_minor(payment.amount, state.currency)
            if payment.kind == "payment":
                lines.append(StatementLine(payment.date, "payment", invoice.number, -amount))
            else:
                lines.append(StatementLine(payment.date, "refund", invoice.number, amount))
        if state.discount_taken:
            last = max(p.date for p in payments[invoice.number])
            lines.append(StatementLine(last, "discount", invoice.number, -state.discount_taken))
    statements = []
    for currency, lines in sorted(entries.items()):
        lines.sort(key=lambda line: (line.on, line.what != "invoice", line.reference))
        opening = sum(line.amount for line in lines if line.on < since)
        shown = tuple(line for line in lines if line.on >= since)
        statements.append(
            Statement(currency, since, opening, shown, opening + sum(line.amount for line in shown))
        )
    return tuple(statements)
