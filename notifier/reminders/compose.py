"""An email as the client receives it: multipart plain text and HTML in the client's language, the
final notice's PDF attached, headers a mail client and a spam filter expect. Pure and repeatable:
the Message-ID, Date and MIME boundaries come from the inputs, never from the clock or chance.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from notifier import formatting
from notifier.books.load import Books
from notifier.portal.addresses import Secret
from notifier.reminders.notice import notice_pdf
from notifier.reminders.placeholders import common, deadline, locale_of
from notifier.reminders.plan import THANKS, Email
from notifier.reminders.render import email_html, render
from notifier.reminders.texts import load_text

DEMO_NOTE = {
    "en": "Demo mode: the page addresses in this message are public examples.",
    "de": "Demo-Modus: Die Seitenadressen in dieser Nachricht sind öffentliche Beispiele.",
    "fr": "Mode démo : les adresses de pages de ce message sont des exemples publics.",
}


class UnsafeHeader(ValueError):
    """A value from the books would break a header (a line break or other control character)."""


@dataclass(frozen=True)
class Composed:
    email: Email
    message: EmailMessage
    subject: str
    to: tuple[str, ...]
    sender: str  # the envelope sender

    def payload(self) -> bytes:
        """The message as it goes over SMTP: CRLF line ends, ASCII only (MIME-encoded)."""
        return self.message.as_bytes(policy=policy.SMTP)

    def eml(self) -> bytes:
        """The message as an `.eml` file: LF line ends, for reading and diffing."""
        return self.message.as_bytes(policy=policy.default)


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
    UnsafeHeader if the books would put a line break in a header."""
    assert books.settings is not None
    business = books.settings.business
    locale = locale_of(books, email.client)
    language = formatting.language(locale)
    context: dict[str, Any] = common(
        books, email.client, email.items, email.receipts, as_of, secret, locale
    )
    new_deadline = deadline(email.stage, as_of)
    if new_deadline is not None:
        context["deadline"] = formatting.day(new_deadline, locale)
    name = email.stage.text if email.stage else THANKS
    words = load_text(books.root, name, language, formatting.language(business.locale))
    rendered = render(words, context)
    footer = " · ".join(
        part
        for part in (business.legal_name or business.name, " ".join(business.address.split()))
        if part
    )
    text = rendered.text
    if secret.demo:
        note = DEMO_NOTE.get(words.language, DEMO_NOTE["en"])
        text += f"\n{note}\n"
        footer = f"{note} {footer}"

    message = EmailMessage(policy=policy.default)
    sender = header_value("From", str(business.email))
    message["From"] = Address(header_value("From", business.name), addr_spec=sender)
    to = email.to
    message["To"] = [
        Address(
            header_value("To", contact.name or ""), addr_spec=header_value("To", str(contact.email))
        )
        for contact in email.client.contacts
        if contact.email
    ]
    reply_to = str(business.reply_to or business.email)
    message["Reply-To"] = Address(header_value("Reply-To", business.name), addr_spec=reply_to)
    message["Subject"] = header_value("Subject", rendered.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(email.id, sender)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies to an unattended sender
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(
        email_html(rendered, words.language, footer), subtype="html", cte="quoted-printable"
    )
    if with_notice and new_deadline is not None:
        letter = notice_pdf(books, email, as_of, secret)
        message.add_attachment(
            letter.pdf,
            maintype="application",
            subtype="pdf",
            filename=header_value("filename", letter.filename),
        )
    message["Content-Language"] = words.language  # after the parts: set_content drops it
    _fix_boundaries(message, email.id)
    return Composed(email, message, rendered.subject, to, sender)


def _fix_boundaries(message: EmailMessage, seed: str) -> None:
    """MIME boundaries from the message's id, so the same inputs give the same bytes."""
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{digest}_{index}")
