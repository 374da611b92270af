"""A run of `remind`, at the edge: compose what the plan says, then send and record it, write it
to an outbox, or only show it. Returns what happened; printing is the command line's job.

At most once: for each email the intent (`sending`) is appended to the books just before its bytes
go out, and the outcome (`sent`/`failed`) just after. A crash in between leaves an intent with no
outcome, which the next run reports and never resends. Emails the server never saw leave no record
and go on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notifier.books.load import Books
from notifier.forked import can_fork, forked
from notifier.portal.addresses import Secret
from notifier.reminders import record
from notifier.reminders.bundle import bundle_files, bundle_name, write_bundle
from notifier.reminders.compose import Composed, UnsafeHeader, compose_email
from notifier.reminders.placeholders import phone_line
from notifier.reminders.plan import Plan
from notifier.reminders.send import Delivery, Sender
from notifier.reminders.tasks import TaskSheet, compose_task
from notifier.reminders.texts import TextError


@dataclass
class Report:
    plan: Plan
    composed: list[Composed] = field(default_factory=list)
    tasks: list[TaskSheet] = field(default_factory=list)
    deliveries: list[tuple[Composed, Delivery]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # words or headers that could not be made
    written: list[Path] = field(default_factory=list)  # outbox files and bundles

    def count(self, status: str) -> int:
        return sum(1 for _, delivery in self.deliveries if delivery.status == status)


# Task sheets from which a forked process writes them while the emails are composed here: below
# this, forking costs more than it saves.
TASKS_SHARED_FROM = 50

# A task sheet's words, or the problem that stopped them: what a forked process passes back.
_SheetWords = tuple[str, str, str] | str


def compose_all(
    books: Books, plan: Plan, now: datetime, secret: Secret, *, with_notice: bool
) -> Report:
    """Every email and task sheet of `plan`; words or headers that fail become problems. Many
    task sheets are written by a forked process meanwhile; only their words come back."""
    report = Report(plan)
    sheets: Callable[[], list[_SheetWords]] = lambda: _sheet_words(books, plan, secret)  # noqa: E731
    if len(plan.tasks) >= TASKS_SHARED_FROM and can_fork():
        sheets = forked(sheets)
    for email in plan.emails:
        try:
            report.composed.append(
                compose_email(books, email, plan.as_of, now, secret, with_notice=with_notice)
            )
        except (TextError, UnsafeHeader) as error:
            report.problems.append(f"{email.client.id}: {email.stage_name}: {error}")
    for task, words in zip(plan.tasks, sheets(), strict=True):
        if isinstance(words, str):
            report.problems.append(f"{task.client.id}: {task.stage.name}: {words}")
        else:
            report.tasks.append(TaskSheet(task, *words))
    return report


def _sheet_words(books: Books, plan: Plan, secret: Secret) -> list[_SheetWords]:
    """Each task sheet's title, text and note, in the plan's order, or why it could not be
    written."""
    found: list[_SheetWords] = []
    for task in plan.tasks:
        bundle = bundle_name(task) if task.channel in ("collections", "legal") else ""
        try:
            sheet = compose_task(books, task, plan.as_of, secret, bundle)
        except TextError as error:
            found.append(str(error))
        else:
            found.append((sheet.title, sheet.text, sheet.note))
    return found


def write_outbox(books: Books, report: Report, folder: Path, secret: Secret) -> None:
    """Each email as `ID.eml`, each task as `ID.txt`, each hand-off as `ID.zip`; no records."""
    folder.mkdir(parents=True, exist_ok=True)
    for composed in report.composed:
        report.written.append(_write(folder / f"{composed.email.id}.eml", composed.eml()))
    for sheet in report.tasks:
        text = f"{sheet.title}\n\n{sheet.text}"
        report.written.append(_write(folder / f"{sheet.task.id}.txt", text.encode("utf-8")))
        if sheet.task.channel in ("collections", "legal"):
            path = folder / f"{sheet.task.id}.zip"
            write_bundle(path, bundle_files(books, sheet.task, report.plan.as_of, secret))
            report.written.append(path)


def send_and_record(
    books: Books,
    report: Report,
    now: datetime,
    secret: Secret,
    sender: Sender,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Create the tasks (bundles first, then their records), then send each email between its
    intent and its outcome. Stops at the first email the server could not be reached for; the
    rest wait for the next run. `progress(done, total)` is told after each email."""
    root = books.root
    for sheet in report.tasks:
        task = sheet.task
        if task.channel in ("collections", "legal"):
            path = root / bundle_name(task)
            write_bundle(path, bundle_files(books, task, report.plan.as_of, secret))
            report.written.append(path)
        record.append(root, record.task_records(task, now, sheet.note))
    for done, composed in enumerate(report.composed, 1):
        email = composed.email

        def intent(composed: Composed = composed) -> None:
            record.append(
                root, record.email_records(composed.email, now, "sending", composed.subject)
            )

        delivery = sender.deliver(composed.sender, composed.to, composed.payload(), intent)
        report.deliveries.append((composed, delivery))
        if delivery.status == "sent":
            records = record.email_records(
                email, now, "sent", composed.subject, delivery.detail or None
            )
            record.append(root, records)
        elif delivery.status == "failed":
            records = record.email_records(email, now, "failed", composed.subject, delivery.detail)
            note = f"email not delivered ({delivery.detail}); reach them another way: "
            records.append(record.failure_task(email, now, note + phone_line(email.client)))
            record.append(root, records)
        elif delivery.status == "unsent":
            break  # the server cannot be reached: nothing more goes this run
        if progress is not None:
            progress(done, len(report.composed))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
