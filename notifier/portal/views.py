"""What each client's pages show: the account of the day, laid out per page. No figure is worked
out here: amounts, ways to pay and next steps are the account's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from notifier import addresses
from notifier.account import (
    Account,
    ClientAccount,
    CreditUse,
    EarlyDiscount,
    InvoiceAccount,
    InvoiceState,
    PayLink,
    PayOption,
    PlanOption,
    Reduction,
    Status,
    Step,
    Totals,
    add_months,
    signed_minor,
)
from notifier.addresses import Secret
from notifier.books import schema
from notifier.documents.credit_note import credit_note_file, credit_notes_of
from notifier.documents.receipt import receipt_file, receipts_of

STATEMENT_MONTHS = 12  # a statement begins on the first day of the month this many months ago


@dataclass(frozen=True)
class StatementLine:
    on: date
    what: str  # "invoice", "payment", "refund", "deposit", "discount", "credit note", "write-off"
    reference: str  # the invoice's number
    amount: int  # positive: owed more; negative: paid
    document: str = ""  # a credit note's own number
    file: str = ""  # its PDF, beside the client's page


@dataclass(frozen=True)
class Statement:
    """A statement over whole months (it begins on the first day of a month), so it reads the same
    every day of a month in which nothing happens; its closing balance is dated by its last line."""

    currency: str
    since: date
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int

    @property
    def closed(self) -> date:
        """The day of the closing balance: the last line's (nothing after it changed the balance)."""
        return self.lines[-1].on if self.lines else self.since


@dataclass(frozen=True)
class InvoiceView:
    """An invoice's page: its account, and the names of its files."""

    account: InvoiceAccount
    page: str  # file name within the client's folder
    pdf: str
    ics: str

    @property
    def state(self) -> InvoiceState:
        return self.account.state

    @property
    def number(self) -> str:
        return self.account.number

    @property
    def reference(self) -> str:
        return self.account.reference

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.account.steps

    @property
    def ways(self) -> tuple[PayOption, ...]:
        return self.account.ways

    @property
    def bank_accounts(self) -> tuple[schema.BankAccount, ...]:
        return self.account.bank_accounts

    @property
    def payments(self) -> tuple[schema.Payment, ...]:
        return self.account.payments

    @property
    def interest_rate(self) -> Decimal:
        return self.account.interest_rate

    @property
    def pay_now(self) -> int:
        return self.account.pay_now

    @property
    def receipts(self) -> dict[str, str]:
        """The receipt (its PDF's file name) of each payment received, by the payment's id."""
        return {p.id: receipt_file(self.number, p) for p in receipts_of(self.account)}

    @property
    def credit_note_files(self) -> dict[str, str]:
        """The PDF of each credit note in force, by its number."""
        return {n.number: credit_note_file(n.number) for n, _ in credit_notes_of(self.account)}


@dataclass(frozen=True)
class InvoiceDocument:
    """What an invoice's PDF shows: the invoice as issued, what was paid of it and what is owed on
    it today, without what only the page shows (days overdue, the reminders to come). Interest is
    claimed once a month, so what is owed holds from one claim day to the next: the PDF stays the
    same until something happens to the invoice (a payment, a fee, a month's interest, a change of
    status), and a daily build prints again only the PDFs of those invoices."""

    invoice: schema.Invoice
    status: Status
    totals: Totals
    due_date: date  # the invoice's own, whether or not a plan spreads it
    paid: int
    discount_taken: int
    fees: int
    interest: int  # late interest claimed so far
    owed: int  # what is owed on it: the account's, to the minor unit
    interest_rate: Decimal  # what an unpaid invoice bears a year once late (0: none)
    interest_next: date | None  # when interest is next claimed, while it accrues
    early_discount: EarlyDiscount | None
    plan: PlanOption | None  # the plan the client chose
    payments: tuple[schema.Payment, ...]
    reductions: tuple[Reduction, ...] = ()  # credit notes, the write-off, credit used
    overpaid: int = 0  # paid beyond it: the client's credit
    credit_out: tuple[CreditUse, ...] = ()  # where that credit went

    @property
    def currency(self) -> str:
        return self.totals.currency


def invoice_document(view: InvoiceView) -> InvoiceDocument:
    """The PDF's view of an invoice (see `InvoiceDocument`)."""
    account = view.account
    state = account.state
    accruing = state.status.is_open or state.status is Status.DISPUTED
    return InvoiceDocument(
        invoice=state.invoice,
        status=state.status,
        totals=state.totals,
        due_date=state.terms.due_date,
        paid=state.paid,
        discount_taken=state.discount_taken,
        fees=account.owed.fees if accruing else state.fees,
        interest=account.owed.interest if accruing else state.interest,
        owed=account.owed.total,
        interest_rate=account.interest_rate if accruing else Decimal(0),
        interest_next=account.interest_next,
        early_discount=state.early_discount,
        plan=state.active_plan,
        payments=account.payments,
        reductions=state.reductions,
        overpaid=state.overpaid,
        credit_out=state.credit_out,
    )


