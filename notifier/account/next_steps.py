"""What happens next for a client: each invoice's stages to come, with their dates, and the
client's emails spaced so that one goes in any `SPACING_DAYS` days at most (thank-yous aside).
The invoice's own email (the `issued` stage) is never held back by the spacing, but counts in
it: the reminder after it waits `SPACING_DAYS` days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from notifier.account.model import InvoiceAccount, Step
from notifier.books import schema
from notifier.ledger.state import InvoiceState, NextReminder, not_sent

SPACING_DAYS = 3  # a client gets at most one email (thank-yous aside) in any this many days
_WRITTEN = {"sending", "sent"}  # an email in either state may have reached the client


def spaced(
    invoices: list[InvoiceAccount], last_written: date | None, as_of: date
) -> tuple[InvoiceAccount, ...]:
    """`invoices` with their emails to come spaced: the client's emails (one a day at most, that
    day's reminders together) at least `SPACING_DAYS` apart, counting from `last_written`. An
    email step that would come sooner moves later, and the invoice's steps after it with it; a
    reminder due today that would come sooner waits."""
    steps = {i.number: list(i.steps) for i in invoices}
    done: set[tuple[str, int]] = set()
    last, planned = last_written, False  # the last email's day; planned (not yet sent) or not
    while True:
        waiting = [
            (step.on, number, index)
            for number, found in steps.items()
            for index, step in enumerate(found)
            if step.stage.channel == "email" and (number, index) not in done
        ]
        if not waiting:
            break
        on, number, index = min(waiting)
        done.add((number, index))
        moved = on
        if steps[number][index].stage.issued:  # the invoice goes on its day, whatever went before
            if last is None or on > last:
                last, planned = on, True
            continue
        if last is not None and planned and on <= last:
            moved = last  # goes with the email already planned for that day
        elif last is not None and on < last + timedelta(days=SPACING_DAYS):
            moved = last + timedelta(days=SPACING_DAYS)
        if moved != on:
            steps[number][index:] = [_moved(step, moved - on) for step in steps[number][index:]]
        last, planned = moved, True
    return tuple(_with_steps(i, tuple(steps[i.number]), as_of) for i in invoices)


def _moved(step: Step, shift: timedelta) -> Step:
    return Step(step.on + shift, step.stage, step.deadline + shift if step.deadline else None)


def _with_steps(invoice: InvoiceAccount, steps: tuple[Step, ...], as_of: date) -> InvoiceAccount:
    reminder = invoice.reminder
    if reminder is None or not steps or steps[0].on == reminder.on:
        return replace(invoice, steps=steps)
    held = reminder.held_by or f"one email to a client in {SPACING_DAYS} days at most"
    moved = replace(reminder, on=steps[0].on, due_now=reminder.due_now and steps[0].on <= as_of)
    return replace(invoice, steps=steps, reminder=replace(moved, held_by=held))


def steps_of(
    settings: schema.Settings, state: InvoiceState, reminder: NextReminder | None
) -> tuple[Step, ...]:
    """The stages still to come, with their dates, as the policy and the books stand today: each
    on its day or after the one before, an email at least `SPACING_DAYS` after the last, and
    what follows a final notice after its deadline."""
    if reminder is None:
        return ()
    stages = settings.policies.get(state.client.policy or settings.reminders.policy, [])
    names = [stage.name for stage in stages]
    steps: list[Step] = []
    earliest = reminder.on
    last_email: date | None = None
    for stage in stages[names.index(reminder.stage.name) :]:
        on = max(stage.date_for(state.invoice.issue_date, state.due_date), earliest)
        if stage.channel == "email" and last_email is not None and not stage.issued:
            on = max(on, last_email + timedelta(days=SPACING_DAYS))
        deadline = on + timedelta(days=stage.deadline_days) if stage.deadline_days else None
        steps.append(Step(on, stage, deadline))
        earliest = deadline + timedelta(days=1) if deadline else on
        if stage.channel == "email":
            last_email = on
    return tuple(steps)


def last_written(
    settings: schema.Settings, messages: list[schema.Message], as_of: date
) -> date | None:
    """The last day on or before `as_of` that an email other than a thank-you went (or may
    have gone) to the client of `messages`."""
    zone = ZoneInfo(settings.business.timezone)
    withdrawn = not_sent(messages)
    days = [
        (m.at.astimezone(zone) if m.at.tzinfo else m.at).date()
        for m in messages
        if m.channel == "email"
        and m.stage != "thanks"
        and m.status in _WRITTEN
        and m.id not in withdrawn
    ]
    return max((day for day in days if day <= as_of), default=None)
