"""The owner's daily email: after a run, what it did and what needs a person, in the business's
language, plain text and HTML, in the words of `content/reminders/owner.LANG.md`.

It lists the calls to make today (with the phone numbers, what is owed and the history so far),
the collections and legal hand-offs (the bundle attached, or its path when too large), the
payments waiting for review with their likeliest invoices, the emails in doubt and how to settle
them, the problems that stopped part of the run, what went today, and what goes in the next seven
days unless someone acts (the simulation of `remind --preview 7`), with the dashboard's address.

Every figure is formatted from the account of the day. Recorded in messages.yaml with `channel:
owner` (intent, then outcome, as every email), at most once a day; `reminders.owner_email` says
when it goes: `always`, `on-action` (only when the run did something or needs someone), `never`.
Nothing secret goes in: no key, password or token but the dashboard's own address.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from notifier import formatting
from notifier.account import account_of
from notifier.addresses import Secret, absolute, dashboard_page, dashboard_token
from notifier.books import schema
from notifier.books.load import Books
from notifier.payments.review import open_reviews
from notifier.reminders import record
from notifier.reminders.compose import ascii_address, header_value, message_id
from notifier.reminders.placeholders import HistoryView, history, phone_line, sums
from notifier.reminders.plan import EMAIL, THANKS, unresolved
from notifier.reminders.preview import simulate, steps
from notifier.reminders.render import email_html, link, render
from notifier.reminders.send import Delivery, Sender
from notifier.reminders.texts import OWNER_TEXT, load_text

TEXT = OWNER_TEXT
HANDOFFS = ("collections", "legal")
ATTACH_UP_TO = 5 * 1024 * 1024  # a bundle larger than this is named by its path, not attached
WEEK = 7


@dataclass(frozen=True)
class News:
    """What the owner's email says, each value ready to show; `context` for the text."""

    day: date
    context: dict[str, Any]
    attachments: tuple[tuple[str, bytes], ...] = ()
    needs_someone: bool = False
    did_something: bool = False
    ids: dict[str, str] = field(default_factory=dict)


def gather(books: Books, today: date, secret: Secret, problems: list[str]) -> News:
    """What the email says after a run on `today`, from the books as the run left them."""
    assert books.settings is not None
    business = books.settings.business
    locale = business.locale
    zone = ZoneInfo(business.timezone)

    def on_day(message: schema.Message) -> date:
        return (message.at.astimezone(zone) if message.at.tzinfo else message.at).date()

    todays = [m for m in books.messages if on_day(m) == today]
    tasks = [m for m in todays if m.status == "task" and m.channel != EMAIL]
    involved = {m.client for m in tasks}
    account = account_of(books, today, [c for c in books.clients if c in involved])

    def owed(message: schema.Message) -> str:
        numbers = dict.fromkeys(item.split("#")[0] for item in message.items)
        found = [account.invoices[n] for n in numbers if n in account.invoices]
        return sums(((i.owed.total, i.state.currency) for i in found), locale)

    def earlier(message: schema.Message) -> list[Any]:
        before = [m for m in books.messages if m.client == message.client and m.at < message.at]
        return history(before, locale)

    calls, handoffs, attachments = [], [], []
    for task in tasks:
        client = books.clients[task.client]
        entry = {
            "client": client.name,
            "phone": phone_line(client),
            "owed": owed(task),
            "invoices": ", ".join(task.items),
            "stage": task.stage,
            "channel": task.channel,
            "history": earlier(task),
        }
        if task.channel in HANDOFFS:
            bundle = books.root / "data" / "records" / "collections" / f"{task.id}.zip"
            if not bundle.is_file():
                continue  # one hand-off, several stages: the bundle is named for one of them
            path = bundle.relative_to(books.root).as_posix()
            attached = bundle.stat().st_size <= ATTACH_UP_TO
            if attached:
                attachments.append((bundle.name, bundle.read_bytes()))
            handoffs.append({**entry, "bundle": path, "attached": attached})
        else:
            calls.append(entry)
    reviews = [
        {
            "id": entry.id,
            "amount": entry.amount,
            "reason": entry.reason,
            "candidates": ", ".join(entry.candidates),
        }
        for entry in open_reviews(books).values()
    ]
    doubts = [
        {
            "id": m.id,
            "client": books.clients[m.client].name if m.client in books.clients else m.client,
            "day": formatting.day(on_day(m), locale),
            "sent": f"notifier remind --resolve {m.id} sent",
            "unsent": f"notifier remind --resolve {m.id} unsent",
        }
        for m in unresolved(books.messages)
    ]
    sent = _sent_today(books, todays)
    week = [
        step.line()
        for plan in simulate(books, today, WEEK)
        for step in steps(plan)
        if step.kind != "waiting"
    ]
    context: dict[str, Any] = {
        "business": business.name,
        "today": formatting.day(today, locale),
        "dashboard": link(
            absolute(str(business.portal_url), dashboard_page(dashboard_token(secret)))
        ),
        "calls": calls,
        "handoffs": handoffs,
        "reviews": reviews,
        "doubts": doubts,
        "problems": list(problems),
        "sent": sent,
        "week": week,
    }
    needs = bool(calls or handoffs or reviews or doubts or problems)
    return News(today, context, tuple(attachments), needs, bool(sent))


