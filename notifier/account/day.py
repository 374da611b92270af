"""The account of one day, per client: each invoice's figures from the ledger, what is owed now
split into principal, fees and interest, what to pay now, the ways to pay still valid today, the
next reminder and the steps after it. A pure function of the books and the date.

Rules it applies beyond the ledger's (docs/books.md, "What a page asks"):
- What to pay now is, on a plan, every instalment due by today and at least the next one, with the
  fees and interest; otherwise everything owed.
- Pay in full asks what settles the invoice today: less the early-payment discount while it is on
  offer. A plan is offered only while its whole schedule lies ahead (its first instalment is not
  yet late), nothing was paid outside it, and no plan was chosen; once one is, what is due on it
  is the way to pay.
- A card link is shown only when it charges exactly what its way to pay asks today.
- A client is written to at most once in any `SPACING_DAYS` days (thank-yous aside): a reminder
  due sooner waits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from notifier.books import schema
from notifier.books.load import Books
from notifier.books.payment_links import Link, current_links
from notifier.ledger.fees import annual_rate, next_interest_day
from notifier.ledger.plans import FULL, Instalment, PlanOption
from notifier.ledger.state import (
    NOT_SENT,
    EarlyDiscount,
    History,
    InvoiceState,
    NextReminder,
    Status,
    history,
    ledger,
    may_be_open,
    not_sent,
    signed_minor,
)
from notifier.ledger.totals import Totals

__all__ = [
    "FULL",
    "NOT_SENT",
    "EarlyDiscount",
    "History",
    "Instalment",
    "InvoiceState",
    "NextReminder",
    "PlanOption",
    "Status",
    "Totals",
    "history",
    "not_sent",
    "signed_minor",
]

SPACING_DAYS = 3  # a client gets at most one email (thank-yous aside) in any this many days
STRIPE_LINK_HOSTS = {"buy.stripe.com"}
_WRITTEN = {"sending", "sent"}  # an email in either state may have reached the client


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
    name: str
    amount: int
    instalments: tuple[Instalment, ...]
    discount: EarlyDiscount | None  # in full, while the early-payment discount is on offer
    chosen: bool
    link: PayLink | None


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

    @property
    def number(self) -> str:
        return self.state.invoice.number

    @property
    def reference(self) -> str:
        """What to write on a bank transfer."""
        return self.state.invoice.number

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

    @cached_property
    def states(self) -> dict[str, InvoiceState]:
        return {number: invoice.state for number, invoice in self.invoices.items()}


def account_of(
    books: Books,
    as_of: date,
    clients: Iterable[str] | None = None,
    *,
    known: History | None = None,
    reminders_only: bool = False,
) -> Account:
    """The account of `as_of` for every client (or those of `clients`); `known` is
    `history(books, as_of)` if already worked out. With `reminders_only`, the clients' invoices
    are only those a run of reminders reads (see `_read_by_reminders`): not those certainly
    settled long ago. Assumes `check` found no errors."""
    settings = books.settings
    assert settings is not None
    wanted = list(books.clients) if clients is None else list(clients)
    chosen = set(wanted)
    mine = [i for i in books.invoices.values() if i.client in chosen]
    known = known if known is not None else history(books, as_of)
    if reminders_only:
        mine = _read_by_reminders(books, as_of, mine, known)
    states = ledger(books, as_of, mine, known=known)
    links = current_links(books)
    messages: dict[str, list[schema.Message]] = defaultdict(list)
    for message in books.messages:
        if message.client in chosen:
            messages[message.client].append(message)
    written = {c: _last_written(settings, found, as_of) for c, found in messages.items()}
    by_client: dict[str, list[InvoiceAccount]] = {client: [] for client in wanted}
    emails = {c: _first_email(books.clients[c]) for c in wanted}
    for number, state in states.items():
        client = state.client.id
        by_client[client].append(
            _invoice_account(
                settings,
                state,
                known.payments.get(number, ()),
                links.get(number, {}),
                emails[client],
                as_of,
            )
        )
    return Account(
        as_of,
        {
            c: ClientAccount(
                books.clients[c],
                books.clients[c].locale or settings.business.locale,
                emails[c],
                _spaced(by_client[c], written.get(c), as_of),
                written.get(c),
                tuple(messages.get(c, ())),
            )
            for c in wanted
        },
        tuple(states),
    )


def _read_by_reminders(
    books: Books, as_of: date, invoices: list[schema.Invoice], known: History
) -> list[schema.Invoice]:
    """Of `invoices`, those a run of reminders reads: each that may be open on `as_of` (most of
    the books are paid, void or drafts: their ledger is not worked out), and each with a payment
    the thank-you window may hold (a thank-you says how its invoice stands)."""
    assert books.settings is not None
    since = as_of - timedelta(days=books.settings.reminders.thanks_within_days + 1)
    thanked = {
        payment.invoice
        for payment in books.payments
        if payment.date >= since or (payment.recorded and payment.recorded.date() >= since)
    }
    maybe = {i.number for i in may_be_open(books, as_of, invoices, known=known)}
    return [i for i in invoices if i.number in maybe or i.number in thanked]


def _invoice_account(
    settings: schema.Settings,
    state: InvoiceState,
    payments: Iterable[schema.Payment],
    links: dict[str, Link],
    email: str | None,
    as_of: date,
) -> InvoiceAccount:
    owed = _owed(state)
    due_now, instalments = _due_now(state, owed, as_of)
    late = state.terms.late_payment
    rate = annual_rate(late) if not state.invoice.waive_fees else Decimal(0)
    accruing = state.status.is_open and state.days_overdue > 0 and rate > 0
    pay_links = {
        target: _pay_link(link, state.invoice.number, email) for target, link in links.items()
    }
    reminder = state.next_reminder
    accounts = [a for a in settings.business.bank_accounts if a.currency == state.currency]
    accounts = accounts or [a for a in settings.business.bank_accounts if a.currency is None]
    return InvoiceAccount(
        state=state,
        owed=owed,
        due_now=due_now,
        due_instalments=instalments,
        ways=_ways(state, owed, due_now, instalments, pay_links, as_of),
        reminder=reminder,
        steps=_steps(settings, state, reminder),
        payments=tuple(sorted(payments, key=lambda p: (p.date, p.id))),
        interest_rate=rate,
        interest_next=next_interest_day(late, state.terms.due_date, as_of) if accruing else None,
        bank_accounts=tuple(accounts),
    )


def _owed(state: InvoiceState) -> Owed:
    if state.balance <= 0:
        return NOTHING
    return Owed(state.balance - state.fees - state.interest, state.fees, state.interest)


def _due_now(state: InvoiceState, owed: Owed, as_of: date) -> tuple[Owed, tuple[Instalment, ...]]:
    """What to pay now, and on a plan the instalments it covers: every one due by `as_of`, and at
    least the next."""
    plan, upcoming = state.active_plan, state.next_instalment
    if owed.total <= 0 or plan is None or upcoming is None:
        return owed, ()
    late = [i.number for i in plan.instalments if i.due_date <= as_of]
    through = max([upcoming.number, *late])
    covered = tuple(i for i in plan.instalments if upcoming.number <= i.number <= through)
    due_so_far = sum(i.amount for i in plan.instalments if i.number <= through)
    paid = state.paid - state.totals.deposit
    principal = max(0, min(owed.principal, due_so_far - paid))
    return Owed(principal, owed.fees, owed.interest), covered


def _ways(
    state: InvoiceState,
    owed: Owed,
    due_now: Owed,
    instalments: tuple[Instalment, ...],
    links: dict[str, PayLink],
    as_of: date,
) -> tuple[PayOption, ...]:
    """The ways to pay still valid on `as_of` (see the module's rules)."""
    if not state.status.is_open or owed.total <= 0:
        return ()

    def option(
        plan: PlanOption, target: str, amount: int, early: EarlyDiscount | None = None
    ) -> PayOption:
        link = links.get(target)
        valid = link if link is not None and link.amount == amount else None
        chosen = plan is state.active_plan
        return PayOption(plan.id, plan.name, amount, plan.instalments, early, chosen, valid)

    active = state.active_plan
    if active is not None:
        first = instalments[0].number if instalments else 1
        return (option(active, f"{active.id}#{first}", due_now.total),)
    early = state.early_discount
    full, *plans = state.plans
    ways = [option(full, FULL, owed.total - (early.amount if early else 0), early)]
    # A plan splits the whole amount to pay: offered while its schedule lies ahead, and nothing
    # was paid outside it (its first instalment could then pay more than is left).
    if state.paid == state.totals.deposit:
        for plan in plans:
            if plan.instalments[0].due_date >= as_of:
                ways.append(option(plan, f"{plan.id}#1", plan.instalments[0].amount))
    return tuple(ways)


def _pay_link(link: Link, reference: str, email: str | None) -> PayLink:
    url = link.url
    if urlsplit(url).hostname in STRIPE_LINK_HOSTS:
        # Stripe reads these from the address: the payment arrives named, the form prefilled.
        parameters = {"client_reference_id": client_reference(reference)}
        if email:
            parameters["prefilled_email"] = email
        url += ("&" if "?" in url else "?") + urlencode(parameters)
    plan, _, number = link.target.partition("#")
    return PayLink(link.target, plan, int(number) if number else None, url, link.amount)


def client_reference(number: str) -> str:
    """The invoice number as Stripe accepts a `client_reference_id`: letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", number)[:200]


def _spaced(
    invoices: list[InvoiceAccount], last_written: date | None, as_of: date
) -> tuple[InvoiceAccount, ...]:
    """`invoices` with their emails to come spaced: the client's emails (one a day at most, that
    day's reminders together) at least `SPACING_DAYS` apart, counting from `last_written`. An
    email step that would come sooner moves later, and the invoice's steps after it with it; a
    reminder due today that would come sooner waits."""
    steps = {i.number: list(i.steps) for i in invoices}
    done: set[tuple[str, int]] = set()
    last, planned = last_written, False  # the last email's day; planned (not yet sent) or not
    while True:
        waiting = [
            (step.on, number, index)
            for number, found in steps.items()
            for index, step in enumerate(found)
            if step.stage.channel == "email" and (number, index) not in done
        ]
        if not waiting:
            break
        on, number, index = min(waiting)
        done.add((number, index))
        moved = on
        if last is not None and planned and on <= last:
            moved = last  # goes with the email already planned for that day
        elif last is not None and on < last + timedelta(days=SPACING_DAYS):
            moved = last + timedelta(days=SPACING_DAYS)
        if moved != on:
            steps[number][index:] = [_moved(step, moved - on) for step in steps[number][index:]]
        last, planned = moved, True
    return tuple(_with_steps(i, tuple(steps[i.number]), as_of) for i in invoices)


def _moved(step: Step, shift: timedelta) -> Step:
    return Step(step.on + shift, step.stage, step.deadline + shift if step.deadline else None)


def _with_steps(invoice: InvoiceAccount, steps: tuple[Step, ...], as_of: date) -> InvoiceAccount:
    reminder = invoice.reminder
    if reminder is None or not steps or steps[0].on == reminder.on:
        return replace(invoice, steps=steps)
    held = reminder.held_by or f"one email to a client in {SPACING_DAYS} days at most"
    moved = replace(reminder, on=steps[0].on, due_now=reminder.due_now and steps[0].on <= as_of)
    return replace(invoice, steps=steps, reminder=replace(moved, held_by=held))


def _steps(
    settings: schema.Settings, state: InvoiceState, reminder: NextReminder | None
) -> tuple[Step, ...]:
    """The stages still to come, with their dates, as the policy and the books stand today: each
    on its day or after the one before, an email at least `SPACING_DAYS` after the last, and
    what follows a final notice after its deadline."""
    if reminder is None:
        return ()
    stages = settings.policies.get(state.client.policy or settings.reminders.policy, [])
    names = [stage.name for stage in stages]
    steps: list[Step] = []
    earliest = reminder.on
    last_email: date | None = None
    for stage in stages[names.index(reminder.stage.name) :]:
        on = max(state.due_date + timedelta(days=stage.day), earliest)
        if stage.channel == "email" and last_email is not None:
            on = max(on, last_email + timedelta(days=SPACING_DAYS))
        deadline = on + timedelta(days=stage.deadline_days) if stage.deadline_days else None
        steps.append(Step(on, stage, deadline))
        earliest = deadline + timedelta(days=1) if deadline else on
        if stage.channel == "email":
            last_email = on
    return tuple(steps)


def _first_email(client: schema.Client) -> str | None:
    return next((str(c.email) for c in client.contacts if c.email), None)


def _last_written(
    settings: schema.Settings, messages: list[schema.Message], as_of: date
) -> date | None:
    """The last day on or before `as_of` that an email other than a thank-you went (or may
    have gone) to the client of `messages`."""
    zone = ZoneInfo(settings.business.timezone)
    withdrawn = not_sent(messages)
    days = [
        (m.at.astimezone(zone) if m.at.tzinfo else m.at).date()
        for m in messages
        if m.channel == "email"
        and m.stage != "thanks"
        and m.status in _WRITTEN
        and m.id not in withdrawn
    ]
    return max((day for day in days if day <= as_of), default=None)
