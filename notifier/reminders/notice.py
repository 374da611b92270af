"""The final notice as a document: a formal letter (letterhead, addressee, date, the invoices with
fees and interest, the new deadline, what happens after it), because in several countries a formal
demand must be a document. The words are `content/reminders/notice.LANG.md`; the layout is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from notifier import formatting, languages
from notifier.addresses import Secret
from notifier.books.load import Books
from notifier.documents.blocks import html_blocks
from notifier.printer import Request, print_document, request
from notifier.reminders.placeholders import common, deadline, locale_of
from notifier.reminders.plan import Email
from notifier.reminders.render import render
from notifier.reminders.texts import load_text

NOTICE_TEXT = "notice"
TEMPLATE = "notice.typ"  # in the theme's documents/


@dataclass(frozen=True)
class Letter:
    filename: str
    pdf: bytes


def notice_request(books: Books, email: Email, as_of: date, secret: Secret) -> Request:
    """The letter as the printer is asked for it: `site/documents/notice.typ` with the letter's
    words (`content/reminders/notice.LANG.md`, filled in) as blocks, dated `as_of`."""
    assert books.settings is not None
    business = books.settings.business
    wanted = locale_of(books, email.client)
    words = load_text(
        books.root,
        NOTICE_TEXT,
        formatting.language(wanted),
        formatting.language(business.locale),
    )
    locale = languages.written_in(words.language, wanted, business.locale)
    context: dict[str, Any] = common(
        books, email.client, email.items, email.receipts, as_of, secret, locale
    )
    new_deadline = deadline(email.stage, as_of)
    assert new_deadline is not None, "a notice is for a stage with deadline_days"
    context["deadline"] = formatting.day(new_deadline, locale)
    rendered = render(words, context)
    client = email.client
    addressee = [client.name, *(line.strip() for line in (client.address or "").splitlines())]
    shown = context["business"]
    contact = " · ".join(part for part in (shown.email, shown.phone, shown.tax_id) if part)
    data = {
        "lang": words.language,
        "business": {
            "name": shown.name,
            "legal_name": shown.legal_name,
            "address": [line.strip() for line in shown.address.splitlines() if line.strip()],
            "contact": contact,
            "footer": f"{shown.legal_name} · {' '.join(shown.address.split())}",
            "logo": None,
        },
        "words": {"page": "{page} / {pages}"},
        "notice": {
            "title": rendered.subject,
            "addressee": [line for line in addressee if line],
            "date": context["today"],
            "body": html_blocks(rendered.html),
        },
    }
    return request(books.root / "site", TEMPLATE, data, as_of)


def notice_pdf(books: Books, email: Email, as_of: date, secret: Secret) -> Letter:
    """The final notice letter for `email` as a PDF; the same inputs give the same bytes."""
    document = notice_request(books, email, as_of, secret)
    return Letter(f"{email.stage_name}-{email.client.id}-{as_of}.pdf", _pdf(document))


@lru_cache(maxsize=64)
def _pdf(document: Request) -> bytes:
    """The letter's PDF, printed once per content (the same letter is asked for again by a task
    sheet, a preview), by the same printer as the invoices'."""
    return print_document(document)