@dataclass(frozen=True)
class PayAll:
    """One bank transfer of everything a client owes in `currency`: `amount`, with the client's
    statement reference, to one of `bank_accounts`."""

    currency: str
    amount: int
    reference: str | None
    bank_accounts: tuple[schema.BankAccount, ...]
    card: PayLink | None = None  # the statement's card link, while it charges `amount`


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
    pay_all: tuple[PayAll, ...] = ()  # per currency, with two or more open invoices
    credit: tuple[tuple[str, int], ...] = ()  # (currency, minor units) of credit no invoice used

    @property
    def folder(self) -> str:
        return addresses.client_page(self.token)

    @property
    def invoices(self) -> tuple[InvoiceView, ...]:
        return self.open + self.settled


def client_views(
    account: Account, secret: Secret, reading: Callable[[str], str] | None = None
) -> list[ClientView]:
    """A view per client of `account` with at least one issued invoice, in the books' order;
    `reading` gives the locale a client's pages are in from theirs (see `languages`)."""
    return [
        _client_view(c, secret, account.as_of, reading)
        for c in account.clients.values()
        if c.issued
    ]


def _client_view(
    client: ClientAccount, secret: Secret, as_of: date, reading: Callable[[str], str] | None
) -> ClientView:
    invoices = [
        InvoiceView(i, f"{i.number}.html", f"{i.number}.pdf", f"{i.number}.ics")
        for i in client.issued
    ]
    return ClientView(
        client=client.client,
        token=addresses.client_token(secret, client.client.id, client.client.page_rotation),
        locale=client.locale if reading is None else reading(client.locale),
        open=tuple(
            v for v in invoices if v.account.owed.total > 0 and v.state.status is not Status.VOID
        ),
        settled=tuple(
            v for v in invoices if v.account.owed.total == 0 or v.state.status is Status.VOID
        ),
        owed=client.owed,
        statements=_statements(client.issued, as_of),
        email=client.email,
        pay_all=_pay_all(client),
        credit=client.credit,
    )


def _pay_all(client: ClientAccount) -> tuple[PayAll, ...]:
    """Per currency in which two or more invoices are open, one transfer for all of them."""
    reference = client.reference_grouped
    cards = dict(client.statement_links)
    found = []
    for currency, amount in client.pay_all:
        open_ = [i for i in client.invoices if i.status.is_open and i.currency == currency]
        banks = open_[0].bank_accounts if reference is not None and open_ else ()
        card = cards.get(currency)
        if len(open_) > 1 and (banks or card is not None):
            found.append(PayAll(currency, amount, reference, banks, card))
    return tuple(found)


def _statements(invoices: tuple[InvoiceAccount, ...], as_of: date) -> tuple[Statement, ...]:
    """One statement per currency over the last year (from the first day of the month a year ago):
    invoices, payments, refunds, discounts."""
    since = add_months(as_of.replace(day=1), -STATEMENT_MONTHS)
    entries: dict[str, list[StatementLine]] = defaultdict(list)
    for account in invoices:
        state = account.state
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
        for payment in account.payments:
            amount = -signed_minor(payment, state.currency)
            what = "payment" if payment.kind == "payment" else "refund"
            lines.append(StatementLine(payment.date, what, invoice.number, amount))
        if state.discount_taken:
            # Taken on the day of the last money in: a payment, or credit the client held.
            days = [p.date for p in account.payments]
            days += [r.on for r in state.reductions if r.kind == "credit"]
            last = max(days, default=invoice.issue_date)
            lines.append(StatementLine(last, "discount", invoice.number, -state.discount_taken))
        # Credit moved from one invoice to another is the client's own money, already a line.
        lines.extend(
            StatementLine(
                r.on,
                r.kind,
                invoice.number,
                -r.amount,
                r.reference,
                credit_note_file(r.reference) if r.kind == "credit note" else "",
            )
            for r in state.reductions
            if r.kind != "credit"
        )
    statements = []
    for currency, lines in sorted(entries.items()):
        lines.sort(key=lambda line: (line.on, line.what != "invoice", line.reference))
        opening = sum(line.amount for line in lines if line.on < since)
        shown = tuple(line for line in lines if line.on >= since)
        statements.append(
            Statement(currency, since, opening, shown, opening + sum(line.amount for line in shown))
        )
    return tuple(statements)
