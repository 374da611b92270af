"""A receipt for each payment received: numbered, and what it says.

A receipt's number is the invoice's number, `R` and six characters of a digest of the payment's id
(`HP-2026-014-R3F9A2C`): the provider's id (or the business's own reference) never changes, so
the number is the same in every build and every email, whatever order payments are imported in
or however many come later. Refunds and chargebacks have none: they take money back."""

from __future__ import annotations

import hashlib
from typing import Any

from notifier import money
from notifier.account import InvoiceAccount, Status
from notifier.books import schema
from notifier.documents.common import Reader, business_parts, client_parts, common_words


def receipt_number(invoice: str, payment: schema.Payment) -> str:
    code = hashlib.sha256(payment.id.encode("utf-8")).hexdigest()[:6].upper()
    return f"{invoice}-R{code}"


def receipt_file(invoice: str, payment: schema.Payment) -> str:
    """The receipt's PDF, in the client's folder beside the invoice's page."""
    return f"{receipt_number(invoice, payment)}.pdf"


def receipts_of(account: InvoiceAccount) -> tuple[schema.Payment, ...]:
    """The payments of `account` that have a receipt: money in, not money back."""
    return tuple(p for p in account.payments if p.kind == "payment")


def how_paid(payment: schema.Payment, reader: Reader) -> str:
    if payment.method == "bank":
        return reader.gettext("Bank transfer")
    if payment.method in ("stripe", "card"):
        return reader.gettext("Card payment")
    return reader.gettext("Payment")


def receipt_data(
    business: schema.Business,
    reader: Reader,
    account: InvoiceAccount,
    payment: schema.Payment,
    page_url: str | None,
) -> dict[str, Any]:
    """What the receipt of `payment` on `account` shows: the amount, the day, how it was paid,
    for which invoice (and instalment), and what is still owed on the invoice: the account's
    figure, as the invoice's PDF says it (see `InvoiceDocument`)."""
    number = account.number
    currency = payment.currency or account.currency
    paid = reader.amount(money.to_minor(payment.amount, currency), currency)
    rows = [
        (reader.gettext("Receipt number"), receipt_number(number, payment)),
        (reader.gettext("Date"), reader.day(payment.date)),
        (reader.gettext("How"), how_paid(payment, reader)),
        (reader.gettext("For"), _for_what(number, payment, reader)),
        (
            reader.gettext("Invoice total"),
            reader.amount(account.state.totals.total, account.currency),
        ),
        (reader.gettext("Payment reference"), payment.reference or payment.id),
    ]
    owed = account.owed.total
    if account.status is Status.VOID:
        remains = reader.gettext("This invoice was cancelled. Nothing is owed on it.")
    elif owed > 0:
        remains = reader.gettext(
            "Still owed on invoice %(number)s: %(amount)s.",
            number=number,
            amount=reader.amount(owed, account.currency),
        )
    else:
        remains = reader.gettext("Invoice %(number)s is paid in full. Thank you!", number=number)
    title = reader.gettext("Receipt %(number)s", number=receipt_number(number, payment))
    return {
        "lang": reader.language,
        "business": business_parts(business, reader),
        "client": client_parts(reader.client, reader),
        "page_url": page_url,
        "words": {**common_words(reader), "received_from": reader.gettext("Received from")}
        | {"amount_received": reader.gettext("Amount received")},
        "receipt": {
            "title": title,
            "date": reader.day(payment.date),
            "amount": paid,
            "rows": rows,
            "remains": remains,
        },
    }


def _for_what(number: str, payment: schema.Payment, reader: Reader) -> str:
    if payment.instalment is not None:
        return reader.gettext(
            "Invoice %(number)s, instalment %(n)d", number=number, n=payment.instalment
        )
    return reader.gettext("Invoice %(number)s", number=number)
