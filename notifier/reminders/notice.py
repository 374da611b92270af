"""The final notice as a document: a formal letter (letterhead, addressee, date, the invoices with
fees and interest, the new deadline, what happens after it), because in several countries a formal
demand must be a document. The words are `content/reminders/notice.LANG.md`; the layout is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from notifier import formatting, languages
from notifier.addresses import Secret
from notifier.books.load import Books
from notifier.printer import print_pdf
from notifier.reminders.placeholders import common, deadline, locale_of
from notifier.reminders.plan import Email
from notifier.reminders.render import render
from notifier.reminders.texts import load_text

NOTICE_TEXT = "notice"

_LETTER = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!DOCTYPE html>
<html lang="{{ language }}">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
@page { size: A4; margin: 22mm 20mm 24mm 20mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
  line-height: 1.45; color: #111; }
.letterhead { text-align: right; font-size: 9pt; color: #333; margin-bottom: 18mm; }
.letterhead strong { font-size: 12pt; color: #111; }
.addressee { white-space: pre-line; margin-bottom: 12mm; }
.date { text-align: right; margin-bottom: 8mm; }
h1 { font-size: 14pt; margin: 0 0 6mm 0; }
table { border-collapse: collapse; width: 100%; margin: 4mm 0 6mm 0; }
th, td { border-bottom: 0.5pt solid #999; padding: 2mm 1.5mm; text-align: left; }
th:not(:first-child), td:not(:first-child) { text-align: right; }
.signature { margin-top: 12mm; }
</style>
</head>
<body>
<div class="letterhead"><strong>{{ business.legal_name }}</strong><br>
{% for line in business.address.splitlines() %}{{ line }}<br>{% endfor %}
{{ business.email }}{% if business.phone %} · {{ business.phone }}{% endif %}
{% if business.tax_id %}<br>{{ business.tax_id }}{% endif %}</div>
<div class="addressee">{{ addressee }}</div>
<div class="date">{{ today }}</div>
<h1>{{ title }}</h1>
{{ body }}
</body>
</html>
"""
)


@dataclass(frozen=True)
class Letter:
    filename: str
    pdf: bytes


def notice_html(books: Books, email: Email, as_of: date, secret: Secret) -> str:
    """The letter as HTML, for WeasyPrint (and for reading in tests)."""
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
    addressee = "\n".join(line for line in (client.name, (client.address or "").strip()) if line)
    return _LETTER.render(
        language=words.language,
        title=rendered.subject,
        business=context["business"],
        addressee=addressee,
        today=context["today"],
        body=Markup(rendered.html),
    )


def notice_pdf(books: Books, email: Email, as_of: date, secret: Secret) -> Letter:
    """The final notice letter for `email` as a PDF; the same inputs give the same bytes."""
    html = notice_html(books, email, as_of, secret)
    return Letter(f"{email.stage_name}-{email.client.id}-{as_of}.pdf", _pdf(html))


@lru_cache(maxsize=64)
def _pdf(html: str) -> bytes:
    """The letter's PDF, made once per content (a PDF costs a fifth of a second or more), by the
    same printer as the invoices'. The letter loads nothing: no folder to resolve addresses in."""
    return print_pdf(html, ".")
