"""A credit note as a document the client keeps: its number and date, the invoice it reduces, what
it takes off (its lines, or its amount) and why, and what the invoice asks after it.

Its PDF is named by its own number (`CN-2026-001.pdf`, beside the invoice's page: a credit note's
number is used by no invoice), and exists from the credit note's date: before it, the account has
no such reduction."""

from __future__ import annotations

from typing import Any

from notifier import formatting, money
from notifier.account import InvoiceAccount
from notifier.books import schema
from notifier.documents.common import Reader, business_parts, client_parts, common_words
from notifier.ledger.reductions import Reduction


def credit_note_file(number: str) -> str:
    """The credit note's PDF, in the client's folder beside the invoice's page."""
    return f"{number}.pdf"


def credit_notes_of(account: InvoiceAccount) -> tuple[tuple[schema.CreditNote, Reduction], ...]:
    """The invoice's credit notes in force on the account's day, each with what it took off."""
    written = {note.number: note for note in account.state.invoice.credit_notes}
    return tuple(
        (written[r.reference], r)
        for r in account.state.reductions
        if r.kind == "credit note" and r.reference in written
    )


def credit_note_data(
    business: schema.Business,
    reader: Reader,
    account: InvoiceAccount,
    note: schema.CreditNote,
    reduction: Reduction,
    page_url: str | None,
) -> dict[str, Any]:
    """What the PDF of `note` shows: the amount `reduction` (the account's) took off the invoice,
    and what is owed on the invoice now, the account's figure as the receipt says it."""
    number, currency = account.number, account.currency
    state = account.state
    rows = [
        (reader.gettext("Credit note number"), note.number),
        (reader.gettext("Date"), reader.day(note.date)),
        (reader.gettext("Reduces invoice"), number),
        (reader.gettext("Issued"), reader.day(state.invoice.issue_date)),
        (reader.gettext("Invoice total"), reader.amount(state.totals.total, currency)),
        (reader.gettext("Reason"), note.reason),
    ]
    owed = account.owed.total
    if owed > 0:
        now = reader.gettext(
            "Still owed on invoice %(number)s: %(amount)s.",
            number=number,
            amount=reader.amount(owed, currency),
        )
    elif state.overpaid > 0:
        now = reader.gettext(
            "Nothing is owed on invoice %(number)s; %(amount)s paid beyond it is your credit.",
            number=number,
            amount=reader.amount(state.overpaid, currency),
        )
    else:
        now = reader.gettext("Nothing is owed on invoice %(number)s.", number=number)
    title = reader.gettext("Credit note %(number)s", number=note.number)
    return {
        "lang": reader.language,
        "business": business_parts(business, reader),
        "client": client_parts(reader.client, reader),
        "page_url": page_url,
        "words": {
            **common_words(reader),
            "description": reader.gettext("Description"),
            "quantity": reader.gettext("Quantity"),
            "unit_price": reader.gettext("Unit price"),
            "tax": reader.gettext("Tax"),
            "credited": reader.gettext("Credited, tax included"),
        },
        "credit_note": {
            "title": title,
            "date": reader.day(note.date),
            "amount": reader.amount(reduction.amount, currency),
            "rows": rows,
            "lines": _lines(note, currency, reader),
            "now": now,
        },
    }


def _lines(note: schema.CreditNote, currency: str, reader: Reader) -> list[dict[str, str]]:
    """The credit note's lines as written (their total is the amount credited)."""
    return [
        {
            "description": line.description,
            "quantity": formatting.number(line.quantity, reader.locale)
            + (f" {line.unit}" if line.unit else ""),
            "unit_price": reader.amount(money.to_minor(line.unit_price, currency), currency),
            "tax": formatting.percent(line.tax_rate, reader.locale),
        }
        for line in note.lines or ()
    ]
