"""An email as the client receives it: multipart plain text and HTML in the client's language, the
final notice's PDF attached (the invoice's own email: each invoice's PDF), headers a mail client and a spam filter expect. Pure and repeatable:
the Message-ID, Date and MIME boundaries come from the inputs, never from the clock or chance.

Composing does, up front, everything that can refuse an email or fail (its words, its placeholders,
its header values, the notice's PDF); the message's bytes (Markdown to HTML, inlined styles, MIME)
are made only when asked for, so a dry run, which shows subjects and addresses, never pays for them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.headerregistry import Address, BaseHeader
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from notifier import formatting, languages
from notifier.addresses import Secret
from notifier.books import schema
from notifier.books.load import Books
from notifier.brand import brand_of
from notifier.reminders.notice import notice_pdf
from notifier.reminders.placeholders import common, deadline, locale_of
from notifier.reminders.plan import THANKS, Email
from notifier.reminders.receipts import receipt_attachments
from notifier.reminders.render import (
    EmailBrand,
    Rendered,
    Source,
    email_html,
    markdown_html,
    render_source,
)
from notifier.reminders.texts import load_text

DEMO_NOTE = {
    "en": "Demo mode: the page addresses in this message are public examples.",
    "de": "Demo-Modus: Die Seitenadressen in dieser Nachricht sind öffentliche Beispiele.",
    "fr": "Mode démo : les adresses de pages de ce message sont des exemples publics.",
    "es": "Modo de demostración: las direcciones de página de este mensaje son ejemplos públicos.",
    "it": "Modalità demo: gli indirizzi delle pagine in questo messaggio sono esempi pubblici.",
}


class UnsafeHeader(ValueError):
    """A value from the books would break a header (a line break or other control character)."""


@dataclass(frozen=True)
class Draft:
    """Everything the message is made of, each value already checked."""

    source: Source  # the words, the Markdown not yet converted
    text: str  # the plain-text part (with the demo note, if any)
    language: str
    footer: str
    from_header: str  # `Name <address>`, as `email.headerregistry.Address` writes it
    recipients: tuple[tuple[str, str], ...]  # (name, address) of every contact with an email
    reply_to_header: str
    date: str
    message_id: str
    attachments: tuple[tuple[str, bytes], ...]  # each PDF's file name and bytes
    brand: EmailBrand | None = None  # the business's logo and accent


@dataclass(frozen=True)
class Composed:
    email: Email
    subject: str
    to: tuple[str, ...]
    sender: str  # the envelope sender
    draft: Draft = field(repr=False, compare=False)

    @property
    def message(self) -> EmailMessage:
        """The MIME message, built anew on each call (not kept: a run may compose thousands)."""
        return build_message(self.draft, self.email.id)

    def payload(self) -> bytes:
        """The message as it goes over SMTP: CRLF line ends, ASCII only (MIME-encoded)."""
        return self._bytes(smtp=True)

    def eml(self) -> bytes:
        """The message as an `.eml` file: LF line ends, for reading and diffing."""
        return self._bytes(smtp=False)

    def _bytes(self, smtp: bool) -> bytes:
        return self.message.as_bytes(policy=policy.SMTP if smtp else policy.default)


# An automatic message, and no out-of-office replies to an unattended sender.
_AUTOMATIC = (("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"))


def header_value(name: str, value: str) -> str:
    """`value` if it is safe in header `name`; UnsafeHeader if any character could end the line or
    confuse a mail client (CR, LF, NUL, other controls, Unicode line and paragraph separators)."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise UnsafeHeader(
                f"{name}: {value!r} holds a line break or control character ({char!r})"
            )
    return value


def message_id(record_id: str, business_email: str) -> str:
    return f"<{record_id}@{business_email.rsplit('@', 1)[1]}>"


def compose_email(
    books: Books,
    email: Email,
    as_of: date,
    now: datetime,
    secret: Secret,
    *,
    with_notice: bool = True,
) -> Composed:
    """The email for `email`; TextError if its words are missing or use an unknown placeholder,
    UnsafeHeader if the books would put a line break in a header. `with_notice`: with the PDFs it
    carries (the final notice's letter, the invoices of the invoice's own email)."""
    assert books.settings is not None
    business = books.settings.business
    text_name = email.stage.text if email.stage else THANKS
    wanted = locale_of(books, email.client)
    fallback = formatting.language(business.locale)
    words = load_text(books.root, text_name, formatting.language(wanted), fallback)
    # Amounts and dates in the words' language: the business's formats when they fell back.
    locale = languages.written_in(words.language, wanted, business.locale)
    context: dict[str, Any] = common(
        books, email.client, email.items, email.receipts, as_of, secret, locale
    )
    new_deadline = deadline(email.stage, as_of)
    if new_deadline is not None:
        context["deadline"] = formatting.day(new_deadline, locale)
    source = render_source(words, context)
    footer = " · ".join(
        part
        for part in (business.legal_name or business.name, " ".join(business.address.split()))
        if part
    )
    text = source.text
    if secret.demo:
        note = DEMO_NOTE.get(words.language, DEMO_NOTE["en"])
        text += f"\n{note}\n"
        footer = f"{note} {footer}"

    # Every header value checked here, in the order the message sets them. Addresses are written
    # now too, though the message is made later: the email package refuses some the books accept
    # (a non-ASCII local part), and that must stop the run before anything is sent.
    sender = header_value("From", ascii_address(str(business.email)))
    from_header = _addresses([(header_value("From", business.name), sender)])
    recipients = []
    for contact in email.client.contacts:
        if contact.email:
            name = header_value("To", contact.name or "")
            recipients.append((name, header_value("To", ascii_address(str(contact.email)))))
            _addresses(recipients[-1:])
    reply_to = ascii_address(str(business.reply_to or business.email))
    reply_to_header = _addresses([(header_value("Reply-To", business.name), reply_to)])
    subject = header_value("Subject", source.subject)
    attachments: list[tuple[str, bytes]] = []
    if with_notice and new_deadline is not None:
        letter = notice_pdf(books, email, as_of, secret)
        attachments.append((header_value("filename", letter.filename), letter.pdf))
    if with_notice and email.stage is not None and email.stage.issued:
        attachments.extend(_invoice_pdfs(books, email, as_of, secret))
    if with_notice:
        attachments.extend(receipt_attachments(books, email, secret))
    draft = Draft(
        source,
        text,
        words.language,
        footer,
        from_header,
        tuple(recipients),
        reply_to_header,
        format_datetime(now),
        message_id(email.id, sender),
        tuple(attachments),
        email_brand(books.root, business),
    )
    return Composed(email, subject, tuple(map(ascii_address, email.to)), sender, draft)


