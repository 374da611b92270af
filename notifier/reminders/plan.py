"""What a run of `notifier remind` does today, decided from the ledger: which emails go to whom,
which tasks a person gets, what waits and why. Pure: the books, the as-of date and the run's moment.

Rules (the ledger already applies the per-invoice ones: stage order, no burst after a gap, each
stage once, pauses and promises):
- One email per client and run, in the tone of the most advanced stage among its invoices; a
  payment recorded since it was last thanked rides along, or goes alone as a thank-you.
- Task stages (phone, collections, legal) become one task per client and channel, any day.
- Emails go only on the business's sending days, in the client's own time zone.
- At most `reminders.per_run` emails a run, the most advanced stages first; the rest wait.
- An invoice whose last email may have gone (an intent with no outcome) gets nothing more until a
  person records what became of that email; everything else goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from notifier.books import schema
from notifier.books.load import Books
from notifier.forked import can_fork, forked
from notifier.ledger.state import NOT_SENT, InvoiceState, history, ledger, may_be_open, not_sent

EMAIL = "email"
THANKS: Literal["thanks"] = "thanks"
# Any record of a payment id in these statuses means it was (or may have been) thanked already.
_THANKED = {"sending", "sent", "failed", "task", "done"}
_OUTCOMES = {"sent", "failed", *NOT_SENT}


@dataclass(frozen=True)
class Item:
    """One invoice (or instalment, `target` NUMBER#N) at the stage it is due for today."""

    state: InvoiceState
    stage: schema.Stage
    target: str


@dataclass(frozen=True)
class Receipt:
    """A payment to thank the client for, with the invoice as it stands after it."""

    payment: schema.Payment
    state: InvoiceState


@dataclass(frozen=True)
class Email:
    client: schema.Client
    stage: schema.Stage | None  # the tone: the most advanced stage; None for a thank-you alone
    items: tuple[Item, ...]
    receipts: tuple[Receipt, ...]
    to: tuple[str, ...]
    ids: dict[str, str]  # record id by stage name (`thanks` for a thank-you alone)

    @property
    def id(self) -> str:
        """The id of the record for the tone's stage: it names the email (Message-ID, file)."""
        return self.ids[self.stage.name if self.stage else THANKS]

    @property
    def stage_name(self) -> str:
        return self.stage.name if self.stage else THANKS


@dataclass(frozen=True)
class Task:
    client: schema.Client
    channel: str
    stage: schema.Stage  # the most advanced among the items
    items: tuple[Item, ...]
    ids: dict[str, str]

    @property
    def id(self) -> str:
        return self.ids[self.stage.name]


@dataclass(frozen=True)
class Waiting:
    """An email that is due but does not go this run, and why."""

    client: schema.Client
    stage: str
    reason: str


@dataclass(frozen=True)
class Plan:
    as_of: date
    emails: tuple[Email, ...]
    tasks: tuple[Task, ...]
    waiting: tuple[Waiting, ...]
    unresolved: tuple[schema.Message, ...]  # intents with no outcome: a person must check them


def plan_run(books: Books, as_of: date, now: datetime) -> Plan:
    """What a run at `now` (aware), acting as of `as_of`, sends and creates."""
    assert books.settings is not None
    settings = books.settings
    to_thank = _to_thank(books, as_of)
    states = _states(books, as_of, {payment.invoice for payment in to_thank})
    used = {message.id for message in books.messages}

    in_doubt = unresolved(books)
    held = {item: m for m in in_doubt if m.channel == EMAIL for item in m.items}
    due: dict[str, list[Item]] = defaultdict(list)
    waiting: list[Waiting] = []
    for state in states.values():
        reminder = state.next_reminder
        if reminder is None or not reminder.due_now:
            continue
        doubt = held.get(reminder.target)
        if doubt is not None:  # its last reminder may have gone: the next waits for a person
            waiting.append(Waiting(state.client, reminder.stage.name, _held(doubt)))
        else:
            due[state.client.id].append(Item(state, reminder.stage, reminder.target))
    receipts: dict[str, list[Receipt]] = defaultdict(list)
    for payment in to_thank:
        state = states[payment.invoice]
        receipts[state.client.id].append(Receipt(payment, state))

    emails: list[Email] = []
    tasks: list[Task] = []
    for client_id in sorted(set(due) | set(receipts)):
        client = books.clients[client_id]
        items = due.get(client_id, [])
        by_channel: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_channel[item.stage.channel].append(item)
        for channel in sorted(set(by_channel) - {EMAIL}):
            group = tuple(by_channel[channel])
            tone = _most_advanced(group)
            tasks.append(Task(client, channel, tone, group, _ids(as_of, client_id, group, used)))
        mail_items = tuple(by_channel.get(EMAIL, []))
        thanks = tuple(receipts.get(client_id, []))
        if not mail_items and not thanks:
            continue
        tone_stage = _most_advanced(mail_items) if mail_items else None
        ids = _ids(as_of, client_id, mail_items, used)
        if tone_stage is None:
            ids[THANKS] = _fresh(f"{as_of:%Y%m%d}-{client_id}-{THANKS}", used)
        email = Email(client, tone_stage, mail_items, thanks, _addresses(client), ids)
        day = sending_day(settings, client, now)
        if day is not None:
            waiting.append(Waiting(client, email.stage_name, day))
        else:
            emails.append(email)

    # The most advanced first, so a limit holds back courtesy notes rather than final notices.
    emails.sort(key=lambda e: (-(e.stage.day if e.stage else -1000), e.client.id))
    limit = settings.reminders.per_run
    for email in emails[limit:]:
        waiting.append(Waiting(email.client, email.stage_name, f"over the limit of {limit} a run"))
    return Plan(
        as_of,
        tuple(emails[:limit]),
        tuple(tasks),
        tuple(waiting),
        in_doubt,
    )


def _held(doubt: schema.Message) -> str:
    return (
        f"held: `{doubt.id}` may have gone on {doubt.at.date()}; "
        f"record what became of it: notifier remind --resolve {doubt.id} sent|unsent"
    )


# Invoices in the books from which a forked process works out the ledger of the later ones, on
# the other core: below this, forking costs more than it saves.
SHARED_FROM = 2_000
# The share of the invoices this process keeps: it also works out again the states of those the
# fork found due.
KEPT_SHARE = 0.5


def _states(books: Books, as_of: date, thanked: set[str]) -> dict[str, InvoiceState]:
    """The ledger of the invoices a run reads, in the books' order: those with a reminder due now,
    and those in `thanked` (a thank-you says how the invoice stands).

    Only an open invoice gets a reminder: the ledger of the others (most of the books: paid, void
    or drafts) is not worked out. With many invoices, a forked process works out the later ones
    meanwhile and says which are due; their states (which hold the records) would cost more to
    pass back than to work out again here, and they are a fifth of the open invoices or so."""
    invoices = list(books.invoices.values())
    known = history(books, as_of)

    def open_states(share: list[schema.Invoice]) -> dict[str, InvoiceState]:
        return ledger(books, as_of, may_be_open(books, as_of, share, known=known), known=known)

    def due(share: list[schema.Invoice]) -> set[str]:
        return {number for number, state in open_states(share).items() if _due_now(state)}

    kept = len(invoices)
    theirs: Callable[[], set[str]] = set
    if kept >= SHARED_FROM and can_fork():
        kept = int(kept * KEPT_SHARE)
        theirs = forked(lambda: due(invoices[kept:]))
    mine = open_states(invoices[:kept])
    wanted = {number for number, state in mine.items() if _due_now(state)}
    wanted.update(theirs(), thanked)
    rest = [i for i in invoices if i.number in wanted and i.number not in mine]
    more = ledger(books, as_of, rest, known=known)
    return {n: mine[n] if n in mine else more[n] for n in books.invoices if n in wanted}


def _due_now(state: InvoiceState) -> bool:
    return state.next_reminder is not None and state.next_reminder.due_now


def sending_day(settings: schema.Settings, client: schema.Client, now: datetime) -> str | None:
    """Why an email may not go to `client` at `now` (not a sending day where they are), or None."""
    zone = client.timezone or settings.business.timezone
    local = now.astimezone(ZoneInfo(zone))
    weekday = schema.WEEKDAYS[local.weekday()]
    if weekday in settings.reminders.sending_days:
        return None
    return f"not a sending day: {local:%A} in {zone}"


def unresolved(books: Books) -> tuple[schema.Message, ...]:
    """Messages marked as being sent with no outcome recorded: the run that sent them stopped in
    between, so nobody knows whether they went. Never resent; a person checks and records it."""
    settled = {m.id for m in books.messages if m.status in _OUTCOMES}
    return tuple(m for m in books.messages if m.status == "sending" and m.id not in settled)


def _most_advanced(items: tuple[Item, ...] | list[Item]) -> schema.Stage:
    return max((item.stage for item in items), key=lambda stage: stage.day)


def _ids(as_of: date, client_id: str, items: tuple[Item, ...], used: set[str]) -> dict[str, str]:
    """A record id per stage among `items`: `YYYYMMDD-client-stage`, made unique in the books."""
    ids: dict[str, str] = {}
    for item in items:
        if item.stage.name not in ids:
            ids[item.stage.name] = _fresh(f"{as_of:%Y%m%d}-{client_id}-{item.stage.name}", used)
    return ids


def _fresh(base: str, used: set[str]) -> str:
    name, count = base, 1
    while name in used:
        count += 1
        name = f"{base}-{count}"
    used.add(name)
    return name


def _addresses(client: schema.Client) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(c.email) for c in client.contacts if c.email))


def _to_thank(books: Books, as_of: date) -> list[schema.Payment]:
    """Payments to thank: recorded by `as_of`, at most `thanks_within_days` old, never thanked
    before, on an invoice the books know."""
    assert books.settings is not None
    window = books.settings.reminders.thanks_within_days
    if window == 0:
        return []
    zone = ZoneInfo(books.settings.business.timezone)
    withdrawn = not_sent(books.messages)
    thanked = {
        pid
        for m in books.messages
        if m.status in _THANKED and m.id not in withdrawn
        for pid in m.payments or ()
    }
    found = []
    for payment in books.payments:
        if (
            payment.kind != "payment"
            or payment.id in thanked
            or payment.invoice not in books.invoices
        ):
            continue
        known = payment.date
        if payment.recorded is not None:
            recorded = payment.recorded
            local = recorded.astimezone(zone) if recorded.tzinfo else recorded
            known = max(known, local.date())
        if as_of - timedelta(days=window) <= known <= as_of:
            found.append(payment)
    return found
