"""The collections hand-off: a zip an agency or a lawyer can work from. The invoices' statement,
every message and task recorded with its date, the payments, the final notice letter again, and
the invoice PDFs as the portal makes them. Same books and date, same bytes."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from notifier import money
from notifier.account import account_of
from notifier.addresses import Secret
from notifier.books.load import Books
from notifier.files import write_atomically
from notifier.reminders.notice import notice_pdf
from notifier.reminders.plan import Email, Item, Task

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no clock time, so bundles are repeatable


def bundle_name(task: Task) -> str:
    return f"data/records/collections/{task.id}.zip"


def bundle_files(books: Books, task: Task, as_of: date, secret: Secret) -> dict[str, bytes]:
    """Every file of the hand-off, by name inside the zip."""
    # Imported here: the portal (Jinja, zxing-cpp) is for the runs that make a hand-off.
    from notifier.portal.build import invoice_pdf

    numbers = {item.state.invoice.number for item in task.items}
    targets = {item.target for item in task.items}
    files: dict[str, bytes] = {}
    files["statement.csv"] = _csv(
        [
            "invoice",
            "currency",
            "issue_date",
            "due_date",
            "days_overdue",
            "total",
            "paid",
            "fees",
            "interest",
            "balance",
            "status",
        ],
        [
            [
                s.invoice.number,
                s.currency,
                s.invoice.issue_date,
                s.due_date,
                s.days_overdue,
                _plain(s.totals.total, s.currency),
                _plain(s.paid, s.currency),
                _plain(s.fees, s.currency),
                _plain(s.interest, s.currency),
                _plain(i.owed.total, s.currency),
                s.status.value,
            ]
            for i, s in ((item.invoice, item.state) for item in task.items)
        ],
    )
    files["payments.csv"] = _csv(
        ["id", "invoice", "date", "kind", "amount", "currency", "method", "reference"],
        [
            [p.id, p.invoice, p.date, p.kind, p.amount, p.currency, p.method, p.reference or ""]
            for item in task.items
            for p in item.invoice.payments
        ],
    )
    about = [m for m in task.history if set(m.items) & (targets | numbers)]
    files["messages.csv"] = _csv(
        ["at", "id", "stage", "channel", "status", "to", "subject", "note"],
        [
            [
                m.at.isoformat(),
                m.id,
                m.stage,
                m.channel,
                m.status,
                " ".join(m.to),
                m.subject or "",
                m.note or "",
            ]
            for m in about
        ],
    )
    notice = _final_notice(books, task, about, secret)
    if notice is not None:
        files[notice[0]] = notice[1]
    for number in sorted(numbers):
        files[f"invoices/{number}.pdf"] = invoice_pdf(books.root, books, as_of, secret, number)
    files["README.txt"] = (
        f"Hand-off for {task.client.name} ({task.client.id}), prepared on {as_of}.\n"
        "statement.csv: each invoice with what is owed, fees and interest, as of that day.\n"
        "messages.csv: every reminder and task recorded about these invoices, with its date.\n"
        "payments.csv: every payment, refund and chargeback on them.\n"
        + ("final-notice-*.pdf: the formal notice as sent.\n" if notice else "")
        + "invoices/: each invoice as its client's page offers it, as of that day.\n"
    ).encode()
    return files


def write_bundle(path: Path, files: dict[str, bytes]) -> None:
    """The zip at `path` (replaced whole, never left half-written), entries sorted and undated."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    write_atomically(path, data.getvalue())


def _final_notice(
    books: Books, task: Task, about: list[Any], secret: Secret
) -> tuple[str, bytes] | None:
    """The last final notice sent about these invoices, rendered again as of the day it went."""
    assert books.settings is not None
    policies = books.settings.policies
    notices = {s.name: s for stages in policies.values() for s in stages if s.deadline_days}
    sent = [m for m in about if m.stage in notices and m.status == "sent"]
    if not sent:
        return None
    last = sent[-1]
    day = last.at.date()
    invoices = account_of(books, day, [task.client.id]).invoices
    items = tuple(
        Item(invoices[target.split("#")[0]], notices[last.stage], target)
        for target in last.items
        if target.split("#")[0] in invoices
    )
    email = Email(task.client, notices[last.stage], items, (), (), {last.stage: last.id})
    letter = notice_pdf(books, email, day, secret)
    return letter.filename, letter.pdf


def _plain(minor: int, currency: str) -> str:
    return str(money.to_major(minor, currency))


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
