"""Payments waiting for a person: kept in `data/records/review.yaml` so the owner's email can list
them until they are matched, each with the invoices it might be for.

One line per payment (`open`), written once whatever number of imports see it again; a second
line (`resolved`) once a later import records it. The candidates are the open invoices of the same
currency that ask for exactly that amount: what the client's page asks today first, then what is
owed on the invoice in all, the longest due first. A guess for a person to confirm, never applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from notifier import money
from notifier.books import schema
from notifier.books.load import REVIEW_FILE, Books
from notifier.books.records import append_records
from notifier.payments.apply import Review

CANDIDATES = 3  # at most this many invoices named for one payment


def with_candidates(books: Books, reviews: list[Review], today: date) -> list[Review]:
    """`reviews`, each with the invoices it might be for (see the module)."""
    if not reviews:
        return reviews
    from notifier.account import account_of  # the account only when there is something to match

    account = account_of(books, today)
    open_invoices = [
        invoice
        for client in account.clients.values()
        for invoice in client.invoices
        if invoice.owed.total > 0
    ]
    found = []
    for review in reviews:
        amount = _amount(review.amount)
        if amount is None:
            found.append(review)
            continue
        minor, currency = amount
        ranked = sorted(
            (
                (0 if invoice.due_now.total == minor else 1, invoice.state.due_date, invoice.number)
                for invoice in open_invoices
                if invoice.state.currency == currency
                and minor in (invoice.due_now.total, invoice.owed.total)
            ),
        )
        numbers = tuple(number for _, _, number in ranked[:CANDIDATES])
        found.append(dataclasses.replace(review, candidates=numbers))
    return found


def _amount(shown: str) -> tuple[int, str] | None:
    """A review's amount (`1320.00 GBP`) as minor units and currency; None if it is not one."""
    parts = shown.split()
    if len(parts) != 2 or not money.is_currency(parts[1]):
        return None
    try:
        return money.to_minor(Decimal(parts[0]), parts[1]), parts[1]
    except (InvalidOperation, ValueError):
        return None


def record(
    root: Path, books: Books, reviews: Iterable[Review], recorded: Iterable[str], at: datetime
) -> None:
    """Append the new rows for review (`reviews`), and mark resolved those whose payment was
    recorded now (`recorded`: the ids of the payments an import added)."""
    known = open_reviews(books)
    added = [
        schema.ReviewRecord(
            id=item.id,
            at=at,
            source=item.source,
            amount=item.amount,
            reason=item.reason,
            candidates=list(item.candidates),
        )
        for item in _unique(reviews)
        if item.id and item.id not in known
    ]
    now_paid = {_origin(ident) for ident in recorded}
    resolved = [
        entry.model_copy(update={"at": at, "status": "resolved"})
        for ident, entry in known.items()
        if ident in now_paid
    ]
    if added or resolved:
        append_records(root / REVIEW_FILE, [*added, *resolved])


def _origin(ident: str) -> str:
    """The provider's own id of a payment the books record: without the `/...` of a Stripe refund
    or the `#n` of one bank transfer's share of several invoices."""
    return ident.split("/")[0].split("#")[0]


def _unique(reviews: Iterable[Review]) -> list[Review]:
    seen: dict[str, Review] = {}
    for item in reviews:
        seen.setdefault(item.id, item)
    return list(seen.values())


def open_reviews(books: Books) -> dict[str, schema.ReviewRecord]:
    """The payments still waiting for a person, by id: recorded `open`, not resolved since, and
    not in the books' payments meanwhile (recorded by hand)."""
    paid = {payment.id for payment in books.payments} | {
        _origin(payment.id) for payment in books.payments
    }
    found: dict[str, schema.ReviewRecord] = {}
    for entry in books.reviews:
        if entry.status == "resolved":
            found.pop(entry.id, None)
        elif entry.id not in paid:
            found.setdefault(entry.id, entry)
    return found
