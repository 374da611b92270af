"""What a run of `notifier remind` does today, decided from the account of the day: which emails go
to whom, which tasks a person gets, what waits and why. Pure: the account, the settings and the
run's moment.

Rules (the account already applies the per-invoice ones: stage order, no burst after a gap, no
final notice skipped, each stage once, pauses and promises, one email in three days a client):
- One email per client and run, in the tone of the most advanced stage among its invoices; a
  payment recorded since it was last thanked rides along, or goes alone as a thank-you. The
  invoices being issued (the `issued` stage) go in an email of their own, with their PDFs: an
  invoice is not a reminder (a thank-you rides along with it when no reminder goes).
- A final notice demands every item then late: the client's other overdue invoices ride along.
- Task stages (phone, collections, legal) become one task per client and channel, any day.
- Emails go only on the business's sending days, in the client's own time zone.
- At most `reminders.per_run` emails a run, the most advanced stages first; the rest wait.
- An invoice whose last email may have gone (an intent with no outcome) gets nothing more until a
  person records what became of that email; everything else goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from notifier.account import (
    NOT_SENT,
    Account,
    ClientAccount,
    InvoiceAccount,
    InvoiceState,
    Status,
    account_of,
    not_sent,
)
from notifier.books import schema
from notifier.books.load import Books

EMAIL = "email"
THANKS: Literal["thanks"] = "thanks"
# Any record of a payment id in these statuses means it was (or may have been) thanked already.
_THANKED = {"sending", "sent", "failed", "task", "done"}
_OUTCOMES = {"sent", "failed", *NOT_SENT}


@dataclass(frozen=True)
class Item:
    """One invoice (or instalment, `target` NUMBER#N) at the stage it is due for today."""

    invoice: InvoiceAccount
    stage: schema.Stage
    target: str

    @property
    def state(self) -> InvoiceState:
        return self.invoice.state


@dataclass(frozen=True)
class Receipt:
    """A payment to thank the client for, with the invoice as it stands after it."""

    payment: schema.Payment
    invoice: InvoiceAccount

    @property
    def state(self) -> InvoiceState:
        return self.invoice.state


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
    history: tuple[schema.Message, ...] = ()  # every record of the client's messages and tasks

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
    """What a run at `now` (aware), acting as of `as_of`, sends and creates: `plan_day` of the
    account of `as_of`."""
    assert books.settings is not None
    return plan_day(books.settings, account_of(books, as_of, reminders_only=True), now)


def plan_day(settings: schema.Settings, account: Account, now: datetime) -> Plan:
    """What a run at `now` (aware), acting as of the account's day, sends and creates."""
    as_of = account.as_of
    clients = account.clients.values()
    messages = [m for client in clients for m in client.messages]
    used = {message.id for message in messages}
    emails: list[Email] = []
    tasks: list[Task] = []
    waiting: list[Waiting] = []
    in_doubt = unresolved(messages)
    held = {item: m for m in in_doubt if m.channel == EMAIL for item in m.items}
    for found in sorted(clients, key=lambda c: c.client.id):
        client, client_id = found.client, found.client.id
        items = []
        for invoice in found.invoices:
            reminder = invoice.reminder
            if reminder is None or not reminder.due_now:
                continue
            doubt = held.get(reminder.target)
            if doubt is not None:  # its last reminder may have gone: the next waits for a person
                waiting.append(Waiting(client, reminder.stage.name, _held(doubt)))
            else:
                items.append(Item(invoice, reminder.stage, reminder.target))
        thanks = tuple(_to_thank(settings, found, as_of))
        if not items and not thanks:
            continue
        by_channel: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_channel[item.stage.channel].append(item)
        for channel in sorted(set(by_channel) - {EMAIL}):
            group = tuple(by_channel[channel])
            tone = _most_advanced(group)
            ids = _ids(as_of, client_id, group, used)
            tasks.append(Task(client, channel, tone, group, ids, found.messages))
        for email in client_emails(found, by_channel.get(EMAIL, []), thanks, as_of, used):
            day = sending_day(settings, client, now)
            if day is not None:
                waiting.append(Waiting(client, email.stage_name, day))
            else:
                emails.append(email)

    # The most advanced first, so a limit holds back courtesy notes rather than final notices.
    emails.sort(key=lambda e: (-(e.stage.order if e.stage else -1000), e.client.id))
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


def client_emails(
    found: ClientAccount,
    items: list[Item],
    thanks: tuple[Receipt, ...],
    as_of: date,
    used: set[str],
) -> list[Email]:
    """The client's emails today: the invoices issued, each reminder stage's email (with the
    client's other late invoices when it is a final notice), a thank-you riding along with the
    reminder, else with the invoices, else alone."""
    client, client_id = found.client, found.client.id
    issued = tuple(item for item in items if item.stage.issued)
    reminders = tuple(item for item in items if not item.stage.issued)
    emails: list[Email] = []
    if reminders:
        tone = _most_advanced(reminders)
        if tone.deadline_days:
            reminders += _also_late(found, reminders, tone)
        ids = _ids(as_of, client_id, reminders, used)
        emails.append(Email(client, tone, reminders, thanks, _addresses(client), ids))
        thanks = ()
    if issued:
        ids = _ids(as_of, client_id, issued, used)
        emails.insert(0, Email(client, issued[0].stage, issued, thanks, _addresses(client), ids))
        thanks = ()
    if thanks:
        ids = {THANKS: _fresh(f"{as_of:%Y%m%d}-{client_id}-{THANKS}", used)}
        emails.append(Email(client, None, (), thanks, _addresses(client), ids))
    return emails


def _held(doubt: schema.Message) -> str:
    return (
        f"held: `{doubt.id}` may have gone on {doubt.at.date()}; "
        f"record what became of it: notifier remind --resolve {doubt.id} sent|unsent"
    )


def _also_late(
    client: ClientAccount, items: tuple[Item, ...], notice: schema.Stage
) -> tuple[Item, ...]:
    """The client's other late invoices (not promised, not disputed, not yet as far as a final
    notice), which a final notice demands too: recorded with it, what follows it for them waits
    for its deadline as well."""
    named = {item.invoice.number for item in items}
    return tuple(
        Item(invoice, notice, invoice.reminder.target)
        for invoice in client.overdue
        if invoice.number not in named
        and invoice.status is Status.OVERDUE
        and invoice.reminder is not None
        and not invoice.reminder.stage.issued  # not yet sent: no notice demands it
        and invoice.reminder.stage.order <= notice.order
    )


def sending_day(settings: schema.Settings, client: schema.Client, now: datetime) -> str | None:
    """Why an email may not go to `client` at `now` (not a sending day where they are), or None."""
    zone = client.timezone or settings.business.timezone
    local = now.astimezone(ZoneInfo(zone))
    weekday = schema.WEEKDAYS[local.weekday()]
    if weekday in settings.reminders.sending_days:
        return None
    return f"not a sending day: {local:%A} in {zone}"


def unresolved(messages: Iterable[schema.Message]) -> tuple[schema.Message, ...]:
    """Messages marked as being sent with no outcome recorded: the run that sent them stopped in
    between, so nobody knows whether they went. Never resent; a person checks and records it."""
    found = list(messages)
    settled = {m.id for m in found if m.status in _OUTCOMES}
    return tuple(m for m in found if m.status == "sending" and m.id not in settled)


def _most_advanced(items: tuple[Item, ...] | list[Item]) -> schema.Stage:
    return max((item.stage for item in items), key=lambda stage: stage.order)


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


def _to_thank(settings: schema.Settings, client: ClientAccount, as_of: date) -> list[Receipt]:
    """The client's payments to thank: recorded by `as_of`, at most `thanks_within_days` old,
    never thanked before."""
    window = settings.reminders.thanks_within_days
    if window == 0:
        return []
    zone = ZoneInfo(settings.business.timezone)
    withdrawn = not_sent(client.messages)
    thanked = {
        pid
        for m in client.messages
        if m.status in _THANKED and m.id not in withdrawn
        for pid in m.payments or ()
    }
    found = []
    for invoice in client.invoices:
        for payment in invoice.payments:
            if payment.kind != "payment" or payment.id in thanked:
                continue
            known = payment.date
            if payment.recorded is not None:
                recorded = payment.recorded
                local = recorded.astimezone(zone) if recorded.tzinfo else recorded
                known = max(known, local.date())
            if as_of - timedelta(days=window) <= known <= as_of:
                found.append(Receipt(payment, invoice))
    return found
