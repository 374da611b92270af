"""Whether the books' payments are fresh enough to chase clients on.

Chasing a client who has already paid is the one mistake that must not happen: reminders wait
until payments have been imported recently enough (`payments.stale_after_days`)."""

from __future__ import annotations

from datetime import date, datetime

from notifier.books.load import Books


def last_import(books: Books) -> datetime | None:
    return max((record.at for record in books.imports), default=None)


def stale_reason(books: Books, today: date) -> str | None:
    """Why payments are too old to send reminders on `today`, or None if they are fresh enough."""
    assert books.settings is not None
    limit = books.settings.payments.stale_after_days
    if limit is None:
        return None
    last = last_import(books)
    if last is None:
        return (
            "payments have never been imported (run `notifier reconcile`, "
            "or set `payments.stale_after_days: null` if you take no card payments)"
        )
    age = (today - last.date()).days
    if age > limit:
        return (
            f"payments were last imported {age} days ago, on {last.date()} (the limit is {limit})"
        )
    return None
