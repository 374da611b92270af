"""What an invoice's PDF shows: the invoice as a document the client keeps (see
`notifier.portal.views.InvoiceDocument`): the parties, the lines and totals, what is owed on it,
and how to pay it (bank details with the reference, an EPC QR code for euros, a Swiss QR-bill for
francs). Nothing only the web page has (status badges, buttons, a demo banner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notifier import formatting, money
from notifier.account import InvoiceAccount, Status
from notifier.books import schema
from notifier.documents.common import Reader, business_parts, client_parts, common_words
from notifier.documents.receipt import how_paid, receipt_number
from notifier.portal.views import InvoiceDocument


@dataclass(frozen=True)
class HowToPay:
    """What the caller drew or wrote for paying: the page's address, the EPC QR code (SVG) and
    the Swiss QR-bill's payment part (SVG), where the invoice has them, and the terms in brief."""

    page_url: str | None
    epc_qr: str | None
    qr_bill: str | None
    terms: str


def invoice_data(
    business: schema.Business,
    reader: Reader,
    account: InvoiceAccount,
    document: InvoiceDocument,
    extras: HowToPay,
) -> dict[str, Any]:
    inv = document.invoice
    facts = [
        (reader.gettext("Issued"), reader.day(inv.issue_date)),
        (reader.gettext("Due"), reader.day(document.due_date)),
    ]
    if inv.purchase_order:
        facts.append((reader.gettext("Your order"), inv.purchase_order))
    return {
        "lang": reader.language,
        "business": business_parts(business, reader),
        "client": client_parts(reader.client, reader),
        "page_url": extras.page_url,
        "qr_bill": extras.qr_bill,
        "words": {
            **common_words(reader),
            "description": reader.gettext("Description"),
            "quantity": reader.gettext("Quantity"),
            "unit_price": reader.gettext("Unit price"),
            "tax": reader.gettext("Tax"),
            "payments_received": reader.gettext("Payments received"),
            "terms": reader.gettext("Payment terms"),
            "qr_bill": reader.gettext("Swiss QR-bill payment part"),
        },
        "invoice": {
            "title": reader.gettext("Invoice %(number)s", number=inv.number),
            "continued": reader.gettext("Invoice %(number)s (continued)", number=inv.number),
            "facts": facts,
            "lines": _lines(inv, document, reader),
            "totals": _totals(document, reader),
            "standing": _standing(document, reader),
            "schedule": [
                (
                    str(i.number),
                    reader.day(i.due_date, "medium"),
                    _amount(reader, document, i.amount),
                )
                for i in (document.plan.instalments if document.plan else ())
            ],
            "notes": (inv.notes or "").strip(),
            "payments": _payments(account, document, reader),
            "terms": extras.terms,
        },
        # The QR-bill carries the bank details and the reference itself: no second block of them.
        "pay": None if extras.qr_bill else _pay(account, document, reader, extras.epc_qr),
    }


def _amount(reader: Reader, document: InvoiceDocument, minor: int) -> str:
    return reader.amount(minor, document.currency)


def _lines(inv: schema.Invoice, document: InvoiceDocument, reader: Reader) -> list[dict[str, str]]:
    cur, locale = document.currency, reader.locale
    return [
        {
            "description": line.description,
            "quantity": formatting.number(line.quantity, locale)
            + (f" {line.unit}" if line.unit else ""),
            "unit_price": formatting.amount(money.to_minor(line.unit_price, cur), cur, locale),
            "tax": formatting.percent(line.tax_rate, locale),
            "amount": reader.amount(minor, cur),
        }
        for line, minor in zip(inv.lines, document.totals.lines, strict=True)
    ]


def _totals(document: InvoiceDocument, reader: Reader) -> list[dict[str, Any]]:
    """The rows under the lines, as the invoice's page has them, to what is owed on it."""
    inv, totals = document.invoice, document.totals
    rows: list[tuple[str, int, bool]] = [(reader.gettext("Subtotal"), totals.subtotal, False)]
    if totals.discount:
        reason = f" ({inv.discount.reason})" if inv.discount and inv.discount.reason else ""
        rows.append((reader.gettext("Discount") + reason, -totals.discount, False))
    for tax in totals.taxes:
        if tax.rate:
            label = reader.gettext(
                "Tax at %(rate)s on %(base)s",
                rate=formatting.percent(tax.rate, reader.locale),
                base=_amount(reader, document, tax.base),
            )
            rows.append((label, tax.tax, False))
    rows.append((reader.gettext("Total"), totals.total, True))
    if totals.deposit and inv.deposit:
        label = reader.gettext("Deposit paid on %(date)s", date=reader.day(inv.deposit.date))
        rows.append((label, -totals.deposit, False))
    if document.paid - totals.deposit:
        rows.append((reader.gettext("Paid"), -(document.paid - totals.deposit), False))
    if document.discount_taken:
        rows.append((reader.gettext("Early-payment discount"), -document.discount_taken, False))
    if document.fees:
        rows.append((reader.gettext("Late-payment fee"), document.fees, False))
    if document.interest:
        rows.append((reader.gettext("Late-payment interest"), document.interest, False))
    if document.owed > 0:
        rows.append((reader.gettext("Owed"), document.owed, True))
    return [
        {
            "label": label,
            "amount": ("−" if minor < 0 else "") + _amount(reader, document, abs(minor)),
            "strong": strong,
        }
        for label, minor, strong in rows
    ]


