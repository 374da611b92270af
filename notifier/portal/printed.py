"""The documents beside an invoice's page, as the printer is asked for them: the invoice's PDF, a
receipt for each payment and a PDF of each credit note, each a template of `site/documents/` with its data (see
`notifier.documents`)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from notifier import formatting, money
from notifier.addresses import absolute
from notifier.documents.blocks import html_blocks, plain_text
from notifier.documents.common import Reader
from notifier.documents.credit_note import credit_note_data, credit_note_file, credit_notes_of
from notifier.documents.invoice import HowToPay, invoice_data
from notifier.documents.receipt import receipt_data, receipt_file, receipts_of
from notifier.documents.swiss_qr import qr_bill_svg
from notifier.portal.documents import epc_qr_svg
from notifier.portal.views import ClientView, InvoiceView, invoice_document
from notifier.printer import Request, request

if TYPE_CHECKING:
    from notifier.portal.build import Portal

INVOICE = "invoice.typ"
RECEIPT = "receipt.typ"
CREDIT_NOTE = "credit-note.typ"


def reader_of(portal: Portal, view: ClientView) -> Reader:
    assert portal.books.settings is not None
    words = portal.theme.words(formatting.language(view.locale))
    return Reader(view.client, view.locale, words, portal.books.settings.business.locale)


def invoice_request(portal: Portal, view: ClientView, invoice: InvoiceView) -> Request:
    """The invoice's PDF: the invoice as a document (see `InvoiceDocument`), dated its issue day
    (it is printed again when something happens to it, never for the day alone)."""
    assert portal.books.settings is not None
    business = portal.books.settings.business
    reader = reader_of(portal, view)
    document = invoice_document(invoice)
    owed = document.owed if document.status.is_open else 0
    epc = bank = None
    for account in invoice.bank_accounts:
        if account.iban and bank is None:
            bank = account
    if bank is not None and bank.iban and owed > 0:
        title = reader.gettext("EPC QR code for a SEPA transfer")
        epc = epc_qr_svg(
            invoice.state, owed, bank.account_name, bank.iban, bank.bic, title, portal.cache
        )
    swiss = None
    if bank is not None and owed > 0:
        amount = money.to_major(owed, invoice.state.currency)
        swiss = qr_bill_svg(
            business,
            bank,
            view.client,
            amount,
            invoice.state.currency,
            invoice.reference,
            reader.language,
        )
    extras = HowToPay(page_url(portal, view, invoice), epc, swiss, terms_brief(portal, reader))
    data = invoice_data(business, reader, invoice.account, document, extras)
    return request(portal.root / "site", INVOICE, data, document.invoice.issue_date)


def receipt_requests(
    portal: Portal, view: ClientView, invoice: InvoiceView
) -> list[tuple[str, Request]]:
    """Each payment's receipt: its file's name beside the invoice's page, and what to print. A
    receipt is dated the day of its payment."""
    assert portal.books.settings is not None
    business = portal.books.settings.business
    reader = reader_of(portal, view)
    url = page_url(portal, view, invoice)
    return [
        (
            receipt_file(invoice.number, payment),
            request(
                portal.root / "site",
                RECEIPT,
                receipt_data(business, reader, invoice.account, payment, url),
                payment.date,
            ),
        )
        for payment in receipts_of(invoice.account)
    ]


def credit_note_requests(
    portal: Portal, view: ClientView, invoice: InvoiceView
) -> list[tuple[str, Request]]:
    """Each credit note of the invoice in force that day: its file's name beside the invoice's
    page, and what to print. A credit note is dated its own day."""
    assert portal.books.settings is not None
    business = portal.books.settings.business
    reader = reader_of(portal, view)
    url = page_url(portal, view, invoice)
    return [
        (
            credit_note_file(note.number),
            request(
                portal.root / "site",
                CREDIT_NOTE,
                credit_note_data(business, reader, invoice.account, note, reduction, url),
                note.date,
            ),
        )
        for note, reduction in credit_notes_of(invoice.account)
    ]


def page_url(portal: Portal, view: ClientView, invoice: InvoiceView) -> str:
    assert portal.books.settings is not None
    return absolute(str(portal.books.settings.business.portal_url), view.folder + invoice.page)


def terms_brief(portal: Portal, reader: Reader) -> str:
    """The first paragraph of the payment terms in the reader's language (else the business's)."""
    return _first_paragraph(portal.terms_in(reader.language))


@cache  # the same few terms for every invoice of a build
def _first_paragraph(html: str) -> str:
    paragraphs = plain_text(html_blocks(html)) if html else []
    return " ".join(paragraphs[0].split()) if paragraphs else ""