def sample_contexts(books: Books, locale: str) -> dict[str, dict[str, Any]]:
    """What `check` fills the owner's text in with: a `full` context, every list with an entry
    shaped as `gather` makes it, and a `lean` one, nothing to say. Keep in step with `gather`."""
    assert books.settings is not None
    business = books.settings.business
    day = date(2026, 3, 16)
    owed = formatting.amount(123456, business.currency, locale)
    seen = formatting.day(day, locale, "medium")
    entry: dict[str, Any] = {
        "client": "Sample Client Ltd",
        "phone": "Alex Sample, +44 20 7946 0000",
        "owed": owed,
        "invoices": "SAMPLE-1, SAMPLE-2#2",
        "stage": "call",
        "channel": "phone",
        "history": [HistoryView(seen, "friendly", "email", "sent", "SAMPLE-1", "")],
    }
    full: dict[str, Any] = {
        "business": business.name,
        "today": formatting.day(day, locale),
        "dashboard": link("https://pay.example.com/b/sample/"),
        "calls": [entry],
        "handoffs": [{**entry, "bundle": "data/records/collections/sample.zip", "attached": True}],
        "reviews": [
            {
                "id": "ch_sample",
                "amount": "1234.56 GBP",
                "reason": "no invoice named",
                "candidates": "SAMPLE-1",
            }
        ],
        "doubts": [
            {
                "id": "sample-id",
                "client": "Sample Client Ltd",
                "day": formatting.day(day, locale),
                "sent": "notifier remind --resolve sample-id sent",
                "unsent": "notifier remind --resolve sample-id unsent",
            }
        ],
        "problems": ["Stripe could not be reached"],
        "sent": [
            {
                "client": "Sample Client Ltd",
                "stages": "friendly",
                "invoices": "SAMPLE-1",
                "to": "alex@client.example",
            }
        ],
        "week": ["2026-03-17  email  sample-client  follow-up-1"],
    }
    lean = {
        **full,
        "calls": [],
        "handoffs": [],
        "reviews": [],
        "doubts": [],
        "problems": [],
        "sent": [],
        "week": [],
    }
    return {"full": full, "lean": lean}


def _sent_today(books: Books, todays: list[schema.Message]) -> list[dict[str, str]]:
    """A line per client emailed today: the stages and invoices, and to whom."""
    by_client: dict[str, list[schema.Message]] = defaultdict(list)
    for message in todays:
        if message.status == "sent" and message.channel in (EMAIL, THANKS):
            by_client[message.client].append(message)
    return [
        {
            "client": books.clients[client].name if client in books.clients else client,
            "stages": ", ".join(dict.fromkeys(m.stage for m in found)),
            "invoices": ", ".join(dict.fromkeys(i for m in found for i in m.items)),
            "to": ", ".join(dict.fromkeys(a for m in found for a in m.to)),
        }
        for client, found in sorted(by_client.items())
    ]


