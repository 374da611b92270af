"""Credit on a client's account: what an invoice was paid beyond what it asked (its `overpaid`),
used by the client's other invoices in the same currency, worked out from the books each day,
never recorded.

Worked out rather than recorded because it then always agrees with the books: a refund of the
excess (a `refund` line in payments.yaml against the invoice overpaid), a credit note or a payment
recorded late changes the credit the same day, with nothing to keep in step and no record that
could claim more credit than there is.

The rule: the credits of a client in one currency, oldest first (by the day of the last money in,
or credit note, of the invoice overpaid), pay the client's open invoices, oldest issued first,
each up to what remains of its amount (never its fees or interest, which stop once the amount is
paid), from the later of the credit's day and the invoice's issue date. A credit counts towards
an early-payment discount as money paid on its day would, and gives then only what settles the
invoice with the discount: a credit never makes an invoice overpaid in turn. What no open invoice
needs is the client's credit left, shown on their page until a refund or a new invoice uses it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from notifier.books import schema
from notifier.books.load import Books
from notifier.ledger.figures import figures_of
from notifier.ledger.reductions import CreditUse
from notifier.ledger.state import (
    History,
    InvoiceState,
    Moved,
    _paid_in,
    invoice_state,
    may_be_open,
)


@dataclass(frozen=True)
class Credits:
    """The credit of some clients on a day: each use, and what is left, per client and currency."""

    uses: tuple[CreditUse, ...] = ()
    left: dict[str, dict[str, int]] = field(default_factory=dict)  # client → currency → minor

    def into(self, number: str) -> tuple[CreditUse, ...]:
        return tuple(use for use in self.uses if use.invoice == number)

    def out_of(self, number: str) -> tuple[CreditUse, ...]:
        return tuple(use for use in self.uses if use.source == number)


NO_CREDITS = Credits()


def client_credits(
    books: Books,
    as_of: date,
    clients: Iterable[str],
    known: History,
    added: Mapping[str, Iterable[Moved]] | None = None,
) -> Credits:
    """The credit of `clients` on `as_of` (see the module's rule); `known` is the books' history
    of `as_of`, `added` money moved beyond it, as `ledger` takes them."""
    wanted = set(clients)
    theirs = [i for i in books.invoices.values() if i.client in wanted]
    maybe = _may_be_overpaid(books, as_of, theirs, known, added)
    sources = [s for s in _states(books, as_of, maybe, known, added) if s.overpaid > 0]
    if not sources:
        return NO_CREDITS
    owing = {s.client.id for s in sources}
    open_ones = may_be_open(books, as_of, [i for i in theirs if i.client in owing], known=known)
    receivers = _states(books, as_of, open_ones, known, added)
    receivers = [s for s in receivers if s.status.is_open and s.balance > 0]
    assert books.settings is not None
    return _allocated(sources, receivers, known, added or {}, as_of, books.settings)


def _may_be_overpaid(
    books: Books,
    as_of: date,
    invoices: list[schema.Invoice],
    known: History,
    added: Mapping[str, Iterable[Moved]] | None,
) -> list[schema.Invoice]:
    """Of `invoices`, those issued and not void whose payments and credit notes go beyond what
    they ask (before fees and interest, which an excess settles first)."""
    settings = books.settings
    assert settings is not None
    found = []
    for invoice in invoices:
        number = invoice.number
        payments = known.payments.get(number, ())
        more = [m for m in (added or {}).get(number, ()) if m[0] <= as_of]
        if not payments and not more and not invoice.credit_notes:
            continue
        if invoice.draft or invoice.issue_date > as_of or invoice.void is not None:
            continue
        figures = figures_of(settings, books.clients[invoice.client], invoice)
        if _paid_in(figures, invoice, payments, more, as_of).principal < 0:
            found.append(invoice)
    return found


def _states(
    books: Books,
    as_of: date,
    invoices: list[schema.Invoice],
    known: History,
    added: Mapping[str, Iterable[Moved]] | None,
) -> list[InvoiceState]:
    """The states of `invoices` before any credit, in the books' order."""
    assert books.settings is not None
    more = added or {}
    return [
        invoice_state(
            books.settings,
            books.clients[invoice.client],
            invoice,
            known.payments.get(invoice.number, ()),
            known.sent,
            as_of,
            [m for m in more.get(invoice.number, ()) if m[0] <= as_of],
        )
        for invoice in invoices
    ]


def _allocated(
    sources: list[InvoiceState],
    receivers: list[InvoiceState],
    known: History,
    added: Mapping[str, Iterable[Moved]],
    as_of: date,
    settings: schema.Settings,
) -> Credits:
    """Each source's credit given to the receivers of its client and currency (the module's rule)."""
    pools: dict[tuple[str, str], list[tuple[date, str, int]]] = defaultdict(list)
    for source in sources:
        pools[source.client.id, source.currency].append(
            (_last_day(source, known, added, as_of), source.invoice.number, source.overpaid)
        )
    wanting: dict[tuple[str, str], list[InvoiceState]] = defaultdict(list)
    for receiver in receivers:
        wanting[receiver.client.id, receiver.currency].append(receiver)
    uses: list[CreditUse] = []
    left: dict[str, dict[str, int]] = defaultdict(dict)
    for key, pool in sorted(pools.items()):
        pool.sort()
        takers = sorted(
            wanting.get(key, []), key=lambda s: (s.invoice.issue_date, s.invoice.number)
        )
        needs = [s.balance - s.fees - s.interest for s in takers]
        taken: list[list[CreditUse]] = [[] for _ in takers]
        at = 0
        for day, origin, amount in pool:
            while amount > 0 and at < len(takers):
                taker = takers[at]
                use = CreditUse(
                    max(day, taker.invoice.issue_date),
                    origin,
                    taker.invoice.number,
                    min(amount, needs[at]),
                )
                # Within an early-payment window the credit may take the discount too: then
                # less settles the invoice, and the credit gives only that.
                beyond = -principal_with(settings, taker, [*taken[at], use], known, added, as_of)
                use = replace(use, amount=use.amount - max(0, beyond))
                if use.amount > 0:
                    taken[at].append(use)
                    uses.append(use)
                    amount -= use.amount
                    needs[at] -= use.amount
                if needs[at] <= 0 or beyond >= 0:
                    at += 1
            if amount > 0:
                client, currency = key
                left[client][currency] = left[client].get(currency, 0) + amount
    return Credits(tuple(uses), dict(left))


def principal_with(
    settings: schema.Settings,
    state: InvoiceState,
    credit: list[CreditUse],
    known: History,
    added: Mapping[str, Iterable[Moved]],
    as_of: date,
) -> int:
    """What would remain of the invoice amount of `state` with `credit` used on it (below zero:
    paid beyond it)."""
    invoice = state.invoice
    figures = figures_of(settings, state.client, invoice)
    more = [m for m in added.get(invoice.number, ()) if m[0] <= as_of]
    payments = known.payments.get(invoice.number, ())
    return _paid_in(figures, invoice, payments, more, as_of, credit).principal


def _last_day(
    state: InvoiceState, known: History, added: Mapping[str, Iterable[Moved]], as_of: date
) -> date:
    """The day the invoice was last paid or credited: from then on its excess is credit."""
    number = state.invoice.number
    days = [p.date for p in known.payments.get(number, ())]
    days += [m[0] for m in added.get(number, ()) if m[0] <= as_of]
    days += [r.on for r in state.reductions]
    return max(days, default=state.invoice.issue_date)
