"""What `remind` writes to `data/records/messages.yaml`: the intent before an email goes, its
outcome after, and tasks for a person. One record per stage and status, so the ledger knows each
invoice's stage went, even when one email carried invoices at different stages.

Records are appended, not rewritten: a run records two things per email, and rewriting the whole
file each time (temporary file, rename) costs in proportion to the history, milliseconds per
record once the file holds a few thousand lines. An append is one `write` of whole lines, then
`fsync`, so an intent is on disk before its email's first byte goes out; a write that fails is cut
off again, so the file holds whole records only.
"""

from __future__ import annotations

import errno
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from notifier.books import schema
from notifier.books.load import MESSAGES_FILE, Books
from notifier.books.records import record_line
from notifier.reminders.plan import THANKS, Email, Task, unresolved

EmailStatus = Literal["sending", "sent", "deferred", "failed"]
Resolution = Literal["sent", "unsent"]
BY_HAND = "outcome recorded by hand (notifier remind --resolve)"


class NotInDoubt(Exception):
    """`remind --resolve` was given an id that names no message in doubt."""


def email_records(
    email: Email, at: datetime, status: EmailStatus, subject: str, note: str | None = None
) -> list[schema.Message]:
    """The records of `email` in `status`: one per stage it carried (a thank-you alone: one)."""
    payments = [receipt.payment.id for receipt in email.receipts]
    if email.stage is None:
        items = list(dict.fromkeys(receipt.payment.invoice for receipt in email.receipts))
        return [
            _message(email.id, at, email, THANKS, THANKS, items, status, subject, note, payments)
        ]
    records = []
    for stage, record_id in email.ids.items():
        items = [item.target for item in email.items if item.stage.name == stage]
        thanked = payments if record_id == email.id else []  # the tone's record carries them
        records.append(
            _message(record_id, at, email, stage, "email", items, status, subject, note, thanked)
        )
    return records


def task_records(task: Task, at: datetime, note: str) -> list[schema.Message]:
    """A task for a person, one record per stage it covers."""
    return [
        schema.Message(
            id=record_id,
            at=at,
            client=task.client.id,
            stage=stage,
            channel=task.channel,
            items=[item.target for item in task.items if item.stage.name == stage],
            status="task",
            note=note,
        )
        for stage, record_id in task.ids.items()
    ]


def failure_task(email: Email, at: datetime, note: str) -> schema.Message:
    """A task for a person when an email could not be delivered: reach the client another way."""
    items = [item.target for item in email.items] or list(
        dict.fromkeys(receipt.payment.invoice for receipt in email.receipts)
    )
    return schema.Message(
        id=f"{email.id}-task",
        at=at,
        client=email.client.id,
        stage=email.stage_name,
        channel="phone",
        items=items,
        status="task",
        note=note,
    )


def resolution(books: Books, message_id: str, outcome: Resolution) -> list[schema.Message]:
    """The records that settle a message in doubt (an intent with no outcome): `sent` if it went,
    `unsent` if not (its stages may go again). One email's intents settle together: those of the
    same client and moment. NotInDoubt if `message_id` names no message in doubt."""
    in_doubt = {message.id: message for message in unresolved(books.messages)}
    doubt = in_doubt.get(message_id)
    if doubt is None:
        known = [message.status for message in books.messages if message.id == message_id]
        if not known:
            raise NotInDoubt(f"no message `{message_id}` in {MESSAGES_FILE}")
        raise NotInDoubt(
            f"`{message_id}` is not in doubt: it is recorded as {', '.join(known)}; "
            "only a message left as `sending` with no outcome can be resolved"
        )
    return [
        message.model_copy(update={"status": outcome, "note": BY_HAND})
        for _, message in sorted(in_doubt.items())
        if (message.client, message.at) == (doubt.client, doubt.at)
    ]


def append(root: Path, records: list[schema.Message]) -> None:
    """Append `records` to the books, all of them or none, and on disk when this returns."""
    data = "".join(record_line(record) for record in records).encode("utf-8")
    if data:
        _append(root / MESSAGES_FILE, data)


def _append(path: Path, data: bytes) -> None:
    """Add `data` (whole lines) at the end of `path`, created if missing, in one `write`, then
    `fsync`. On any error the file is cut back to its size before, and the error raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    handle = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(handle).st_size
        if size:
            os.lseek(handle, size - 1, os.SEEK_SET)
            if os.read(handle, 1) != b"\n":  # a last line typed without its line break
                data = b"\n" + data
        try:
            written = os.write(handle, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written", path)
            os.fsync(handle)
        except BaseException:
            os.ftruncate(handle, size)
            raise
    finally:
        os.close(handle)
    if created:  # the new file's name must survive a power cut too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _message(
    record_id: str,
    at: datetime,
    email: Email,
    stage: str,
    channel: Literal["email", "thanks"],
    items: list[str],
    status: EmailStatus,
    subject: str,
    note: str | None,
    payments: list[str],
) -> schema.Message:
    return schema.Message(
        id=record_id,
        at=at,
        client=email.client.id,
        stage=stage,
        channel=channel,
        items=items,
        status=status,
        to=list(email.to),
        subject=subject,
        note=note,
        payments=payments or None,
    )