def why_not(books: Books, news: News) -> str | None:
    """Why the email does not go after this run (the setting, already sent today, nothing to
    say), or None if it goes."""
    assert books.settings is not None
    when = books.settings.reminders.owner_email
    if when == "never":
        return "not sent: `reminders.owner_email` is `never`"
    statuses = _todays(books, news.day)
    for ident, found in statuses.items():
        if "sent" in found or found == {"sending"}:  # gone, or it may have: never twice
            return f"already sent today (`{ident}`)"
    if when == "on-action" and not (news.needs_someone or news.did_something):
        return "nothing to say today"
    return None


def _todays(books: Books, day: date) -> dict[str, set[str]]:
    """The statuses of each owner's email recorded on `day`, by id."""
    assert books.settings is not None
    zone = ZoneInfo(books.settings.business.timezone)
    found: dict[str, set[str]] = defaultdict(set)
    for message in books.owner_emails:
        local = message.at.astimezone(zone) if message.at.tzinfo else message.at
        if local.date() == day:
            found[message.id].add(message.status)
    return found


@dataclass(frozen=True)
class OwnerEmail:
    id: str
    to: str
    sender: str
    subject: str
    message: EmailMessage


def compose(books: Books, news: News, now: datetime) -> OwnerEmail:
    """The email; TextError if its words are missing or wrong, UnsafeHeader if a header would
    break."""
    assert books.settings is not None
    business = books.settings.business
    language = formatting.language(business.locale)
    words = load_text(books.root, TEXT, language, "en")
    rendered = render(words, news.context)
    sender = header_value("From", ascii_address(str(business.email)))
    to = header_value("To", ascii_address(str(business.owner_email or business.email)))
    tried = len(_todays(books, news.day))  # deferred or failed earlier today: a new id
    ident = f"{news.day:%Y%m%d}-owner" + (f"-{tried + 1}" if tried else "")
    message = EmailMessage(policy=policy.default)
    message["From"] = str(Address(header_value("From", business.name), addr_spec=sender))
    message["To"] = to
    message["Subject"] = header_value("Subject", rendered.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(ident, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(
        email_html(rendered, words.language, business.name), subtype="html", cte="quoted-printable"
    )
    for name, data in news.attachments:
        message.add_attachment(data, maintype="application", subtype="zip", filename=name)
    message["Content-Language"] = words.language
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
            part.set_boundary(f"=_{digest}_{index}")
    return OwnerEmail(ident, to, sender, rendered.subject, message)


def send_and_record(root: Path, email: OwnerEmail, now: datetime, sender: Sender) -> Delivery:
    """Send the email between its intent and its outcome in messages.yaml; SetupError if the
    server cannot be reached (nothing recorded: the next run tries again)."""

    def entry(status: record.EmailStatus, note: str | None = None) -> schema.Message:
        return schema.Message(
            id=email.id,
            at=now,
            client=schema.OWNER,
            stage=schema.OWNER,
            channel="owner",
            status=status,
            to=[email.to],
            subject=email.subject,
            note=note,
        )

    intent: Callable[[], None] = lambda: record.append(root, [entry("sending")])  # noqa: E731
    # Lines up to SMTP's own limit: folding at 78 puts a long subject on a line of its own, and
    # some readers then show it with a leading space.
    payload = email.message.as_bytes(policy=policy.SMTP.clone(max_line_length=998))
    delivery = sender.deliver(email.sender, (email.to,), payload, intent)
    if delivery.status != "uncertain":
        record.append(root, [entry(delivery.status, delivery.detail or None)])
    return delivery
