"""The command line: the one place that reads the clock, prints, and chooses exit codes.

Exit codes (DESIGN.md): 0 done, 1 the books or an input file have problems (all listed), 2 usage or
setup error.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from notifier import __version__
from notifier.addresses import Secret
from notifier.books.bounds import out_of_range
from notifier.books.paths import PAYMENTS_FILE, SETTINGS_FILE
from notifier.portal.last_build import inputs_digest, unchanged

# The rest is imported by the commands that use it: `notifier build` with nothing to do, `--help`
# and the scheduled job's first steps should not wait for Jinja, Babel, pydantic and Typst.
if TYPE_CHECKING:
    from notifier.account import InvoiceAccount
    from notifier.books.load import Books
    from notifier.payments.exports import PaidRows, RowProblem, StripeRow
    from notifier.problems import Problem
    from notifier.reminders.deliver import Report
    from notifier.reminders.plan import Plan
    from notifier.reminders.smtp_settings import SmtpSettings


EXIT_PROBLEMS = 1
EXIT_USAGE = 2
VERBOSE = "notifier.verbose"  # ctx.meta key: print details too
INBOX = "data/inbox"  # where the scheduled job finds exports to import
INBOX_FILES = ("*.csv",)  # the files in it that `run` imports
ARCHIVE = "data/archive"  # where it keeps them once imported
RECORDS = "data/records"  # what the commands append to: a killed one may leave temporary files
BOOKS_CACHE = ".cache/books"  # book files already read and validated, keyed by their bytes
TEXTS_CACHE = ".cache/texts"  # the reminder texts' compiled templates, keyed by their source


class AsOf(click.ParamType[date, object]):
    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-23", param, ctx)
        problem = out_of_range(day)
        if problem is not None:
            self.fail(problem, param, ctx)
        return day


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
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only problems, warnings and errors (on stderr)."
)
@click.option("--verbose", "-v", is_flag=True, help="Also print each file written or removed.")
@click.version_option(__version__, prog_name="notifier")
@click.pass_context
def cli(ctx: click.Context, root: Path, quiet: bool, verbose: bool) -> None:
    """Invoices kept as YAML in git: client pages, reminders, payments and reports."""
    ctx.obj = root
    ctx.meta[VERBOSE] = verbose and not quiet
    if quiet:
        # Everything a command says on stdout is a summary; problems go to stderr and still show.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - kept open until the process ends


def _load(root: Path) -> tuple[Books, list[Problem]]:
    """The books under `root` and their warnings, or exit: 1 listing every error, 2 if there are no
    books at all. Warnings are printed and do not stop anything."""
    from notifier import speed
    from notifier.books.checks import check_books
    from notifier.problems import errors

    _books_folder(root)
    speed.keep_compiled_texts(root / TEXTS_CACHE)
    with speed.kept_until_exit():
        books, problems = check_books(
            root, root / BOOKS_CACHE, spread=speed.spread, aside=speed.aside
        )
    for problem in problems:
        click.echo(str(problem), err=True)
    found = errors(problems)
    if found:
        click.echo(f"{len(found)} problem{'s' if len(found) != 1 else ''} in the books", err=True)
        sys.exit(EXIT_PROBLEMS)
    return books, problems


def _books_folder(root: Path) -> None:
    """Exit 2 unless `root` holds a data/ folder."""
    if not (root / "data").is_dir():
        click.echo(f"notifier: no data/ folder in {root.resolve()} (use --root)", err=True)
        sys.exit(EXIT_USAGE)


def _lock_books(root: Path) -> None:
    """Hold the books' lock until the command ends, so that no other notifier process writes
    them meanwhile (see notifier.lock), and remove what a killed run left half-written; exit 2 if
    another process holds the lock for longer than a second command waits."""
    from notifier.files import remove_leftovers
    from notifier.lock import BooksBusy, books_locked

    _books_folder(root)
    try:
        click.get_current_context().with_resource(books_locked(root))
    except BooksBusy as busy:
        click.echo(
            f"notifier: another notifier run holds the books ({busy.lock}); waited "
            f"{busy.waited:g} s, nothing was done: try again once it has finished",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    for path in remove_leftovers(root / RECORDS):
        if click.get_current_context().meta.get(VERBOSE):
            click.echo(f"  removed {path.relative_to(root)} (left by a run that was stopped)")


@contextmanager
def _theme_errors(root: Path) -> Iterator[None]:
    """Exit 1 naming the template, and the line, when the theme lacks a template or one of its
    templates does not parse, rather than with a traceback."""
    import jinja2

    from notifier.printer import DocumentError

    templates = Path("site") / "templates"
    try:
        yield
    except DocumentError as error:  # a document's template (site/documents/), named with its line
        click.echo(str(error), err=True)
        sys.exit(EXIT_PROBLEMS)
    except jinja2.TemplateSyntaxError as error:
        click.echo(f"{templates / (error.name or '?')}:{error.lineno}: {error.message}", err=True)
        sys.exit(EXIT_PROBLEMS)
    except jinja2.TemplateNotFound as error:
        click.echo(
            f"notifier: the theme has no {templates / str(error.name)} (in {root.resolve()}); "
            "this version of notifier renders with it: copy it from the template repository",
            err=True,
        )
        sys.exit(EXIT_PROBLEMS)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing in a log, or with --quiet (stdout is not a tty)."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import Progress  # here: it takes a while to load, and a log needs none

    with Progress(transient=True) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _business_today(root: Path) -> date | None:
    """Today in the business's time zone, read from data/business.yaml alone (None if it cannot
    be: then the books are loaded, and their problems reported, as usual)."""
    from notifier.books.yamlfile import read_yaml  # reads safely: no pipe, no alias unbounded

    settings, _ = read_yaml(root / SETTINGS_FILE, SETTINGS_FILE)
    if settings is None:
        return None
    try:
        return datetime.now(ZoneInfo(settings.data["business"]["timezone"])).date()
    except Exception:  # any doubt: take the long way
        return None


def _today(books: Books, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    assert books.settings is not None
    return datetime.now(ZoneInfo(books.settings.business.timezone)).date()


@cli.command()
@click.pass_obj
def check(root: Path) -> None:
    """Validate the books and the texts in content/; print every problem as path:line: field:
    message."""
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
    from notifier import speed
    from notifier.account import account_of

    books, _ = _load(root)
    day = _today(books, as_of)
    with speed.kept_until_exit():
        account = account_of(books, day)
    click.echo(f"As of {day}:")
    rows = [_row(account.invoices[number]) for number in books.invoices]
    header = ("invoice", "client", "status", "due", "late", "owed", "next step")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _row(invoice: InvoiceAccount) -> tuple[str, ...]:
    from notifier import money

    state = invoice.state
    late = f"{state.days_overdue}d" if state.days_overdue else ""
    owed = money.format_plain(invoice.owed.total, state.currency) if invoice.owed.total else ""
    step = ""
    if state.early_discount is not None:
        saving = money.format_plain(state.early_discount.amount, state.currency)
        step = f"{saving} off if paid by {state.early_discount.until}; "
    reminder = invoice.reminder
    if reminder is not None:
        when = "today" if reminder.due_now else str(reminder.on)
        step += f"{reminder.stage.name} ({reminder.stage.channel}) {when}"
        if reminder.held_by:
            step += f", {reminder.held_by}"
    elif state.not_chased:
        step += "not chased: below terms.not_chased_below"
    if state.credit_left:
        step += f"; {money.format_plain(state.credit_left, state.currency)} credit to use"
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
    help="Where to keep rendered PDFs and QR codes between builds. Default: .cache/pdf in the "
    "root folder.",
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
    out = out or root / "public"
    day = as_of or _business_today(root)
    try:
        inputs = inputs_digest(root, day, secret) if day is not None else None
    except OSError:  # a file gone, or unreadable, since listed: the books' check will say which
        inputs = None
    result = unchanged(out, inputs, secret.demo) if inputs is not None else None
    if result is None:
        from notifier.printer import Printer

        # Something changed, so pages change, and with them, all but always, a PDF: Typst and its
        # fonts load beside the books, the checks and the pages, not after them.
        printer = Printer()
        try:
            from notifier.portal.site import build_site  # a build with nothing to do needs none

            books, _ = _load(root)
            day = _today(books, as_of)
            with _progress("Building the pages") as progress, _theme_errors(root):
                result = build_site(
                    root,
                    books,
                    day,
                    secret,
                    out,
                    cache or root / ".cache" / "pdf",
                    progress,
                    inputs=inputs,
                    printer=printer,
                )
        finally:
            printer.close()
    mode = " (demo mode: addresses are public)" if result.demo else ""
    click.echo(
        f"Built {result.pages} pages for {result.clients} clients as of {day}{mode}: "
        f"{len(result.changed)} files written, {len(result.removed)} removed, "
        f"{result.written - len(result.changed)} unchanged."
    )
    if click.get_current_context().meta.get(VERBOSE):
        for name in result.changed:
            click.echo(f"  wrote {name}")
        for name in result.removed:
            click.echo(f"  removed {name}")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from-stripe", is_flag=True, help="Read payments through the Stripe API.")
@click.option(
    "--since",
    type=AsOf(),
    default=None,
    help="With --from-stripe: only payments created on or after this day (YYYY-MM-DD).",
)
@click.pass_obj
def reconcile(root: Path, files: tuple[Path, ...], from_stripe: bool, since: date | None) -> None:
    """Import bank statements and Stripe exports (FILE...), or the Stripe API, into the books,
    each payment once."""
    from notifier.payments.exports import read_compact

    if from_stripe == bool(files) or (since is not None and not from_stripe):
        click.echo(
            "notifier reconcile: give export FILEs, or --from-stripe [--since DATE]", err=True
        )
        sys.exit(EXIT_USAGE)
    _lock_books(root)
    books, _ = _load(root)
    assert books.settings is not None
    zone = ZoneInfo(books.settings.business.timezone)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(zone).date()
    statements = [p for p in files if _is_statement(books, p)]
    if statements:
        _import_statements(root, books, statements, now)
        files = tuple(p for p in files if p not in statements)
        if not files:
            return
        books, _ = _load(root)
    if from_stripe:
        from notifier.payments import stripe_api  # only here: the stripe package is slow to load

        client = stripe_api.make_client(_stripe_key())
        rows: Iterable[StripeRow | RowProblem | PaidRows] = stripe_api.payment_rows(
            client, since, zone
        )
        source = stripe_api.SOURCE
    else:
        rows = itertools.chain.from_iterable(read_compact(p, str(p), zone) for p in files)
        source = ", ".join(p.name for p in files)
    _import_payments(root, books, rows, source, now, today)


def _is_statement(books: Books, path: Path) -> bool:
    from notifier.payments.statements import is_statement

    assert books.settings is not None
    return is_statement(path, books.settings.payments.bank_csv)


def _import_statements(root: Path, books: Books, files: Iterable[Path], now: datetime) -> None:
    """Apply the bank statements `files` to the books and print what happened; exit 1 (nothing
    written) if any cannot be read."""
    stopped = _apply_statements(root, books, files, now)
    if stopped is not None:
        click.echo(stopped[1], err=True)
        sys.exit(stopped[0])


def _apply_statements(
    root: Path, books: Books, files: Iterable[Path], now: datetime
) -> tuple[int, str] | None:
    """Apply the bank statements `files` to the books and print what happened, recording the
    credits waiting for review; or, nothing written, the exit code and why (each problem
    printed)."""
    from notifier.payments import bank_import
    from notifier.payments import review as payments_review
    from notifier.payments.statements import read

    assert books.settings is not None
    mapping = books.settings.payments.bank_csv
    statements = [
        read(p, str(p.relative_to(root) if p.is_relative_to(root) else p), mapping) for p in files
    ]
    problems = [
        *(p for s in statements for p in s.problems),
        *(p for s in statements for p in bank_import.currency_problems(books, s)),
    ]
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        count = len(problems)
        return (
            EXIT_PROBLEMS,
            f"{count} problem{'s' if count != 1 else ''} in the statements; nothing was imported",
        )
    outcome = bank_import.reconcile_statements(books, statements)
    bank_import.write_outcome(root, outcome, now)
    payments_review.record(
        root,
        books,
        [review for _, review in outcome.review],
        [payment.id for payment in outcome.payments],
        now,
    )
    for line in outcome.summary():
        click.echo(line)
    return None


def _import_payments(
    root: Path,
    books: Books,
    rows: Iterable[StripeRow | RowProblem | PaidRows],
    source: str,
    now: datetime,
    today: date,
) -> None:
    """Apply `rows` to the books and print what happened; exit 1 (nothing written) if any row
    cannot be read, 2 if Stripe cannot be asked."""
    stopped = _apply_payments(root, books, rows, source, now, today)
    if stopped is not None:
        code, why = stopped
        click.echo(why if code == EXIT_PROBLEMS else f"notifier reconcile: {why}", err=True)
        sys.exit(code)


def _apply_payments(
    root: Path,
    books: Books,
    rows: Iterable[StripeRow | RowProblem | PaidRows],
    source: str,
    now: datetime,
    today: date,
) -> tuple[int, str] | None:
    """Apply `rows` to the books and print what happened, recording the rows waiting for review;
    or, nothing written, the exit code and why: 1 if any row cannot be read (each printed), 2 if
    Stripe cannot be asked."""
    from notifier.books.records import PendingLines
    from notifier.payments import apply as payments_apply
    from notifier.payments import links as payment_links
    from notifier.payments import review as payments_review

    # The payments are written as they come, to a file that replaces payments.yaml only once
    # all is read and well (leaving the block otherwise removes it).
    with PendingLines(root / PAYMENTS_FILE) as pending:
        try:
            outcome = payments_apply.reconcile(books, rows, source, today, pending)
        except payment_links.ProviderProblem as exc:  # Stripe refused or could not be reached
            return EXIT_USAGE, f"{exc}; nothing was imported"
        if outcome.problems:
            for problem in outcome.problems:
                click.echo(str(problem), err=True)
            count = len(outcome.problems)
            return (
                EXIT_PROBLEMS,
                f"{count} problem{'s' if count != 1 else ''} in the exports; nothing was imported",
            )
        outcome.review = payments_review.with_candidates(books, outcome.review, today)
        payments_apply.write_outcome(root, outcome, now)
    payments_review.record(root, books, outcome.review, [e.id for e in outcome.entries], now)
    for line in outcome.summary():
        click.echo(line)
    for line in outcome.warning_lines():
        click.echo(line, err=True)
    changes = payments_apply.invoice_changes(books, outcome, today)
    if changes:
        click.echo(f"As of {today}:")
        for line in changes:
            click.echo(line)
    return None


def _pays(invoice: str, target: str) -> str:
    """What a link pays, as `links` says it: `HP-2026-033 full`, or `statement:CLIENT:CUR`."""
    return f"{invoice} {target}" if invoice else target


@cli.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show the links that would change; change nothing.")
@click.pass_obj
def links(root: Path, as_of: date | None, dry_run: bool) -> None:
    """Make each way to pay a Stripe Payment Link for exactly what it asks today: create those
    missing, replace those whose amount changed, turn off those no longer offered."""
    from notifier import money
    from notifier.payments import links as payment_links

    if not dry_run:
        _lock_books(root)
    books, _ = _load(root)
    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=dry_run)
    if secret is None:
        click.echo(
            "notifier links: set NOTIFIER_SECRET: each link sends the client back to their "
            "private page",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    now = datetime.now(UTC).replace(microsecond=0)
    plan = payment_links.plan_links(books, _today(books, as_of), secret)
    if dry_run:
        if secret.demo:
            click.echo("(NOTIFIER_SECRET is not set: the return addresses below are demo ones)")
        for request in plan.create:
            amount = money.format_plain(request.amount, request.currency)
            click.echo(f"would create: {_pays(request.invoice, request.target)} {amount}")
        for link, why in plan.deactivate:
            click.echo(f"would turn off: {_pays(link.invoice, link.target)} {link.id} ({why})")
        click.echo(f"{len(plan.create)} to create, {len(plan.deactivate)} to turn off")
        return
    from notifier.payments import stripe_api  # only here: the stripe package is slow to load

    client = stripe_api.make_client(_stripe_key())
    run = payment_links.carry_out(plan, stripe_api.StripeLinks(client))
    payment_links.record_links(root, run.created, run.deactivated, now)
    for request, ident, url in run.created:
        click.echo(f"created: {_pays(request.invoice, request.target)} {ident} {url}")
    for link in run.deactivated:
        click.echo(f"turned off: {_pays(link.invoice, link.target)} {link.id}")
    click.echo(f"{len(run.created)} created, {len(run.deactivated)} turned off")
    if run.problem is not None:
        click.echo(f"notifier links: {run.problem}; the links above were recorded", err=True)
        sys.exit(EXIT_USAGE)


def _stripe_key() -> str:
    """STRIPE_API_KEY, or exit 2 saying so."""
    key = os.environ.get("STRIPE_API_KEY", "")
    if not key:
        click.echo("notifier: set STRIPE_API_KEY to reach Stripe", err=True)
        sys.exit(EXIT_USAGE)
    return key


@cli.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Print the plan; send and record nothing.")
@click.option(
    "--outbox",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each message as DIR/ID.eml (tasks as .txt, hand-offs as .zip); record nothing.",
)
@click.option(
    "--preview",
    type=click.IntRange(1, 366),
    metavar="DAYS",
    help="Simulate DAYS days from the as-of date on the books as they are: who gets what, when.",
)
@click.option(
    "--allow-stale-payments",
    is_flag=True,
    help="Send even though payments have not been imported recently.",
)
@click.option(
    "--resolve",
    nargs=2,
    type=(str, click.Choice(["sent", "unsent"])),
    metavar="ID sent|unsent",
    default=None,
    help="Record what became of a message a run left in doubt (it may have gone): `sent` if it "
    "went, `unsent` if not (its reminder goes again at the next run). Sends nothing.",
)
@click.option(
    "--now",
    "now_client",
    metavar="CLIENT",
    default=None,
    help="Send CLIENT the message of their current stage today, outside the schedule (spacing "
    "and sending days aside); a stage already sent is refused.",
)
@click.option(
    "--stage",
    metavar="NAME",
    default=None,
    help="With --now: send this email stage of the client's policy instead.",
)
@click.pass_obj
def remind(
    root: Path,
    as_of: date | None,
    dry_run: bool,
    outbox: Path | None,
    preview: int | None,
    allow_stale_payments: bool,
    resolve: tuple[str, str] | None = None,
    now_client: str | None = None,
    stage: str | None = None,
) -> None:
    """Send the reminders that are due today, one email per client, each recorded before and
    after it goes; or, with --now CLIENT, that client's message of today. Needs NOTIFIER_SECRET and
    NOTIFIER_SMTP_URL, except with --dry-run, --outbox or --preview (which use demo page addresses
    without a secret, and say so)."""
    from notifier.payments.freshness import stale_reason
    from notifier.reminders.preview import run_moment, simulate, steps
    from notifier.reminders.send import SetupError, parse_smtp_url

    if sum((dry_run, outbox is not None, preview is not None)) > 1:
        click.echo("notifier: choose one of --dry-run, --outbox and --preview", err=True)
        sys.exit(EXIT_USAGE)
    if stage is not None and now_client is None:
        click.echo("notifier: --stage goes with --now CLIENT", err=True)
        sys.exit(EXIT_USAGE)
    if now_client is not None and (preview is not None or resolve is not None):
        click.echo(
            "notifier: --now sends one client's message: not with --preview or --resolve", err=True
        )
        sys.exit(EXIT_USAGE)
    if resolve is not None:
        if dry_run or outbox is not None or preview is not None:
            click.echo(
                "notifier: --resolve records an outcome and sends nothing: give it alone", err=True
            )
            sys.exit(EXIT_USAGE)
        _lock_books(root)
        _resolve(root, *resolve)
        return
    sending = not (dry_run or outbox is not None or preview is not None)
    if sending:
        _lock_books(root)
    books, _ = _load(root)
    day = _today(books, as_of)
    # With --as-of the run acts at 09:00 that day, so its records and Date headers are repeatable.
    now = run_moment(books, day) if as_of is not None else datetime.now(UTC)
    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=not sending)
    if secret is None:
        click.echo(
            "notifier: NOTIFIER_SECRET is not set: sending needs it for the page addresses "
            "(--dry-run, --outbox and --preview work without it, in demo mode)",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    smtp = None
    if sending:
        try:
            smtp = parse_smtp_url(os.environ.get("NOTIFIER_SMTP_URL", ""))
        except SetupError as error:
            unset = not os.environ.get("NOTIFIER_SMTP_URL", "").strip()
            hint = " (--dry-run, --outbox and --preview work without it)" if unset else ""
            click.echo(f"notifier: {error}{hint}", err=True)
            sys.exit(EXIT_USAGE)
    stale = stale_reason(books, day)
    if stale and sending and not allow_stale_payments:
        click.echo(f"notifier: not sending: {stale} (or use --allow-stale-payments)", err=True)
        sys.exit(EXIT_PROBLEMS)
    if stale:
        click.echo(f"warning: {stale}", err=True)
    if secret.demo:
        click.echo("demo mode: NOTIFIER_SECRET is not set; page addresses are the public demo ones")
    if preview is not None:
        for simulated in simulate(books, day, preview):
            for step in steps(simulated):
                click.echo(step.line())
        return
    plan = None if now_client is None else _plan_now(books, day, now_client, stage)
    _report, code = _remind_today(books, day, now, secret, smtp, outbox, dry_run=dry_run, plan=plan)
    if code:
        sys.exit(code)


def _remind_today(
    books: Books,
    day: date,
    now: datetime,
    secret: Secret,
    smtp: SmtpSettings | None,
    outbox: Path | None,
    *,
    dry_run: bool = False,
    plan: Plan | None = None,
) -> tuple[Report, int]:
    """Plan today's reminders (unless given one: `remind --now`'s) and send them (`smtp`), write
    them to `outbox`, or only show them; print the summary and what stopped the run. What
    happened, and the exit code it calls for (0: all went)."""
    from notifier import speed
    from notifier.reminders import deliver as reminders_deliver
    from notifier.reminders.plan import plan_run
    from notifier.reminders.send import Sender, SetupError
    from notifier.reminders.summary import summary_lines

    if plan is None:
        with speed.kept_until_exit():  # the day's account, read until the run ends
            plan = plan_run(books, day, now)
    report = reminders_deliver.compose_all(books, plan, now, secret, with_notice=not dry_run)
    if outbox is not None:
        reminders_deliver.write_outbox(books, report, outbox, secret)
    elif smtp is not None:
        try:
            with Sender(smtp) as sender, _progress("Sending") as progress:
                reminders_deliver.send_and_record(books, report, now, secret, sender, progress)
        except SetupError as error:
            report.stopped = str(error)
    mode = "outbox" if outbox is not None else "send" if smtp is not None else "dry-run"
    for line in summary_lines(report, mode):
        click.echo(line)
    if report.stopped is not None:
        untried = len(report.composed) - len(report.deliveries)
        rest = f"; {untried} email{'s' if untried != 1 else ''} not tried go next run"
        click.echo(f"notifier: {report.stopped}{rest if untried else ''}", err=True)
        return report, EXIT_USAGE
    # One email's records (a stage each) share their client and moment: one doubt.
    doubts = len({(m.client, m.at) for m in plan.unresolved}) + report.count("uncertain")
    if doubts:
        click.echo(
            f"notifier: {doubts} email{'s' if doubts != 1 else ''} may have gone (`check` "
            "above): record each with notifier remind --resolve ID sent|unsent",
            err=True,
        )
    return report, EXIT_PROBLEMS if report.problems or doubts else 0


def _plan_now(books: Books, day: date, client: str, stage: str | None) -> Plan:
    """`remind --now`'s plan, or exit saying why nothing goes: 2 for an unknown client or stage, 1
    for a message that may not go (already sent, not due, in doubt)."""
    from notifier.reminders.now import NotNow, plan_now_run

    try:
        return plan_now_run(books, day, client, stage)
    except NotNow as refusal:
        click.echo(f"notifier: {refusal}", err=True)
        sys.exit(EXIT_USAGE if refusal.usage else EXIT_PROBLEMS)


def _resolve(root: Path, message_id: str, outcome: str) -> None:
    """`remind --resolve`: record the outcome of a message in doubt, or exit 2 saying why not."""
    from notifier.reminders import record

    books, _ = _load(root)
    try:
        records = record.resolution(books, message_id, "sent" if outcome == "sent" else "unsent")
    except record.NotInDoubt as error:
        click.echo(f"notifier: {error}", err=True)
        sys.exit(EXIT_USAGE)
    record.append(root, records)
    ids = ", ".join(f"`{r.id}`" for r in records)
    then = (
        "it counts as sent"
        if outcome == "sent"
        else "its reminder goes again at the next run, if still due"
    )
    click.echo(f"recorded {ids} as {outcome}: {then}")


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
    from notifier.addresses import client_page, client_token
    from notifier.books.checks import check_books
    from notifier.portal.serve import fingerprint, start_server, watch
    from notifier.portal.site import build_site
    from notifier.problems import errors

    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=True)
    assert secret is not None
    out, cache = root / "public", root / ".cache" / "pdf"

    def rebuild() -> None:
        books, problems = check_books(root, root / BOOKS_CACHE)
        for problem in problems:
            click.echo(str(problem), err=True)
        if errors(problems):
            click.echo(
                "Not rebuilt: the books have problems; still serving the last build.", err=True
            )
            return
        result = build_site(root, books, _today(books, as_of), secret, out, cache)
        click.echo(f"Rebuilt: {len(result.changed)} files written, {len(result.removed)} removed.")

    seen = fingerprint(root)  # before the build: an edit from now on is rebuilt
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
        watch(root, rebuild, threading.Event(), seen)
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

    from notifier import speed
    from notifier.account import account_of
    from notifier.report.receivables import build_report
    from notifier.report.render import print_report, report_console
    from notifier.report.render import to_csv as report_csv
    from notifier.report.render import to_json as report_json

    if as_json and as_csv:
        click.echo("notifier report: choose --json or --csv, not both", err=True)
        sys.exit(EXIT_USAGE)
    books, _ = _load(root)
    with speed.kept_until_exit():
        account = account_of(books, _today(books, as_of))
    if as_csv:
        click.echo(report_csv(account), nl=False)
    elif as_json:
        click.echo(report_json(build_report(account)), nl=False)
    else:
        print_report(build_report(account), report_console())


@cli.command()
@as_of_option
@click.option(
    "--allow-stale-payments",
    is_flag=True,
    help="Send reminders even though payments have not been imported recently.",
)
@click.pass_context
def run(ctx: click.Context, as_of: date | None, allow_stale_payments: bool) -> None:
    """The scheduled job: check the books; import the files waiting in data/inbox/ (then move them
    to data/archive/) and, with STRIPE_API_KEY, what Stripe received since the last import through
    the API; send the reminders that are due; build the pages; then email the owner what was done
    and what needs a person. A part that fails (Stripe out of reach, the mail server down) is
    reported and the rest still runs, the pages built; the exit code is then not 0. Safe to run
    twice: the second run does only what the first did not."""
    from notifier.payments.freshness import stale_reason
    from notifier.reminders.preview import run_moment
    from notifier.reminders.smtp_settings import SetupError, parse_smtp_url

    root: Path = ctx.obj
    secret = Secret.from_environment(os.environ.get("NOTIFIER_SECRET"), demo=False)
    if secret is None:
        click.echo("notifier run: NOTIFIER_SECRET is not set; nothing was done", err=True)
        sys.exit(EXIT_USAGE)
    try:
        smtp = parse_smtp_url(os.environ.get("NOTIFIER_SMTP_URL", ""))
    except SetupError as error:
        click.echo(f"notifier run: {error}; nothing was done", err=True)
        sys.exit(EXIT_USAGE)
    _lock_books(root)  # held to the end: the imports, the reminders, the build and the email
    books, _ = _load(root)  # a problem in the books stops the run before anything happens
    assert books.settings is not None
    zone = ZoneInfo(books.settings.business.timezone)
    # With --as-of the run acts at 09:00 that day, as `remind` does: its records say so.
    now = run_moment(books, as_of) if as_of else datetime.now(UTC).replace(microsecond=0)
    today = as_of or now.astimezone(zone).date()
    click.echo("Payments")
    stopped = [*_import_inbox(root, books, zone, now, today)]
    key = os.environ.get("STRIPE_API_KEY", "")
    if key:
        stopped += _import_from_stripe(root, _load(root)[0], key, zone, now, today)
    code = max((code for code, _ in stopped), default=0)
    problems = [why for _, why in stopped]
    click.echo("Reminders")
    books, _ = _load(root)
    stale = stale_reason(books, today)
    if key and code:  # what Stripe received since the last import is unknown: a payment may be
        stale = "payments could not be read from Stripe today"  # missing
    if stale and not allow_stale_payments:
        problems.append(f"not sending: {stale} (or use --allow-stale-payments)")
        click.echo(f"notifier: {problems[-1]}", err=True)
        code = max(code, EXIT_PROBLEMS)
    else:
        if stale:
            click.echo(f"warning: {stale}", err=True)
        report, sent = _remind_today(books, today, now, secret, smtp, None)
        code = max(code, sent)
        problems += report.problems
        if report.stopped is not None:
            problems.append(f"the mail server stopped the reminders: {report.stopped}")
    # Last, so the pages show what was just sent; they are published after the run in any case.
    click.echo("Pages")
    ctx.invoke(build, out=None, as_of=as_of, demo=False, cache=None)
    click.echo("Owner's email")
    code = max(code, _email_owner(root, today, now, secret, smtp, problems))
    sys.exit(code)


def _email_owner(
    root: Path,
    today: date,
    now: datetime,
    secret: Secret,
    smtp: SmtpSettings,
    problems: list[str],
) -> int:
    """Email the owner what the run did and what needs a person (see notifier.reminders.owner);
    the exit code it calls for."""
    from notifier.reminders import owner
    from notifier.reminders.compose import UnsafeHeader
    from notifier.reminders.send import Sender, SetupError
    from notifier.reminders.texts import TextError

    books, _ = _load(root)  # as the run left them: the payments imported, the messages sent
    news = owner.gather(books, today, secret, problems)
    reason = owner.why_not(books, news)
    if reason is not None:
        click.echo(f"  {reason}")
        return 0
    try:
        email = owner.compose(books, news, now)
    except (TextError, UnsafeHeader) as error:
        click.echo(f"notifier run: the owner's email: {error}", err=True)
        return EXIT_PROBLEMS
    try:
        with Sender(smtp) as sender:
            delivery = owner.send_and_record(root, email, now, sender)
    except SetupError as error:
        click.echo(f"notifier run: the owner's email could not go: {error}", err=True)
        return EXIT_USAGE
    detail = f" ({delivery.detail})" if delivery.detail else ""
    click.echo(f"  {delivery.status:<9} to {email.to}: {email.subject}{detail}")
    return 0 if delivery.status == "sent" else EXIT_PROBLEMS


def _import_inbox(
    root: Path, books: Books, zone: ZoneInfo, now: datetime, today: date
) -> list[tuple[int, str]]:
    """Import every file waiting in data/inbox/ (bank statements, whatever their name; Stripe
    exports) and move each to data/archive/; what stopped it (the exit code, and why), if anything
    did. Nothing is imported from a kind of file (statements, exports) if any of them has a
    problem: those files stay in the inbox."""
    waiting = sorted(p for p in (root / INBOX).glob("*") if p.is_file() and p.name[0] != ".")
    statements = [path for path in waiting if _is_statement(books, path)]
    exports = [
        path
        for pattern in INBOX_FILES
        for path in sorted((root / INBOX).glob(pattern))
        if path.is_file() and path not in statements
    ]
    if not statements and not exports:
        click.echo(f"  nothing waiting in {INBOX}/")
        return []
    stopped: list[tuple[int, str]] = []
    if statements:
        problem = _apply_statements(root, books, statements, now)
        stopped += _archived_unless(root, statements, today, problem)
        books = _load(root)[0]
    if exports:
        rows = itertools.chain.from_iterable(_inbox_rows(root, path, zone) for path in exports)
        names = ", ".join(p.name for p in exports)
        problem = _apply_payments(root, books, rows, names, now, today)
        stopped += _archived_unless(root, exports, today, problem)
    return stopped


def _archived_unless(
    root: Path, files: list[Path], today: date, problem: tuple[int, str] | None
) -> list[tuple[int, str]]:
    """Move the inbox's `files` to the archive, once imported; or, if `problem` stopped their
    import, leave them and say so (what stopped the run, for its summary)."""
    if problem is not None:
        click.echo(problem[1], err=True)
        return [(problem[0], f"{problem[1]} from {INBOX}/ (the files stay there)")]
    for path in files:  # imported: a crash before this moves them makes the next run re-read them
        click.echo(f"  archived {_archive(root, path, today).relative_to(root)}")
    return []


def _inbox_rows(
    root: Path, path: Path, zone: ZoneInfo
) -> Iterable[StripeRow | RowProblem | PaidRows]:
    """The payments in one file of the inbox, whatever kind of file it is."""
    from notifier.payments.exports import read_compact

    return read_compact(path, str(path.relative_to(root)), zone)


API_OVERLAP = timedelta(days=2)  # read again before the last API import: nothing falls between


def _import_from_stripe(
    root: Path, books: Books, key: str, zone: ZoneInfo, now: datetime, today: date
) -> list[tuple[int, str]]:
    """Import what Stripe received since the last import through the API (less `API_OVERLAP`;
    everything, the first time); what stopped it, if anything did."""
    from notifier.payments import stripe_api  # only here: the stripe package is slow to load

    last = max(
        (record.at for record in books.imports if record.source == stripe_api.SOURCE),
        default=None,
    )
    since = (last - API_OVERLAP).astimezone(zone).date() if last is not None else None
    rows = stripe_api.payment_rows(stripe_api.make_client(key), since, zone)
    stopped = _apply_payments(root, books, rows, stripe_api.SOURCE, now, today)
    if stopped is None:
        return []
    code, why = stopped
    click.echo(f"notifier run: {why}", err=True)
    return [(code, f"payments could not be read from Stripe: {why}")]


def _archive(root: Path, export: Path, today: date) -> Path:
    """Move an imported export to data/archive/, named with the day, never over another file."""
    folder = root / ARCHIVE
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{today}-{export.name}"
    counter = 2
    while target.exists():
        target = folder / f"{today}-{counter}-{export.name}"
        counter += 1
    os.replace(export, target)
    return target


def main() -> None:
    cli(prog_name="notifier")
