"""The account of the day, as the outputs read it: per client, each invoice's figures, what is owed
and what to pay now, the ways to pay, the next reminder and the steps after it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from notifier.account.references import grouped
from notifier.books import schema
from notifier.books.translated import Translated
from notifier.ledger.plans import FULL, Instalment
from notifier.ledger.state import EarlyDiscount, InvoiceState, NextReminder, Status


@dataclass(frozen=True)
class Owed:
    """An amount owed, in minor units of the invoice's currency, by what it is for."""

    principal: int
    fees: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.fees + self.interest

    @property
    def charges(self) -> int:
        """Fees and interest."""
        return self.fees + self.interest


NOTHING = Owed(0, 0, 0)


@dataclass(frozen=True)
class PayLink:
    """A Stripe Payment Link that pays `target` (`full` or `PLAN#N`) of `amount` minor units."""

    target: str
    plan: str
    instalment: int | None
    url: str
    amount: int | None


@dataclass(frozen=True)
class PayOption:
    """A way to pay still valid today: in full, or by a plan. `amount` is what it asks now (in
    full: what settles the invoice today; a plan offered: its first instalment; the plan chosen:
    what is due on it now); `link`, a card link that charges exactly that, if the books have one."""

    id: str
    name: Translated  # the plan's, in the languages the books give (`formatting.name` picks)
    amount: int
    instalments: tuple[Instalment, ...]
    discount: EarlyDiscount | None  # in full, while the early-payment discount is on offer
    chosen: bool
    link: PayLink | None
    reference: str  # what to write on a bank transfer of `amount` (see account/references.py)

    @property
    def reference_grouped(self) -> str:
        return grouped(self.reference)


@dataclass(frozen=True)
class Step:
    """One step of "what happens next": on `on`, `stage` (a final notice gives until `deadline`)."""

    on: date
    stage: schema.Stage
    deadline: date | None


@dataclass(frozen=True)
class InvoiceAccount:
    state: InvoiceState  # the ledger's figures for the invoice
    owed: Owed  # everything owed on it today
    due_now: Owed  # what to pay now (see the module's rules)
    due_instalments: tuple[Instalment, ...]  # on a plan, the instalments `due_now` covers
    ways: tuple[PayOption, ...]
    reminder: NextReminder | None  # the next reminder, the client's spacing applied
    steps: tuple[Step, ...]
    payments: tuple[schema.Payment, ...]  # by date, up to the day
    interest_rate: Decimal  # a year, in percent, once late (0: none)
    interest_next: date | None  # when interest is next claimed, while it accrues
    bank_accounts: tuple[schema.BankAccount, ...]
    # What to write on a bank transfer: the invoice's RF reference, or its number if the business
    # turned RF off (account/references.py).
    reference: str

    @property
    def number(self) -> str:
        return self.state.invoice.number

    @property
    def reference_grouped(self) -> str:
        """The reference as people read it, in groups of four."""
        return grouped(self.reference)

    @property
    def settles(self) -> int:
        """What settles the invoice today: paid in full (less the discount on offer), else all
        that is owed."""
        full = next((way for way in self.ways if way.id == FULL and not way.chosen), None)
        return full.amount if full is not None else self.owed.total

    @property
    def currency(self) -> str:
        return self.state.currency

    @property
    def status(self) -> Status:
        return self.state.status

    @property
    def pay_now(self) -> int:
        """What to send now to settle what is due: the first way to pay's amount (in full, less
        the discount on offer; on a plan, what is due on it), else what is due now."""
        return self.ways[0].amount if self.ways else self.due_now.total

    @property
    def overdue_since(self) -> date | None:
        """The first day the money due now was late, if it is."""
        if self.due_now.total <= 0 or not self.state.days_overdue:
            return None
        first = self.due_instalments[0].due_date if self.due_instalments else self.state.due_date
        return first + timedelta(days=1)


@dataclass(frozen=True)
class ClientAccount:
    client: schema.Client
    locale: str
    email: str | None  # the first contact's address
    invoices: tuple[InvoiceAccount, ...]  # in the books' order, drafts included
    last_written: date | None  # the last day an email (not a thank-you) went to the client
    messages: tuple[schema.Message, ...]  # every record of a message or task, in the books' order
    reference: str | None  # one bank transfer of everything owed: its RF reference (None: RF off)
    # Credit no open invoice needed, per currency: what was paid beyond the invoices, kept for
    # the next one or refunded (see notifier.ledger.credit).
    credit: tuple[tuple[str, int], ...] = ()
    # Per currency, the card link for the whole statement, only while it charges exactly what
    # `statement_totals` asks today (`notifier links` keeps it so).
    statement_links: tuple[tuple[str, PayLink], ...] = ()

    @property
    def reference_grouped(self) -> str | None:
        return grouped(self.reference) if self.reference else None

    @property
    def pay_all(self) -> tuple[tuple[str, int], ...]:
        """Per currency, what one transfer sends to settle every open invoice today (each at what
        settles it: less an early-payment discount on offer)."""
        totals: dict[str, int] = defaultdict(int)
        for invoice in self.invoices:
            if invoice.status.is_open:
                totals[invoice.currency] += invoice.settles
        return tuple(sorted((c, m) for c, m in totals.items() if m > 0))

    @property
    def statement_totals(self) -> tuple[tuple[str, int], ...]:
        """`pay_all` in the currencies where two or more invoices are open: what one payment of
        the statement settles (a single open invoice is paid by its own ways)."""
        counts: dict[str, int] = defaultdict(int)
        for invoice in self.invoices:
            if invoice.status.is_open:
                counts[invoice.currency] += 1
        return tuple((c, m) for c, m in self.pay_all if counts[c] > 1)

    @property
    def issued(self) -> tuple[InvoiceAccount, ...]:
        """The invoices the client has been sent, by issue date."""
        found = [i for i in self.invoices if i.status is not Status.DRAFT]
        return tuple(sorted(found, key=lambda i: (i.state.invoice.issue_date, i.number)))

    @property
    def owed(self) -> tuple[tuple[str, int], ...]:
        """What the client owes today, per currency (disputed invoices included)."""
        totals: dict[str, int] = defaultdict(int)
        for invoice in self.invoices:
            if invoice.status.is_open or invoice.status is Status.DISPUTED:
                totals[invoice.currency] += invoice.owed.total
        return tuple(sorted((c, m) for c, m in totals.items() if m))

    @property
    def overdue(self) -> tuple[InvoiceAccount, ...]:
        """The open invoices with money late today."""
        return tuple(i for i in self.invoices if i.status.is_open and i.overdue_since)


@dataclass(frozen=True)
class Account:
    as_of: date
    clients: dict[str, ClientAccount]  # in the books' order
    numbers: tuple[str, ...]  # the numbers of the clients' invoices, in the books' order

    @cached_property
    def invoices(self) -> dict[str, InvoiceAccount]:
        """Every invoice of the account's clients, in the books' order."""
        found = {i.number: i for c in self.clients.values() for i in c.invoices}
        return {number: found[number] for number in self.numbers}
