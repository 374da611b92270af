"""The ledger: what each invoice stands at on a given day. A pure function of the books and the date.

Rules a reader of the books should know:
- Payments dated after the as-of date do not count yet; nor do messages recorded after it.
- Payments go to the invoice amount first. Late fees and interest are claimed while any of it is
  unpaid; once it is paid in full the invoice is paid, and any excess first covers the fees and
  interest, then shows as overpaid: credit the client holds, used by their next invoice (see
  `notifier.ledger.credit`) unless a refund gives it back.
- Credit notes, a write-off and credit from another invoice lower the invoice amount from their
  date, as a payment would (see `notifier.ledger.reductions`). An invoice they settle with nothing
  paid, or that a write-off closed, is settled rather than paid.
- An invoice owing less than the business's `not_chased_below` for its currency gets no reminders.
- An instalment plan becomes the client's choice when a payment names it (paying its first
  instalment); from then on due dates, lateness and reminders follow that plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum
from operator import itemgetter
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from notifier import money
from notifier.books import schema
from notifier.books.load import Books
from notifier.ledger.fees import NO_CHARGES, LateCharges, late_charges
from notifier.ledger.figures import Figures, figures_of
from notifier.ledger.plans import Instalment, PlanOption
from notifier.ledger.reductions import CreditUse, Reduction, credit_notes, credits_in, write_off
from notifier.ledger.terms import InvoiceTerms
from notifier.ledger.totals import Totals

if TYPE_CHECKING:
    from notifier.ledger.credit import Credits


class Status(Enum):
    """Ordered so that, as days pass with no payment and no change by a person, an invoice only
    moves forward. (A promise recorded while overdue steps it back to promised, as a payment would.)"""

    DRAFT = "draft"
    OPEN = "open"
    DUE = "due"
    PARTIALLY_PAID = "partially paid"
    PROMISED = "promised"
    OVERDUE = "overdue"
    DISPUTED = "disputed"
    PAID = "paid"
    SETTLED = "settled"  # nothing owed, but not all of it paid: credited in whole, or written off
    VOID = "void"

    @property
    def rank(self) -> int:
        return list(Status).index(self)

    @property
    def is_open(self) -> bool:
        """Money is still expected: the client owes something and may be reminded."""
        return self._value_ in _OPEN  # by value: a member's hash is a call into Python


_OPEN = frozenset(
    s.value
    for s in (Status.OPEN, Status.DUE, Status.PARTIALLY_PAID, Status.PROMISED, Status.OVERDUE)
)
SENT = {"sending", "sent", "task", "done", "failed"}  # a stage in any of these is never repeated
# Outcomes that say an email did not go after all: its intent (`sending`) no longer counts.
NOT_SENT = {"deferred", "unsent"}


def not_sent(messages: Iterable[schema.Message]) -> set[str]:
    """The ids of the messages recorded as not sent after all (refused for the time being, or
    found by a person never to have gone): a `sending` record of one of them counts for nothing."""
    return {message.id for message in messages if message.status in NOT_SENT}


@dataclass(frozen=True)
class EarlyDiscount:
    amount: int
    until: date


@dataclass(frozen=True)
class NextReminder:
    """The next stage of the policy for this invoice (or its next instalment), and when it is due.

    `due_now` means it should go today; if several were missed, only the highest is due (no burst).
    `held_by` says why it waits beyond its own date (a pause or a promise)."""

    stage: schema.Stage
    on: date
    due_now: bool
    target: str
    held_by: str | None = None


@dataclass(frozen=True)
class InvoiceState:
    invoice: schema.Invoice
    client: schema.Client
    terms: InvoiceTerms
    totals: Totals
    status: Status
    paid: int  # payments net of refunds, and the deposit
    discount_taken: int
    fees: int  # fixed late fee claimed
    interest: int  # late interest claimed
    balance: int  # what the client owes today, fees and interest included
    overpaid: int
    days_overdue: int
    early_discount: EarlyDiscount | None
    plans: tuple[PlanOption, ...]
    active_plan: PlanOption | None
    next_instalment: Instalment | None
    next_reminder: NextReminder | None
    # Credit notes, the write-off and credit from other invoices up to the day, by date.
    reductions: tuple[Reduction, ...] = ()
    credit_out: tuple[CreditUse, ...] = ()  # where what it was overpaid by went, by date
    not_chased: bool = False  # owes less than the business chases: no reminders

    @property
    def currency(self) -> str:
        return self.totals.currency

    @property
    def reduced(self) -> int:
        """What credit notes, the write-off and credit took off the invoice."""
        return sum(r.amount for r in self.reductions)

    def reduced_by(self, kind: str) -> int:
        return sum(r.amount for r in self.reductions if r.kind == kind)

    @property
    def credit_left(self) -> int:
        """What it was overpaid by that no other invoice has used yet."""
        return self.overpaid - sum(use.amount for use in self.credit_out)

    @property
    def due_date(self) -> date:
        """The date the client must pay by next: the next instalment's, or the invoice's."""
        return self.next_instalment.due_date if self.next_instalment else self.terms.due_date


# Money moved for an invoice, as the ledger reads a payment: its day, kind, plan, currency and
# amount in minor units of that currency. The import hands the ledger its new payments so, summed
# per day, rather than as a record each.
Moved = tuple[date, Literal["payment", "refund", "chargeback"], str | None, str, int]


@dataclass(frozen=True)
class History:
    """What the ledger reads of the records up to a day: each invoice's payments, and the stages
    sent for each invoice or instalment."""

    payments: dict[str, list[schema.Payment]]
    sent: dict[str, dict[str, date]]  # by invoice or instalment: each stage sent, and the day
    # Invoices issued before this day are not sent by the `issued` stage; None: the as-of day.
    invoices_from: date | None = None


def history(books: Books, as_of: date) -> History:
    """The books' `History` up to `as_of`. Worth working out once for several calls of `ledger`:
    a book of 10,000 messages takes some 40 ms to go through."""
    assert books.settings is not None
    payments: dict[str, list[schema.Payment]] = defaultdict(list)
    for payment in books.payments:
        if payment.date <= as_of:
            payments[payment.invoice].append(payment)
    zone = ZoneInfo(books.settings.business.timezone)
    sent: dict[str, dict[str, date]] = defaultdict(dict)
    withdrawn = not_sent(books.messages)
    invoice_stages = issued_stages(books.settings)
    first_invoice: date | None = None
    for message in books.messages:
        # A message's day is the business's day; a time without an offset is already local.
        day = (message.at.astimezone(zone) if message.at.tzinfo else message.at).date()
        if message.stage in invoice_stages and (first_invoice is None or day < first_invoice):
            first_invoice = day
        if message.status in SENT and day <= as_of and message.id not in withdrawn:
            for item in message.items:
                sent[item].setdefault(message.stage, day)
    return History(payments, sent, books.settings.reminders.send_invoices_from or first_invoice)


def issued_stages(settings: schema.Settings) -> set[str]:
    """The names of the stages that send the invoice itself, in any policy."""
    return {s.name for stages in settings.policies.values() for s in stages if s.issued}


def ledger(
    books: Books,
    as_of: date,
    only: Iterable[schema.Invoice] | None = None,
    added: Mapping[str, Iterable[Moved]] | None = None,
    *,
    known: History | None = None,
    credits: Credits | None = None,
) -> dict[str, InvoiceState]:
    """Every valid invoice's state on `as_of` (or only those of `only`), by number, in the books'
    order; with `added`, as if the books also held that money moved, by invoice number, after
    their own payments. `known` is `history(books, as_of)`, if already worked out; `credits`,
    the credit of the invoices' clients (`client_credits`), if already worked out.

    Assumes `notifier.books.check` found no errors in `books`."""
    assert books.settings is not None
    more = added or {}
    if known is None:
        known = history(books, as_of)
    payments, sent = known.payments, known.sent
    chosen = list(books.invoices.values()) if only is None else list(only)
    if credits is None:
        # Here, not at the top: the credit is worked out from this module's invoice states.
        from notifier.ledger.credit import client_credits

        clients = {invoice.client for invoice in chosen}
        credits = client_credits(books, as_of, clients, known, added)
    states = {}
    for invoice in chosen:
        number = invoice.number
        state = invoice_state(
            books.settings,
            books.clients[invoice.client],
            invoice,
            payments[number],
            sent,
            as_of,
            [moved for moved in more.get(number, ()) if moved[0] <= as_of],
            credits.into(number) if credits.uses else (),
            invoices_from=known.invoices_from,
        )
        if credits.uses and state.overpaid:
            state = replace(state, credit_out=credits.out_of(number))
        states[number] = state
    return states


def may_be_open(
    books: Books,
    as_of: date,
    among: Iterable[schema.Invoice] | None = None,
    *,
    known: History,
) -> list[schema.Invoice]:
    """The invoices that may be open on `as_of`, in the books' order (or of `among`, in its): all
    but those that certainly are not (drafts, void, issued later, or paid in full even before any
    discount), which what concerns only open invoices need not work out. Uses the figures this
    process worked out already, if any (`check` does, unless its verdict was kept); `known` is
    `history(books, as_of)`."""
    settings = books.settings
    assert settings is not None
    paid = known.payments
    found = []
    for invoice in books.invoices.values() if among is None else among:
        number = invoice.number
        if invoice.draft or invoice.issue_date > as_of:
            continue
        if invoice.void is not None and invoice.void.date <= as_of:
            continue
        figures = figures_of(settings, books.clients[invoice.client], invoice)
        net_paid = sum(signed_minor(p, figures.terms.currency) for p in paid.get(number, ()))
        # An early-payment discount is a share of the total: on a total of at least zero it can
        # only lower what is owed, so this much paid settles the invoice whatever was taken off.
        if figures.totals.total < 0 or figures.totals.to_pay - net_paid > 0:
            found.append(invoice)
    return found


def invoice_state(
    settings: schema.Settings,
    client: schema.Client,
    invoice: schema.Invoice,
    payments: Iterable[schema.Payment],
    sent: dict[str, dict[str, date]],
    as_of: date,
    added: Iterable[Moved] = (),
    credit: Iterable[CreditUse] = (),
    *,
    invoices_from: date | None = None,
) -> InvoiceState:
    """The invoice's state on `as_of`; `credit`: what the client's credit from other invoices
    pays of it (see `notifier.ledger.credit`); `invoices_from` as `History.invoices_from`."""
    figures = figures_of(settings, client, invoice)
    terms, totals, options = figures.terms, figures.totals, figures.options
    paid_in = _paid_in(figures, invoice, payments, added, as_of, credit)
    net_paid, active, schedule = paid_in.net_paid, paid_in.active, paid_in.schedule(figures)
    discount_taken, principal = paid_in.discount_taken, paid_in.principal
    reduced = sum(r.amount for r in paid_in.reductions)
    early = paid_in.early
    if early is not None and (discount_taken or as_of > early.until):
        early = None  # used, or lapsed: no longer on offer
    next_instalment = _next_instalment(schedule, net_paid + reduced) if principal > 0 else None

    charges = _charges(figures, paid_in, as_of)
    claimed = charges.fee + charges.interest
    if principal > 0:
        balance, overpaid = principal + claimed, 0
    else:  # paid: any excess settles fees and interest first, the rest is overpaid
        claimed = min(-principal, claimed)
        balance, overpaid = 0, -principal - claimed
    fee = min(charges.fee, claimed)
    interest = claimed - fee

    due = next_instalment.due_date if next_instalment else terms.due_date
    days_overdue = max(0, (as_of - due).days) if principal > 0 else 0
    paid = net_paid + totals.deposit
    status = _status(invoice, terms, as_of, principal, paid, due, paid_in.reductions)
    threshold = settings.terms.not_chased_below.get(terms.currency)
    not_chased = (
        status.is_open
        and threshold is not None
        and balance < money.to_minor(threshold, terms.currency)
    )
    reminder = (
        None
        if not_chased
        else _next_reminder(
            settings,
            client,
            invoice,
            status,
            due,
            next_instalment,
            active,
            sent,
            as_of,
            as_of if invoices_from is None else invoices_from,
        )
    )
    return InvoiceState(
        invoice=invoice,
        client=client,
        terms=terms,
        totals=totals,
        status=status,
        paid=paid,
        discount_taken=discount_taken,
        fees=fee,
        interest=interest,
        balance=balance if status not in (Status.VOID, Status.DRAFT) else 0,
        overpaid=overpaid,
        days_overdue=days_overdue if status.is_open else 0,
        early_discount=early if status.is_open else None,
        plans=options,
        active_plan=active,
        next_instalment=next_instalment,
        next_reminder=reminder,
        reductions=paid_in.reductions,
        not_chased=not_chased,
    )


@dataclass(frozen=True)
class Settlement:
    """What the payments made of an invoice, without the rest of its state."""

    net_paid: int  # payments less refunds (the deposit not included)
    overpaid: int  # as `InvoiceState.overpaid`


def settlement(
    settings: schema.Settings,
    client: schema.Client,
    invoice: schema.Invoice,
    payments: Iterable[schema.Payment],
    as_of: date,
) -> Settlement:
    """`net_paid` and `overpaid` as `invoice_state` would have them, for `check`, which asks this of
    every invoice with payments. Late charges are worked out only for an invoice paid beyond its
    amount, the one case where they change what is overpaid: fees and interest are never below
    zero, so an invoice paid exactly, or less, is overpaid by nothing."""
    figures = figures_of(settings, client, invoice)
    paid_in = _paid_in(figures, invoice, payments, (), as_of)
    overpaid = 0
    if paid_in.principal < 0:
        charges = _charges(figures, paid_in, as_of)
        overpaid = -paid_in.principal - min(-paid_in.principal, charges.fee + charges.interest)
    return Settlement(paid_in.net_paid, overpaid)


@dataclass(frozen=True)
class _PaidIn:
    dated: list[tuple[date, int, str | None]]  # (date, signed amount, plan chosen), by date
    net_paid: int
    active: PlanOption | None
    early: EarlyDiscount | None  # on offer at all, whether taken, lapsed or not
    discount_taken: int
    principal: int  # what remains of the invoice amount, below zero if paid beyond it
    reductions: tuple[Reduction, ...]  # by date

    def schedule(self, figures: Figures) -> tuple[Instalment, ...]:
        """The instalments of the plan chosen, or the one of paying in full."""
        return (self.active or figures.options[0]).instalments


def _paid_in(
    figures: Figures,
    invoice: schema.Invoice,
    payments: Iterable[schema.Payment],
    added: Iterable[Moved] = (),
    as_of: date = date.max,
    credit: Iterable[CreditUse] = (),
) -> _PaidIn:
    terms, totals = figures.terms, figures.totals
    dated = [(p.date, signed_minor(p, terms.currency), p.plan) for p in payments]
    dated.extend(
        (day, _signed(kind, minor, currency, terms.currency), plan)
        for day, kind, plan, currency, minor in added
    )
    dated.sort(key=_DAY)  # stable: a day's payments keep their order
    net_paid = sum(amount for _, amount, _ in dated)
    chosen = next((plan for _, _, plan in dated if plan), None)
    active = next((o for o in figures.options if o.id == chosen), None) if chosen else None
    notes = credit_notes(invoice, terms.currency, as_of) if invoice.credit_notes else []
    credited = sum(note.amount for note in notes)
    early = _early_discount(terms, totals.total - credited, invoice, active)
    discount_taken = 0
    # Credit notes lower what settles the invoice within the window; the discount is on the rest.
    to_settle = totals.to_pay - credited
    credit_used = credits_in(credit)
    if early is not None:
        # The client's credit is their money, paid on its day.
        covered = _covered_by(dated, early.until)
        covered += sum(c.amount for c in credit_used if c.on <= early.until)
        if covered >= to_settle - early.amount:
            discount_taken = early.amount
    reductions = sorted([*notes, *credit_used], key=lambda r: r.on)
    principal = (
        to_settle - discount_taken - net_paid - (sum(r.amount for r in reductions) - credited)
    )
    given_up = write_off(
        invoice, terms.currency, as_of, _unsettled(principal, dated, reductions, invoice)
    )
    if given_up is not None:
        reductions = sorted([*reductions, given_up], key=lambda r: r.on)
        principal -= given_up.amount
    return _PaidIn(dated, net_paid, active, early, discount_taken, principal, tuple(reductions))


def _unsettled(
    principal: int,
    dated: list[tuple[date, int, str | None]],
    reductions: list[Reduction],
    invoice: schema.Invoice,
) -> int:
    """What remained of the invoice amount on the day of its write-off: `principal` (what remains
    today) with what was paid or credited after that day added back."""
    if invoice.write_off is None:
        return 0
    day = invoice.write_off.date
    later = sum(amount for when, amount, _ in dated if when > day)
    later += sum(r.amount for r in reductions if r.on > day)
    return principal + later


def _charges(figures: Figures, paid_in: _PaidIn, as_of: date) -> LateCharges:
    invoice, terms = figures.invoice, figures.terms
    if invoice.waive_fees or invoice.void is not None:
        return NO_CHARGES
    return late_charges(
        terms.late_payment,
        terms.currency,
        paid_in.schedule(figures),
        # A discount taken settled that much of the invoice from the start.
        [
            (invoice.issue_date, paid_in.discount_taken),
            *((day, amount) for day, amount, _ in paid_in.dated),
            *((r.on, r.amount) for r in paid_in.reductions),
        ],
        as_of,
        terms.due_date,
    )


def signed_minor(payment: schema.Payment, currency: str) -> int:
    """The payment in minor units of `currency`: money in counts up, a refund or chargeback down."""
    amount = money.to_minor(payment.amount, currency)
    return amount if payment.kind == "payment" else -amount


def _signed(kind: str, minor: int, currency: str, wanted: str) -> int:
    """`signed_minor` of money moved that is not (yet) a record."""
    if currency != wanted:
        minor = money.to_minor(money.to_major(minor, currency), wanted)
    return minor if kind == "payment" else -minor


_DAY = itemgetter(0)


def _covered_by(dated: list[tuple[date, int, str | None]], day: date) -> int:
    return sum(amount for when, amount, _ in dated if when <= day)


def _early_discount(
    terms: InvoiceTerms,
    total: int,
    invoice: schema.Invoice,
    active: PlanOption | None,
) -> EarlyDiscount | None:
    """The early-payment discount this invoice offers (on `total`, its total less its credit
    notes), if any; plans do not get it."""
    offer = terms.early_payment_discount
    if offer is None or active is not None or invoice.draft or total <= 0:
        return None
    return EarlyDiscount(
        money.percent_of(total, offer.percent),
        invoice.issue_date + timedelta(days=offer.days),
    )


def _next_instalment(schedule: tuple[Instalment, ...], net_paid: int) -> Instalment:
    """The first instalment that the payments so far do not cover."""
    running = 0
    for instalment in schedule:
        running += instalment.amount
        if net_paid < running:
            return instalment
    return schedule[-1]


def _status(
    invoice: schema.Invoice,
    terms: InvoiceTerms,
    as_of: date,
    principal: int,
    paid: int,
    due: date,
    reductions: tuple[Reduction, ...] = (),
) -> Status:
    if invoice.void is not None and invoice.void.date <= as_of:
        return Status.VOID
    if invoice.draft or invoice.issue_date > as_of:
        return Status.DRAFT
    if principal <= 0:
        written_off = any(r.kind == "write-off" for r in reductions)
        credited_only = paid <= 0 and all(r.kind == "credit note" for r in reductions)
        return Status.SETTLED if written_off or (reductions and credited_only) else Status.PAID
    if invoice.dispute is not None and invoice.dispute.since <= as_of:
        return Status.DISPUTED
    if as_of > due:
        promise = invoice.promise
        if (
            promise is not None
            and as_of <= promise.by
            and (promise.made is None or promise.made <= as_of)
        ):
            return Status.PROMISED
        return Status.OVERDUE
    if paid > 0:
        return Status.PARTIALLY_PAID
    if (due - as_of).days <= terms.due_soon_days:
        return Status.DUE
    return Status.OPEN


def _next_reminder(
    settings: schema.Settings,
    client: schema.Client,
    invoice: schema.Invoice,
    status: Status,
    due: date,
    instalment: Instalment | None,
    active: PlanOption | None,
    sent: dict[str, dict[str, date]],
    as_of: date,
    invoices_from: date,
) -> NextReminder | None:
    """The next stage, by the escalation rules: each stage once, in order; after a gap between
    runs only the highest stage now due goes (no burst), but never past the invoice's own email or
    a final notice (a stage with a deadline) not yet sent; and a stage after a final notice waits
    until its deadline has passed, so a hand-off always follows a notice whose deadline ran out.
    The invoice's own email (the `issued` stage) is for the invoice as a whole, issued from
    `invoices_from` on: an instalment, or an invoice issued before, never gets it."""
    if not status.is_open:
        return None
    stages = settings.policies.get(client.policy or settings.reminders.policy, [])
    target = f"{invoice.number}#{instalment.number}" if active and instalment else invoice.number
    if target != invoice.number or invoice.issue_date < invoices_from:
        stages = [s for s in stages if not s.issued]
    done = sent.get(target)
    highest = max((i for i, s in enumerate(stages) if s.name in done), default=-1) if done else -1
    waiting = stages[highest + 1 :]
    if not waiting:
        return None

    def on(stage: schema.Stage) -> date:
        return stage.date_for(invoice.issue_date, due)

    # The latest final notice sent, if any: what comes after it waits for its deadline.
    notice = next((s for s in stages[: highest + 1][::-1] if s.deadline_days), None)
    notice_sent = done.get(notice.name) if done and notice else None
    holds: list[tuple[date, str | None]] = [(as_of, None)]
    if client.pause is not None and client.pause.until >= as_of:
        holds.append((client.pause.until + timedelta(days=1), f"paused: {client.pause.reason}"))
    if status is Status.PROMISED and invoice.promise is not None:
        promise = invoice.promise
        holds.append((promise.by + timedelta(days=1), f"promised to pay by {promise.by}"))
    held_until, held_by = max(holds, key=lambda hold: hold[0])  # the longest hold wins
    if notice is not None and notice_sent is not None and notice.deadline_days:
        after = notice_sent + timedelta(days=notice.deadline_days + 1)
        if after > held_until:
            waiting_for = f"the final notice's deadline, {after - timedelta(days=1)}"
            return NextReminder(waiting[0], max(after, on(waiting[0])), False, target, waiting_for)
    ready = [s for s in waiting if on(s) <= held_until]
    if ready:  # after a gap, only the highest stage now due goes out, but none of these is skipped
        stage = next((s for s in ready if s.issued or s.deadline_days), ready[-1])
        return NextReminder(stage, held_until, held_by is None, target, held_by)
    stage = waiting[0]
    return NextReminder(stage, on(stage), False, target, None)
