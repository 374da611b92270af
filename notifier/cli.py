"""The command line: the one place that reads the clock, prints, and chooses exit codes.

Exit codes (DESIGN.md): 0 done, 1 the books or an input file have problems (all listed), 2 usage or
setup error.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from notifier import __version__, money
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.ledger.state import InvoiceState, ledger
from notifier.portal.addresses import Secret, client_page, client_token
from notifier.portal.build import build_site
from notifier.portal.serve import start_server, watch
from notifier.problems import Problem, errors
from notifier.report.receivables import build_report
from notifier.report.render import print_report
from notifier.report.render import to_csv as report_csv
from notifier.report.render import to_json as report_json

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class AsOf(click.ParamType[date, object]):
    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-23", param, ctx)


as_of_option = click.option(
    "--as-of",
    type=AsOf(),
    default=None,
    help="The day to act as of (YYYY-MM-DD). Default: today in the business's time zone.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The folder that holds data/, content/ and site/.",
)
@click.version_option(__version__, prog_name="notifier")
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """Invoices kept as YAML in git: check the books and see where each invoice stands."""
    ctx.obj = root


def _load(root: Path) -> tuple[Books, list[Problem]]:
    """The books under `root` and their warnings, or exit: 1 listing every error, 2 if there are no
    books at all. Warnings are printed and do not stop anything."""
    if not (root / "data").is_dir():
        click.echo(f"notifier: no data/ folder in {root.resolve()} (use --root)", err=True)
        sys.exit(EXIT_USAGE)
    books, problems = check_books(root)
    for problem in problems:
        click.echo(str(problem), err=True)
    found = errors(problems)
    if found:
        click.echo(f"{len(found)} problem{'s' if len(found) != 1 else ''} in the books", err=True)
        sys.exit(EXIT_PROBLEMS)
    return books, problems


def _today(books: Books, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    assert books.settings is not None
    return datetime.now(ZoneInfo(books.settings.business.timezone)).date()


@cli.command()
@click.pass_obj
def check(root: Path) -> None:
    """Validate the books; print every problem as path:line: field: message."""
    books, warnings = _load(root)
    count = len(warnings)
    note = f", {count} warning{'s' if count != 1 else ''}" if count else ""
    click.echo(
        f"books OK: {len(books.clients)} clients, {len(books.invoices)} invoices, "
        f"{len(books.payments)} payments, {len(books.messages)} messages{note}"
    )


@cli.command()
@as_of_option
@click.pass_obj
def status(root: Path, as_of: date | None) -> None:
    """Show where every invoice stands: status, amount owed, next reminder."""
    books, _ = _load(root)
    day = _today(books, as_of)
    states = ledger(books, day)
    click.echo(f"As of {day}:")
    rows = [_row(state) for state in states.values()]
    header = ("invoice", "client", "status", "due", "late", "owed", "next step")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _row(state: InvoiceState) -> tuple[str, ...]:
    late = f"{state.days_overdue}d" if state.days_overdue else ""
    owed = money.format_plain(state.balance, state.currency) if state.balance else ""
    step = ""
    if state.early_discount is not None:
        saving = money.format_plain(state.early_discount.amount, state.currency)
        step = f"{saving} off if paid by {state.early_discount.until}; "
    reminder = state.next_reminder
    if reminder is not None:
        when = "today" if reminder.due_now else str(reminder.on)
        step += f"{reminder.stage.name} ({reminder.stage.channel}) {when}"
        if reminder.held_by:
            step += f", {reminder.held_by}"
    if state.active_plan is not None and state.next_instalment is not None:
        step += f"; plan {state.active_plan.id}, instalment {state.next_instalment.number}"
    return (
        state.invoice.number,
        state.client.id,
        state.status.value,
        str(state.due_date),
        late,
        owed,
        step.strip("; "),
    )


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the site. Default: public/ in the root folder.",
)
@as_of_option
@click.option(
    "--demo",
    is_flag=True,
    help="Build without NOTIFIER_SECRET, with public addresses; every page says so.",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to keep rendered PDFs between builds. Default: .cache/pdf in the root folder.",
)
@click.pass_obj
def build(root: Path, out: Path | None, as_of: date | None, demo: bool, cache: Path | None) -> None:
    """Render every client's private pages (HTML, PDF, calendar) into public/."""
    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=demo)
    if secret is None:
        click.echo(
            "notifier: NOTIFIER_SECRET is not set; the page addresses need it "
            "(or pass --demo for a demo site with public addresses)",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    books, _ = _load(root)
    day = _today(books, as_of)
    result = build_site(
        root, books, day, secret, out or root / "public", cache or root / ".cache" / "pdf"
    )
    mode = " (demo mode: addresses are public)" if result.demo else ""
    click.echo(
        f"Built {result.pages} pages for {result.clients} clients as of {day}{mode}: "
        f"{len(result.changed)} files written, {len(result.removed)} removed, "
        f"{result.written - len(result.changed)} unchanged."
    )


@cli.command()
@click.option(
    "--port",
    type=int,
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1; 0 picks a free one.",
)
@as_of_option
@click.pass_obj
def serve(root: Path, port: int, as_of: date | None) -> None:
    """Build, serve public/ on 127.0.0.1, and rebuild when data/, content/ or site/ change."""
    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=True)
    assert secret is not None
    out, cache = root / "public", root / ".cache" / "pdf"

    def rebuild() -> None:
        books, problems = check_books(root)
        for problem in problems:
            click.echo(str(problem), err=True)
        if errors(problems):
            click.echo(
                "Not rebuilt: the books have problems; still serving the last build.", err=True
            )
            return
        result = build_site(root, books, _today(books, as_of), secret, out, cache)
        click.echo(f"Rebuilt: {len(result.changed)} files written, {len(result.removed)} removed.")

    books, _ = _load(root)
    build_site(root, books, _today(books, as_of), secret, out, cache)
    server = start_server(out, port)
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    mode = " in demo mode (NOTIFIER_SECRET is not set)" if secret.demo else ""
    click.echo(f"Serving {out} at {address}{mode}; Ctrl-C stops.")
    for client in books.clients.values():
        token = client_token(secret, client.id, client.page_rotation)
        click.echo(f"  {client.id}: {address}{client_page(token)}")
    try:
        watch(root, rebuild, threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


@cli.command()
@as_of_option
@click.option(
    "--json", "as_json", is_flag=True, help="The whole report as JSON (amounts as decimal strings)."
)
@click.option(
    "--csv", "as_csv", is_flag=True, help="One row per invoice with its aging bucket, as CSV."
)
@click.pass_obj
def report(root: Path, as_of: date | None, as_json: bool, as_csv: bool) -> None:
    """Receivables: aging per currency, DSO, cash collected and expected, clients, open tasks."""
    if as_json and as_csv:
        click.echo("notifier report: choose --json or --csv, not both", err=True)
        sys.exit(EXIT_USAGE)
    books, _ = _load(root)
    day = _today(books, as_of)
    if as_csv:
        click.echo(report_csv(ledger(books, day), day), nl=False)
    elif as_json:
        click.echo(report_json(build_report(books, day)), nl=False)
    else:
        print_report(build_report(books, day), Console())


def main() -> None:
    cli(prog_name="notifier")
