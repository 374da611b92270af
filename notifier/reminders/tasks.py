"""Tasks for a person (a call, a collections or legal hand-off): the sheet they read, in the
business's language and formats, with the phone numbers and the history so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from notifier import formatting
from notifier.addresses import Secret
from notifier.books.load import Books
from notifier.reminders.placeholders import common, history, phone_line
from notifier.reminders.plan import Task
from notifier.reminders.render import render_text
from notifier.reminders.texts import load_text


@dataclass(frozen=True)
class TaskSheet:
    task: Task
    title: str
    text: str
    note: str  # one line for the record in the books


def compose_task(
    books: Books,
    task: Task,
    as_of: date,
    secret: Secret,
    bundle: str = "",
) -> TaskSheet:
    """The sheet for `task`; `bundle` is where its hand-off zip was written ("" if none)."""
    assert books.settings is not None
    locale = books.settings.business.locale
    language = formatting.language(locale)
    context: dict[str, Any] = common(books, task.client, task.items, (), as_of, secret, locale)
    context["phone"] = phone_line(task.client)
    context["history"] = history(task.history, locale)
    context["bundle"] = bundle
    # A sheet is plain text: no Markdown to convert, no HTML to clean.
    title, text = render_text(load_text(books.root, task.stage.text, language, language), context)
    earlier = "; ".join(
        f"{entry.date} {entry.stage} {entry.status}" for entry in context["history"]
    )
    note = f"{task.channel}: {context['phone']}"
    if bundle:
        note += f"; bundle {bundle}"
    note += f"; history: {earlier or 'none'}"
    return TaskSheet(task, title, text, note)
