"""`notifier remind --now CLIENT [--stage NAME]`: one client's message today, outside the schedule,
for the owner who has just spoken to them. Pure, like `plan`: the account and the settings.

Rules:
- Without a stage, each open invoice of the client whose next stage is an email and due today
  by the policy (its day has come; no pause or promise holds it) gets that stage now, whatever
  the spacing between emails or the sending days say.
- With `--stage NAME` (an email stage of the client's policy), each open invoice of the client
  that has not had it and for which it is next (even before its day) or its day has come gets it;
  a final notice only for an overdue invoice.
- The at-most-once rule holds: a stage recorded for an invoice (sent, or in doubt) never goes
  again; nor does anything for an invoice whose last email is in doubt. Emails are grouped as a
  run groups them (the invoices issued apart; a final notice with every late invoice).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from notifier.account import (
    SENT,
    Account,
    ClientAccount,
    InvoiceAccount,
    Status,
    account_of,
    not_sent,
)
from notifier.books import schema
from notifier.books.load import Books
from notifier.reminders.plan import EMAIL, Item, Plan, client_emails, unresolved


class NotNow(Exception):
    """Why the message cannot go: `usage` (an unknown client or stage: exit 2) or not (exit 1)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def plan_now_run(books: Books, as_of: date, client_id: str, stage_name: str | None) -> Plan:
    """`plan_now` of the account of `as_of` for the client alone; NotNow (usage) if the books have
    no such client, naming those they have."""
    assert books.settings is not None
    if client_id not in books.clients:
        names = sorted(books.clients)
        known = ", ".join(names[:MOST_NAMED])
        if len(names) > MOST_NAMED:
            known += f" and {len(names) - MOST_NAMED} more"
        raise NotNow(
            f"no client `{client_id}` in the books; the clients are: {known or 'none'}", usage=True
        )
    return plan_now(books.settings, account_of(books, as_of, [client_id]), client_id, stage_name)


MOST_NAMED = 20  # clients named when the one asked for is not in the books


def plan_now(
    settings: schema.Settings, account: Account, client_id: str, stage_name: str | None
) -> Plan:
    """The plan of `remind --now`: the client's email(s) of today; NotNow if none may go."""
    found = account.clients[client_id]
    stages = settings.policies.get(found.client.policy or settings.reminders.policy, [])
    if stage_name is not None:
        _known_stage(found, stages, stage_name)
    sent = _stages_sent(settings, found)
    items: list[Item] = []
    why_not: list[str] = []
    for invoice in found.invoices:
        if not invoice.status.is_open or (invoice.state.next_reminder is None and not stage_name):
            continue
        item = _item(invoice, stages, stage_name, sent, account.as_of, why_not)
        if item is not None:
            items.append(item)
    doubts = unresolved(found.messages)
    held = {target for m in doubts if m.channel == EMAIL for target in m.items}
    for item in items:
        if item.target in held:
            doubt = next(m for m in doubts if item.target in m.items)
            raise NotNow(
                f"`{doubt.id}` to {client_id} may have gone; record what became of it first: "
                f"notifier remind --resolve {doubt.id} sent|unsent"
            )
    if not items:
        what = f"`{stage_name}`" if stage_name else "an email"
        reasons = "; ".join(why_not) or "no open invoice"
        raise NotNow(f"nothing to send to {client_id} now ({what}): {reasons}")
    used = {message.id for message in found.messages}
    emails = client_emails(found, items, (), account.as_of, used)
    return Plan(account.as_of, tuple(emails), (), (), ())


def _known_stage(found: ClientAccount, stages: list[schema.Stage], name: str) -> None:
    """NotNow (usage) unless `name` is an email stage of the client's policy."""
    stage = next((s for s in stages if s.name == name), None)
    emails = ", ".join(s.name for s in stages if s.channel == EMAIL)
    if stage is None:
        raise NotNow(
            f"no stage `{name}` in the policy of {found.client.id}; its email stages are: {emails}",
            usage=True,
        )
    if stage.channel != EMAIL:
        raise NotNow(
            f"`{name}` is a task for you ({stage.channel}), not a message; the email stages of "
            f"{found.client.id}'s policy are: {emails}",
            usage=True,
        )


def _item(
    invoice: InvoiceAccount,
    stages: list[schema.Stage],
    stage_name: str | None,
    sent: dict[tuple[str, str], date],
    today: date,
    why_not: list[str],
) -> Item | None:
    """The invoice's item of today's message, or None, saying why in `why_not` when it matters."""
    reminder = invoice.state.next_reminder  # the policy's, before the spacing between emails
    number = invoice.number
    if stage_name is None:
        assert reminder is not None
        name, target = reminder.stage.name, reminder.target
        if reminder.stage.channel != EMAIL:
            why_not.append(f"{target}'s next stage is `{name}`, a task for you")
        elif reminder.held_by:
            why_not.append(f"{target}'s next stage `{name}` is held ({reminder.held_by})")
        elif not reminder.due_now:
            why_not.append(f"{target}'s next stage `{name}` is due on {reminder.on}")
        else:
            return Item(invoice, reminder.stage, reminder.target)
        return None
    stage = next(s for s in stages if s.name == stage_name)
    target = number if stage.issued or reminder is None else reminder.target
    if (target, stage.name) in sent:
        why_not.append(f"`{stage.name}` was sent for {target} on {sent[target, stage.name]}")
        return None
    state = invoice.state
    is_next = reminder is not None and reminder.stage.name == stage.name
    if not is_next and stage.date_for(state.invoice.issue_date, state.due_date) > today:
        when = stage.date_for(state.invoice.issue_date, state.due_date)
        why_not.append(f"`{stage.name}` is not next for {target}, and its day is {when}")
        return None
    if invoice.status is not Status.OVERDUE and stage.deadline_days:
        why_not.append(f"{target} is not overdue: no final notice")
        return None
    return Item(invoice, stage, target)


def _stages_sent(settings: schema.Settings, found: ClientAccount) -> dict[tuple[str, str], date]:
    """(invoice or instalment, stage): the day it was recorded, for every stage that never goes
    again (sent, failed, a task, or in doubt), as the ledger counts them."""
    zone = ZoneInfo(settings.business.timezone)
    withdrawn = not_sent(found.messages)
    sent: dict[tuple[str, str], date] = {}
    for message in found.messages:
        if message.status in SENT and message.id not in withdrawn:
            day = (message.at.astimezone(zone) if message.at.tzinfo else message.at).date()
            for item in message.items:
                sent.setdefault((item, message.stage), day)
    return sent
