"""The report as a person reads it on a terminal (rich), and as JSON and CSV for other tools.
Amounts in JSON and CSV are decimal strings in major units, never floats."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from notifier import money
from notifier.account import Account, Status
from notifier.report.receivables import BUCKETS, HORIZON_DAYS, PERIOD_DAYS, Report, bucket


def _major(minor: int, currency: str) -> str:
    return str(money.to_major(minor, currency))


def to_json(report: Report) -> str:
    figures = []
    for item in report.currencies:
        c = item.currency
        figures.append(
            {
                "currency": c,
                "aging": {name: _major(v, c) for name, v in item.aging.items()},
                "owed": _major(item.owed, c),
                "fees_and_interest": _major(item.fees_and_interest, c),
                "sales": _major(item.sales, c),
                "collected": _major(item.collected, c),
                "expected": _major(item.expected, c),
                "dso_days": item.dso,
                "credited": _major(item.credited, c),
                "written_off": _major(item.written_off, c),
                "credit": _major(item.credit, c),
            }
        )
    clients = []
    for record in report.clients:
        fields: dict[str, Any] = asdict(record)
        fields["owed"] = {c: _major(v, c) for c, v in record.owed.items()}
        fields["credit"] = {c: _major(v, c) for c, v in record.credit.items()}
        fields["paused_until"] = str(record.paused_until) if record.paused_until else None
        clients.append(fields)
    document = {
        "as_of": str(report.as_of),
        "period": {"from": str(report.period_start), "days": PERIOD_DAYS},
        "expected_within_days": HORIZON_DAYS,
        "currencies": figures,
        "collected_by_month": {
            c: {month: _major(v, c) for month, v in months.items()}
            for c, months in report.collected_by_month.items()
        },
        "clients": clients,
        "tasks": [asdict(task) for task in report.tasks],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "invoice", "client", "currency", "status", "issue_date", "due_date", "days_overdue", "aging",
    "total", "paid", "fees", "interest", "balance", "credited", "written_off", "credit",
)  # fmt: skip


def to_csv(account: Account) -> str:
    """One row per issued invoice with its aging bucket: what a spreadsheet wants."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for invoice in account.invoices.values():
        state, owed = invoice.state, invoice.owed
        if state.status in (Status.DRAFT, Status.VOID):
            continue
        c = state.currency
        late = max(0, (account.as_of - state.due_date).days) if owed.total > 0 else 0
        writer.writerow(
            (
                state.invoice.number,
                state.client.id,
                c,
                state.status.value,
                state.invoice.issue_date,
                state.due_date,
                late,
                bucket(late) if owed.total else "",
                _major(state.totals.total, c),
                _major(state.paid, c),
                _major(state.fees, c),
                _major(state.interest, c),
                _major(owed.total, c),
                _major(state.reduced_by("credit note"), c),
                _major(state.reduced_by("write-off"), c),
                _major(state.reduced_by("credit"), c),
            )
        )
    return out.getvalue()


# In a log, a line is as long as its values need: nothing is cut or folded at 80 columns.
LOG_WIDTH = 10_000


def report_console(terminal: bool | None = None) -> Console:
    """Where `report` prints: on a terminal, tables that fit its width (a value too wide is folded
    onto the next line, never cut); in a log (no TTY, as in CI), plain complete lines."""
    if terminal if terminal is not None else sys.stdout.isatty():
        return Console()
    return Console(width=LOG_WIDTH, no_color=True, highlight=False, emoji=False, soft_wrap=True)


def print_report(report: Report, console: Console) -> None:
    """Tables a business owner reads: aging per currency, cash, clients, open tasks."""
    aging = Table(title=f"Receivables as of {report.as_of}", title_justify="left")
    aging.add_column("Currency", overflow="fold")
    for name in BUCKETS:
        aging.add_column(
            "current" if name == "current" else f"{name} days", justify="right", overflow="fold"
        )
    aging.add_column("Total", justify="right", style="bold", overflow="fold")
    for item in report.currencies:
        c = item.currency
        aging.add_row(c, *(_major(item.aging[name], c) for name in BUCKETS), _major(item.owed, c))
    console.print(aging)

    cash = Table(
        title=f"Cash (the last {PERIOD_DAYS} days, the next {HORIZON_DAYS})", title_justify="left"
    )
    for name in ("Currency", "Collected", "Expected", "Fees and interest", "DSO"):
        cash.add_column(name, justify="left" if name == "Currency" else "right", overflow="fold")
    for item in report.currencies:
        c = item.currency
        dso = f"{item.dso} days" if item.dso is not None else "-"
        cash.add_row(
            c,
            _major(item.collected, c),
            _major(item.expected, c),
            _major(item.fees_and_interest, c),
            dso,
        )
    console.print(cash)

    clients = Table(title="Clients", title_justify="left")
    for name in (
        "Client",
        "Open",
        "Owed",
        "Avg days late",
        "On time",
        "Rating",
        "Notes",
        "Last message",
    ):
        clients.add_column(name, overflow="fold")
    for record in report.clients:
        notes = [f"promised {p}" for p in record.promises_due]
        notes += [f"disputed {d}" for d in record.disputes]
        if record.paused_until:
            notes.append(f"paused until {record.paused_until}")
        notes += [f"credit {money.format_plain(v, c)}" for c, v in record.credit.items()]
        notes += [f"written off {w}" for w in record.written_off]
        clients.add_row(
            record.client,
            str(record.open_invoices),
            ", ".join(money.format_plain(v, c) for c, v in record.owed.items()) or "-",
            "-" if record.average_days_late is None else f"{record.average_days_late:g}",
            "-" if record.paid_on_time is None else f"{record.paid_on_time:.0%}",
            record.rating,
            "; ".join(notes),
            record.last_message or "-",
        )
    console.print(clients)

    if report.tasks:
        tasks = Table(title="Waiting for a person", title_justify="left")
        for name in ("Since", "Client", "What", "Stage", "About", "Phone"):
            tasks.add_column(name, overflow="fold")
        for task in report.tasks:
            what = "task" if task.kind == "task" else "check: sent or not?"
            tasks.add_row(
                task.at, task.client, what, task.stage, ", ".join(task.items), task.phone or "-"
            )
        console.print(tasks)
    else:
        console.print("Nothing is waiting for a person.")
