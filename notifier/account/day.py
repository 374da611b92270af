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
- Credit notes, a write-off and the client's credit count as paid towards a plan's instalments;
  a plan is not offered on an invoice they lowered (its instalments split the whole amount).
- A client is written to at most once in any `SPACING_DAYS` days (thank-yous aside): a reminder
  due sooner waits.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

from notifier.account import references
from notifier.account.model import (
    NOTHING,
    Account,
    ClientAccount,
    InvoiceAccount,
    Owed,
    PayLink,
    PayOption,
)
from notifier.account.next_steps import last_written, spaced, steps_of
from notifier.books import schema
from notifier.books.load import Books
from notifier.books.payment_links import Link, current_links, statement_links
from notifier.ledger.credit import client_credits
from notifier.ledger.fees import annual_rate, next_interest_day
from notifier.ledger.plans import FULL, Instalment, PlanOption
from notifier.ledger.state import (
    EarlyDiscount,
    History,
    InvoiceState,
    history,
    ledger,
    may_be_open,
)

STRIPE_LINK_HOSTS = {"buy.stripe.com"}
# What to write on a transfer of an invoice (NUMBER, None, None) or of a plan's instalment.
References = Callable[[str, str | None, int | None], str]


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
    credits = client_credits(books, as_of, wanted, known)
    states = ledger(books, as_of, mine, known=known, credits=credits)
    links = current_links(books)
    messages: dict[str, list[schema.Message]] = defaultdict(list)
    for message in books.messages:
        if message.client in chosen:
            messages[message.client].append(message)
    written = {c: last_written(settings, found, as_of) for c, found in messages.items()}
    rf = references.uses_rf(settings)
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
    by_statement = statement_links(books)
    return Account(
        as_of,
        {
            c: _with_statement_links(
                ClientAccount(
                    books.clients[c],
                    books.clients[c].locale or settings.business.locale,
                    emails[c],
                    spaced(by_client[c], written.get(c), as_of),
                    written.get(c),
                    tuple(messages.get(c, ())),
                    references.statement_reference(c) if rf else None,
                    tuple(sorted(credits.left.get(c, {}).items())),
                ),
                by_statement,
            )
            for c in wanted
        },
        tuple(states),
    )


def _with_statement_links(
    account: ClientAccount, links: dict[tuple[str, str], Link]
) -> ClientAccount:
    """`account` with the card link of its statement in each currency, where the books have one
    that charges exactly what the statement asks today."""
    client = account.client.id
    valid = []
    for currency, amount in account.statement_totals:
        link = links.get((client, currency))
        if link is not None and link.amount == amount:
            url = link.url
            if account.email and urlsplit(url).hostname in STRIPE_LINK_HOSTS:
                url += ("&" if "?" in url else "?") + urlencode({"prefilled_email": account.email})
            valid.append((currency, PayLink(link.target, "", None, url, link.amount)))
    return dataclasses.replace(account, statement_links=tuple(valid)) if valid else account


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
        ways=_ways(state, owed, due_now, instalments, pay_links, as_of, _references(settings)),
        reminder=reminder,
        steps=steps_of(settings, state, reminder),
        payments=tuple(sorted(payments, key=lambda p: (p.date, p.id))),
        interest_rate=rate,
        interest_next=next_interest_day(late, state.terms.due_date, as_of) if accruing else None,
        bank_accounts=tuple(accounts),
        reference=_references(settings)(state.invoice.number, None, None),
    )


def _references(settings: schema.Settings) -> References:
    """What to write on a transfer of an invoice, or of instalment N of a plan of it."""
    if not references.uses_rf(settings):
        return lambda number, plan, instalment: number

    def reference(number: str, plan: str | None, instalment: int | None) -> str:
        if plan is None or instalment is None:
            return references.invoice_reference(number)
        place = references.plan_place(settings, plan)
        return references.instalment_reference(number, place, instalment)

    return reference


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
    paid = state.paid - state.totals.deposit + state.reduced
    principal = max(0, min(owed.principal, due_so_far - paid))
    return Owed(principal, owed.fees, owed.interest), covered


def _ways(
    state: InvoiceState,
    owed: Owed,
    due_now: Owed,
    instalments: tuple[Instalment, ...],
    links: dict[str, PayLink],
    as_of: date,
    reference: References,
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
        number = state.invoice.number
        plan_id, _, instalment = target.partition("#")
        ref = (
            reference(number, plan_id, int(instalment))
            if instalment
            else reference(number, None, None)
        )
        return PayOption(plan.id, plan.name, amount, plan.instalments, early, chosen, valid, ref)

    active = state.active_plan
    if active is not None:
        first = instalments[0].number if instalments else 1
        return (option(active, f"{active.id}#{first}", due_now.total),)
    early = state.early_discount
    full, *plans = state.plans
    ways = [option(full, FULL, owed.total - (early.amount if early else 0), early)]
    # A plan splits the whole amount to pay: offered while its schedule lies ahead, and nothing
    # was paid outside it (its first instalment could then pay more than is left).
    if state.paid == state.totals.deposit and not state.reductions:
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


def _first_email(client: schema.Client) -> str | None:
    return next((str(c.email) for c in client.contacts if c.email), None)
