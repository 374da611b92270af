"""`remind --preview DAYS`: the coming days simulated on the books as they are (no new payments),
as if every run sent what it planned. The policy as code, checked before it runs; the same plan a
real run makes, day by day."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifier import money
from notifier.books.load import Books
from notifier.reminders import record
from notifier.reminders.plan import Item, Plan, plan_run


@dataclass(frozen=True)
class Step:
    """One thing a run on `day` would do."""

    day: date
    client: str
    kind: str  # email, thanks, phone, collections, legal, waiting
    stage: str
    items: tuple[str, ...]
    amount: str  # what the client is asked to pay now, per invoice
    fees: str  # of which fees and interest

    def line(self) -> str:
        what = ", ".join(self.items)
        return (
            f"{self.day} {self.day:%a}  {self.client:<14} {self.kind:<11} {self.stage:<13} "
            f"{what}  {self.amount}{f' (fees and interest {self.fees})' if self.fees else ''}"
        ).rstrip()


def run_moment(books: Books, day: date) -> datetime:
    """The moment a run dated `day` acts at when no clock is read: 09:00 in the business's zone."""
    assert books.settings is not None
    return datetime.combine(day, time(9), ZoneInfo(books.settings.business.timezone))


def steps(plan: Plan) -> list[Step]:
    """What `plan` does, one line per email, task and waiting email."""
    found: list[Step] = []
    for email in plan.emails:
        items = email.items
        targets = tuple(i.target for i in items) or tuple(r.payment.id for r in email.receipts)
        kind = "email" if email.stage else "thanks"
        amount, fees = _amounts(items)
        found.append(
            Step(plan.as_of, email.client.id, kind, email.stage_name, targets, amount, fees)
        )
    for task in plan.tasks:
        targets = tuple(i.target for i in task.items)
        amount, fees = _amounts(task.items)
        found.append(
            Step(plan.as_of, task.client.id, task.channel, task.stage.name, targets, amount, fees)
        )
    for waiting in plan.waiting:
        reason = (waiting.reason,)
        found.append(Step(plan.as_of, waiting.client.id, "waiting", waiting.stage, reason, "", ""))
    return sorted(found, key=lambda s: (s.client, s.kind, s.stage))


def simulate(books: Books, start: date, days: int) -> Iterator[Plan]:
    """The plan of each day from `start`, `days` days, each run's emails taken as sent and its
    tasks as created."""
    current = books
    for offset in range(days):
        day = start + timedelta(days=offset)
        now = run_moment(books, day)
        plan = plan_run(current, day, now)
        yield plan
        added = []
        for email in plan.emails:
            added += record.email_records(email, now, "sent", "")
        for task in plan.tasks:
            added += record.task_records(task, now, "")
        current = dataclasses.replace(current, messages=[*current.messages, *added])


def _amounts(items: tuple[Item, ...]) -> tuple[str, str]:
    """What each invoice asks for now, and the fees and interest within it (where there are any)."""
    due = [money.format_plain(i.invoice.due_now.total, i.invoice.currency) for i in items]
    fees = [
        money.format_plain(i.invoice.due_now.charges, i.invoice.currency)
        for i in items
        if i.invoice.due_now.charges
    ]
    return ", ".join(due), ", ".join(fees)
