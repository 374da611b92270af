"""Whether the books' payments are fresh enough to chase clients on.

Chasing a client who has already paid is the one mistake that must not happen: reminders wait
until each source the business takes payments from (`payments.sources`: Stripe, the bank) has
been imported recently enough (`payments.stale_after_days`). A business paid by card and by
transfer is not chased on card data alone."""

from __future__ import annotations

from datetime import date, datetime

from notifier.books import schema
from notifier.books.load import Books

_WHAT = {"stripe": "Stripe payments", "bank": "bank statements"}
_HOW = {"stripe": "`notifier reconcile`", "bank": "`notifier reconcile STATEMENT`"}


def last_import(books: Books, via: schema.PaymentSource | None = None) -> datetime | None:
    """When payments were last imported (from `via` only, if given)."""
    return max(
        (record.at for record in books.imports if via is None or record.via == via),
        default=None,
    )


def stale_reason(books: Books, today: date) -> str | None:
    """Why payments are too old to send reminders on `today`, or None if they are fresh enough."""
    assert books.settings is not None
    settings = books.settings.payments
    limit = settings.stale_after_days
    if limit is None:
        return None
    several = len(settings.sources) > 1
    for via in settings.sources:
        what = _WHAT[via] if several else "payments"
        last = last_import(books, via)
        if last is None:
            return (
                f"{what} have never been imported (run {_HOW[via]}, "
                "or set `payments.stale_after_days: null` if you record payments by hand)"
            )
        age = (today - last.date()).days
        if age > limit:
            return (
                f"{what} were last imported {age} days ago, on {last.date()} (the limit is {limit})"
            )
    return None
