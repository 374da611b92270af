"""Which Stripe Payment Links the books hold: written on an invoice by hand (`payment_links`), or
recorded by `notifier links` in `data/records/payment-links.yaml`. The portal shows them; reconcile
matches payments by them."""

from __future__ import annotations

from dataclasses import dataclass

from notifier import money
from notifier.books import schema
from notifier.books.load import Books


@dataclass(frozen=True)
class Link:
    """A Payment Link the books know: written on the invoice by hand, or recorded by the tool."""

    invoice: str  # empty for a statement's link (`statement:CLIENT:CUR`)
    target: str
    url: str
    id: str | None
    amount: int | None  # minor units of `currency`; None if a hand-written link does not say
    currency: str | None


def statement_target(client: str, currency: str) -> str:
    """The target of a link for everything `client` owes in `currency`: `statement:CLIENT:CUR`."""
    return f"{schema.STATEMENT_TARGET}{client}:{currency}"


def statement_of(target: str) -> tuple[str, str] | None:
    """The client and currency of a statement link's target; None for an invoice's."""
    if not target.startswith(schema.STATEMENT_TARGET):
        return None
    client, _, currency = target.removeprefix(schema.STATEMENT_TARGET).rpartition(":")
    return client, currency


def parse_target(target: str) -> tuple[str | None, int | None]:
    """`full` as (None, None); `PLAN#N` as (PLAN, N)."""
    plan, _, number = target.partition("#")
    if not number:
        return None, None
    return plan, int(number)


def current_links(books: Books) -> dict[str, dict[str, Link]]:
    """The links that take payments now, by invoice number and target: the invoice's own
    `payment_links`, overridden by the latest `active` record for the same target; a target whose
    latest record is `deactivated` has none."""
    found: dict[str, dict[str, Link]] = {}
    for number, invoice in books.invoices.items():
        for written in invoice.payment_links:
            amount = None
            if written.amount is not None and _currency(books, invoice) is not None:
                amount = money.to_minor(written.amount, _currency(books, invoice) or "")
            found.setdefault(number, {})[written.target] = Link(
                number,
                written.target,
                str(written.url),
                written.id,
                amount,
                _currency(books, invoice),
            )
    for record in books.payment_links:
        if record.invoice is None:
            continue  # a statement's link (see `statement_links`)
        targets = found.setdefault(record.invoice, {})
        if record.status == "active":
            targets[record.target] = _from_record(record)
        elif record.target in targets and targets[record.target].id == record.id:
            del targets[record.target]
    return {number: targets for number, targets in found.items() if targets}


def statement_links(books: Books) -> dict[tuple[str, str], Link]:
    """The links that take payments now for a client's whole statement, by client and currency:
    the latest `active` record of each `statement:CLIENT:CUR` target, unless turned off since."""
    found: dict[tuple[str, str], Link] = {}
    for record in books.payment_links:
        whose = statement_of(record.target)
        if whose is None:
            continue
        if record.status == "active":
            found[whose] = _from_record(record)
        elif whose in found and found[whose].id == record.id:
            del found[whose]
    return found


def links_by_id(books: Books) -> dict[str, Link]:
    """Every link id the books have ever known, turned off or not: a payment made through an old
    link still belongs to its invoice."""
    found: dict[str, Link] = {}
    for number, invoice in books.invoices.items():
        for written in invoice.payment_links:
            if written.id:
                found[written.id] = Link(
                    number, written.target, str(written.url), written.id, None, None
                )
    for record in books.payment_links:
        found.setdefault(record.id, _from_record(record))
    return found


def _from_record(record: schema.PaymentLinkRecord) -> Link:
    return Link(
        record.invoice or "",  # none for a statement's link
        record.target,
        str(record.url),
        record.id,
        money.to_minor(record.amount, record.currency),
        record.currency,
    )


def _currency(books: Books, invoice: schema.Invoice) -> str | None:
    if invoice.currency:
        return invoice.currency
    client = books.clients.get(invoice.client)
    if client is not None and client.currency:
        return client.currency
    return books.settings.business.currency if books.settings else None