def _invoice_pdfs(
    books: Books, email: Email, as_of: date, secret: Secret
) -> list[tuple[str, bytes]]:
    """Each invoice of the email as a PDF, as its page offers it, named by its number."""
    # Imported here: the portal (Jinja, the printer) is for the runs that send an invoice.
    from notifier.portal.build import invoice_pdf

    numbers = dict.fromkeys(item.invoice.number for item in email.items)
    return [
        (
            header_value("filename", f"{number}.pdf"),
            invoice_pdf(books.root, books, as_of, secret, number),
        )
        for number in numbers
    ]


@lru_cache(maxsize=4096)
def ascii_address(address: str) -> str:
    """`address` as SMTP and a header carry it: a domain beyond ASCII (`bücher.example`) in its
    IDNA form (`xn--bcher-kva.example`). The books keep the address as the business wrote it; one
    with letters beyond ASCII before the @ is refused by `check`."""
    if address.isascii():
        return address
    # Imported here: nearly every address is ASCII, and the import alone takes some 45 ms.
    from email_validator import validate_email

    found = validate_email(address, check_deliverability=False).ascii_email
    if found is None:
        raise ValueError(f"{address}: no ASCII form (letters beyond ASCII before the @)")
    return found


def _addresses(pairs: list[tuple[str, str]]) -> str:
    """An address header's value for (display name, address) pairs, as `Address` writes it (which
    refuses some addresses the books accept, such as a non-ASCII local part)."""
    return ", ".join(_address(name, address) for name, address in pairs)


@lru_cache(maxsize=1024)
def _address(name: str, address: str) -> str:
    return str(Address(name, addr_spec=address))


def build_message(draft: Draft, seed: str) -> EmailMessage:
    """The MIME message of `draft`; `seed` (the email's id) makes the MIME boundaries."""
    message = EmailMessage(policy=policy.default)
    message["From"] = _header("From", draft.from_header)
    message["To"] = [Address(name, addr_spec=address) for name, address in draft.recipients]
    message["Reply-To"] = _header("Reply-To", draft.reply_to_header)
    message["Subject"] = draft.source.subject
    message["Date"] = _header("Date", draft.date)
    message["Message-ID"] = draft.message_id
    for name, value in _AUTOMATIC:
        message[name] = _header(name, value)
    message.set_content(draft.text, cte="quoted-printable")
    message.add_alternative(_html(draft), subtype="html", cte="quoted-printable")
    for filename, pdf in draft.attachments:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    message["Content-Language"] = draft.language  # after the parts: set_content drops it
    _fix_boundaries(message, seed)
    return message


def _html(draft: Draft) -> str:
    source = draft.source
    rendered = Rendered(source.subject, draft.text, markdown_html(source.markdown))
    return email_html(rendered, draft.language, draft.footer, draft.brand)


def email_brand(root: Path, business: schema.Business) -> EmailBrand:
    """The business's logo (as its site publishes it) and accent, for an email's HTML."""
    found = brand_of(root / "site", business.logo, business.accent)
    logo = urljoin(str(business.portal_url), found.logo) if found.logo else None
    return EmailBrand(business.name, logo, found.accent)


@lru_cache(maxsize=256)
def _header(name: str, value: str) -> BaseHeader:
    """A parsed header, made once per value: the business's addresses, the run's date and the
    like are the same in every message, and parsing is much of what building one costs."""
    header: BaseHeader = policy.default.header_factory(name, value)
    return header


def _boundary(seed: str, index: int) -> str:
    """The MIME boundary of the `index`th multipart (in `walk` order) of the message `seed`."""
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
    return f"=_{digest}_{index}"


def _fix_boundaries(message: EmailMessage, seed: str) -> None:
    """MIME boundaries from the message's id, so the same inputs give the same bytes."""
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(_boundary(seed, index))
