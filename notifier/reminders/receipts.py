"""The receipts a thank-you email carries: one PDF per payment it thanks for, the same document
as the one beside the invoice's page (see `notifier.documents.receipt`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations

from notifier import formatting, languages
from notifier.addresses import Secret, absolute, client_token, invoice_page
from notifier.books.load import Books
from notifier.documents.common import Reader
from notifier.documents.receipt import receipt_data, receipt_file
from notifier.portal import i18n
from notifier.printer import print_document, request
from notifier.reminders.placeholders import locale_of
from notifier.reminders.plan import Email

RECEIPT = "receipt.typ"  # in the theme's documents/


def receipt_attachments(
    books: Books, email: Email, secret: Secret
) -> tuple[tuple[str, bytes], ...]:
    """(file name, PDF) of the receipt of each payment `email` thanks for (money in only)."""
    assert books.settings is not None
    business = books.settings.business
    theme = books.root / "site"
    # The theme's words in the client's language, else the business's: dates and numbers alike.
    speaks = languages.theme_languages(theme)
    locale = languages.reading_locale(locale_of(books, email.client), speaks, business.locale)
    reader = Reader(
        email.client, locale, _words(theme, formatting.language(locale)), business.locale
    )
    token = client_token(secret, email.client.id, email.client.page_rotation)
    found = []
    for receipt in email.receipts:
        payment, account = receipt.payment, receipt.invoice
        if payment.kind != "payment":
            continue
        url = absolute(str(business.portal_url), invoice_page(token, account.number))
        data = receipt_data(business, reader, account, payment, url)
        pdf = print_document(request(theme, RECEIPT, data, payment.date))
        found.append((receipt_file(account.number, payment), pdf))
    return tuple(found)


@cache
def _words(theme: Path, language: str) -> NullTranslations:
    return i18n.for_language(i18n.load_translations(theme), language)
