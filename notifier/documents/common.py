"""What every document shows beyond its own figures: the business, the client, the page address,
and the words of the template in the client's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import NullTranslations

from notifier import formatting
from notifier.books import schema
from notifier.books.translated import Translated


@dataclass(frozen=True)
class Reader:
    """Who a document is for: the client, their locale and the theme's words in their language."""

    client: schema.Client
    locale: str
    words: NullTranslations
    business_locale: str  # for a name the books give in several languages, none the reader's

    @property
    def language(self) -> str:
        return formatting.language(self.locale)

    def amount(self, minor: int, currency: str) -> str:
        return formatting.amount(minor, currency, self.locale)

    def day(self, value: Any, style: formatting.DateStyle = "long") -> str:
        return formatting.day(value, self.locale, style)

    def name(self, words: Translated) -> str:
        """A name the books may give per language (a plan's), in the reader's."""
        return formatting.name(words, self.locale, self.business_locale)

    def gettext(self, text: str, **values: Any) -> str:
        """`text` in the reader's language, its `%(name)s` filled in. (Named `gettext` so that
        `make translations` finds the words: Babel's extractor looks for calls of that name.)"""
        return self.words.gettext(text) % values if values else self.words.gettext(text)


def business_parts(business: schema.Business, reader: Reader) -> dict[str, Any]:
    """The business as a document's letterhead and footer show it."""
    legal = business.legal_name or business.name
    contact = [str(business.email)]
    if business.phone:
        contact.append(business.phone)
    if business.tax_id:
        contact.append(f"{reader.gettext('Tax ID')} {business.tax_id}")
    logo = getattr(business, "logo", None)  # a theme file (`site/...`), where the books name one
    address = " ".join(business.address.split())
    return {
        "name": business.name,
        "legal_name": legal,
        "address": [legal, *_lines(business.address), *contact],
        "contact": " · ".join(contact),
        "footer": f"{legal} · {address}",
        "logo": f"/{logo}" if logo else None,
    }


def client_parts(client: schema.Client, reader: Reader) -> dict[str, Any]:
    lines = [client.name, *_lines(client.address or "")]
    if client.tax_id:
        lines.append(f"{reader.gettext('Your tax ID')} {client.tax_id}")
    return {"name": client.name, "address": lines}


def common_words(reader: Reader) -> dict[str, str]:
    """The words every template may use."""
    return {
        "from": reader.gettext("From"),
        "to": reader.gettext("To"),
        "amount": reader.gettext("Amount"),
        "page": reader.gettext("Page {page} of {pages}"),
        "page_address": reader.gettext("Where it stands, and ways to pay:"),
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]