def _standing(document: InvoiceDocument, reader: Reader) -> list[str]:
    """Where the invoice stands, in sentences: what the invoice's page says of it, less the day."""
    inv, status = document.invoice, document.status
    if status is Status.VOID and inv.void:
        return [
            reader.gettext(
                "This invoice was cancelled on %(date)s. Nothing is owed on it.",
                date=reader.day(inv.void.date),
            )
        ]
    if document.owed <= 0:
        return [reader.gettext("Paid in full. Thank you!")]
    found = []
    if not document.plan:
        found.append(reader.gettext("Due on %(date)s.", date=reader.day(document.due_date)))
    if document.early_discount:
        found.append(
            reader.gettext(
                "Pay %(amount)s by %(date)s and save %(saving)s.",
                amount=_amount(reader, document, document.owed - document.early_discount.amount),
                date=reader.day(document.early_discount.until),
                saving=_amount(reader, document, document.early_discount.amount),
            )
        )
    rate = formatting.percent(document.interest_rate, reader.locale)
    if document.interest_next:
        found.append(
            reader.gettext(
                "Interest at %(rate)s a year is added on %(date)s if it is still unpaid.",
                rate=rate,
                date=reader.day(document.interest_next),
            )
        )
    elif document.interest_rate:
        found.append(
            reader.gettext(
                "Unpaid after its due date, it bears interest at %(rate)s a year, added once a month.",
                rate=rate,
            )
        )
    if status is Status.PROMISED and inv.promise:
        found.append(
            reader.gettext(
                "You told us you would pay by %(date)s. Thank you.", date=reader.day(inv.promise.by)
            )
        )
    elif status is Status.DISPUTED:
        found.append(
            reader.gettext(
                "We are talking this invoice over with you; we send no reminders about it meanwhile."
            )
        )
    if document.plan:
        found.append(reader.gettext("Your plan: %(name)s", name=reader.name(document.plan.name)))
    return found


def _payments(
    account: InvoiceAccount, document: InvoiceDocument, reader: Reader
) -> list[dict[str, str]]:
    found = []
    for payment in document.payments:
        if payment.kind == "payment":
            how, receipt, sign = (
                how_paid(payment, reader),
                receipt_number(account.number, payment),
                "",
            )
        else:
            how = (
                reader.gettext("Refund")
                if payment.kind == "refund"
                else reader.gettext("Chargeback")
            )
            receipt, sign = "", "−"
        currency = payment.currency or document.currency
        amount = reader.amount(money.to_minor(payment.amount, currency), currency)
        found.append(
            {
                "date": reader.day(payment.date, "medium"),
                "how": how,
                "receipt": receipt,
                "amount": sign + amount,
            }
        )
    return found


def _pay(
    account: InvoiceAccount, document: InvoiceDocument, reader: Reader, qr: str | None
) -> dict[str, Any] | None:
    """How to pay what is owed: the bank accounts for the invoice's currency with the reference
    to quote; None when nothing is owed, or the invoice is not open."""
    if document.owed <= 0 or not document.status.is_open:
        return None
    rows: list[tuple[str, str]] = [
        (reader.gettext("Amount"), _amount(reader, document, document.owed)),
        (reader.gettext("Reference"), account.reference),
    ]
    for bank in account.bank_accounts:
        rows.extend(_bank_rows(bank, reader))
    return {
        "title": reader.gettext("How to pay"),
        "rows": rows,
        "online": None,
        "qr": qr,
        "qr_caption": reader.gettext("Scan with your banking app to pay by SEPA transfer."),
    }


def _bank_rows(bank: schema.BankAccount, reader: Reader) -> list[tuple[str, str]]:
    rows = [(reader.gettext("Account name"), bank.account_name)]
    if bank.bank_name:
        rows.append((reader.gettext("Bank"), bank.bank_name))
    if bank.iban:
        compact = "".join(bank.iban.split())
        rows.append(("IBAN", " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))))
    if bank.bic:
        rows.append(("BIC", bank.bic))
    if bank.sort_code:
        rows.append((reader.gettext("Sort code"), bank.sort_code))
    if bank.account_number:
        rows.append((reader.gettext("Account number"), bank.account_number))
    if bank.routing_number:
        rows.append((reader.gettext("Routing number"), bank.routing_number))
    if bank.note:
        rows.append(("", bank.note))
    return rows
