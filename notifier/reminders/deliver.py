"""A run of `remind`, at the edge: compose what the plan says, then send and record it, write it
to an outbox, or only show it. Returns what happened; printing is the command line's job.

At most once: for each email the intent (`sending`) is appended to the books just before its bytes
go out, and the outcome (`sent`, `deferred`, `failed`) just after. A crash in between leaves an
intent with no outcome, which the next run reports and never resends, until a person records what
became of it (`record.resolution`). An email refused for the time being (`deferred`, with or
without an intent before it) goes again next run, until it has been refused on `DEFERRAL_DAYS`
days; then it is `failed`, with a task for a person. Emails the run never tried leave no record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier import speed
from notifier.addresses import Secret
from notifier.books import schema
from notifier.books.load import Books
from notifier.reminders import record
from notifier.reminders.bundle import bundle_files, bundle_name, write_bundle
from notifier.reminders.compose import Composed, UnsafeHeader, compose_email
from notifier.reminders.placeholders import phone_line
from notifier.reminders.plan import THANKS, Email, Plan
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
    stopped: str | None = None  # what stopped the sending (the server, the login), if anything

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
    if len(plan.tasks) >= TASKS_SHARED_FROM and speed.can_fork():
        sheets = speed.forked(sheets)
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
    intent and its outcome. A refusal of one email affects that email only; SetupError (the mail
    server out of reach, the login or the sender refused) stops the run, and the emails not yet
    tried wait for the next. `progress(done, total)` is told after each email."""
    root = books.root
    for sheet in report.tasks:
        task = sheet.task
        if task.channel in ("collections", "legal"):
            path = root / bundle_name(task)
            write_bundle(path, bundle_files(books, task, report.plan.as_of, secret))
            report.written.append(path)
        record.append(root, record.task_records(task, now, sheet.note))
    deferrals = Deferrals(books)
    for done, composed in enumerate(report.composed, 1):

        def intent(composed: Composed = composed) -> None:
            record.append(
                root, record.email_records(composed.email, now, "sending", composed.subject)
            )

        delivery = sender.deliver(composed.sender, composed.to, composed.payload(), intent)
        shown = _record_outcome(root, composed, delivery, now, report.plan.as_of, deferrals)
        report.deliveries.append((composed, shown))
        if progress is not None:
            progress(done, len(report.composed))


# A reminder refused for the time being (4xx) on this many different days becomes a task.
DEFERRAL_DAYS = 3


class Deferrals:
    """The days on which each reminder was refused for the time being, from the books' records."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self._by_client: dict[str, list[schema.Message]] | None = None

    def days(self, email: Email, today: date) -> list[date]:
        """The days, up to and with `today`, on which `email` (its stages for its items) was
        deferred. The records are gone through only when asked: most runs defer nothing."""
        if self._by_client is None:
            self._by_client = defaultdict(list)
            for message in self.books.messages:
                if message.status == "deferred":
                    self._by_client[message.client].append(message)
        wanted = {(item.stage.name, item.target) for item in email.items} or {
            (THANKS, receipt.payment.invoice) for receipt in email.receipts
        }
        assert self.books.settings is not None
        zone = ZoneInfo(self.books.settings.business.timezone)
        found = {
            (m.at.astimezone(zone) if m.at.tzinfo else m.at).date()
            for m in self._by_client.get(email.client.id, [])
            if any((m.stage, item) in wanted for item in m.items)
        }
        return sorted({day for day in found if day < today} | {today})


def _record_outcome(
    root: Path,
    composed: Composed,
    delivery: Delivery,
    now: datetime,
    today: date,
    deferrals: Deferrals,
) -> Delivery:
    """Record what `delivery` says of `composed`; what the summary shows of it. A deferral on the
    last day allowed is recorded as a failure, with a task for a person."""
    email, subject = composed.email, composed.subject
    if delivery.status == "deferred":
        days = deferrals.days(email, today)
        if len(days) < DEFERRAL_DAYS:
            record.append(
                root, record.email_records(email, now, "deferred", subject, delivery.detail)
            )
            return replace(
                delivery,
                detail=f"{delivery.detail}; tried again next run "
                f"(day {len(days)} of {DEFERRAL_DAYS})",
            )
        since = days[0]
        delivery = Delivery(
            "failed",
            f"{delivery.detail}; refused for the time being since {since}, on {len(days)} days",
        )
    if delivery.status == "sent":
        record.append(
            root, record.email_records(email, now, "sent", subject, delivery.detail or None)
        )
    elif delivery.status == "failed":
        records = record.email_records(email, now, "failed", subject, delivery.detail)
        note = f"email not delivered ({delivery.detail}); reach them another way: "
        records.append(record.failure_task(email, now, note + phone_line(email.client)))
        record.append(root, records)
    return delivery  # uncertain: the intent stays alone, for a person to settle


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
