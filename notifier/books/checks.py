"""Cross-checks: what no single record can tell, checked over the whole books. Every check returns
problems; none stops the others."""

from __future__ import annotations

import bisect
import contextlib
import difflib
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from notifier import brand, money
from notifier.books import schema
from notifier.books.cache import FileCache, code_digest
from notifier.books.language_checks import language_problems
from notifier.books.load import Books, Origin, Spread, load_books
from notifier.books.paths import PAYMENTS_FILE
from notifier.ledger.figures import figures_of, terms_of
from notifier.ledger.plans import PlanOption
from notifier.ledger.reductions import credit_note_amount
from notifier.ledger.state import settlement
from notifier.problems import Problem

FULL_PLAN = "full"
T = TypeVar("T")


# How a command may have a share of the cross-checks done meanwhile: `aside(work)` starts `work`
# (perhaps in another process: notifier.speed.aside) and gives what to call for its result.
Aside = Callable[[Callable[[], T]], Callable[[], T]]


def check_books(
    root: Path,
    cache: Path | None = None,
    *,
    spread: Spread | None = None,
    aside: Aside[Any] | None = None,
) -> tuple[Books, list[Problem]]:
    """Load the books under `root` and check them: every problem, in file and line order. Read
    files, and the cross-checks' verdict, are kept in `cache` (see notifier.books.cache) when
    given. `spread` and `aside` let a command read and check on every core (notifier.speed):
    the problems found are the same."""
    files = FileCache(cache)
    books, problems = load_books(root, files, spread)
    problems.extend(_cross_checked(books, files, aside))
    problems.extend(_texts_checked(books, files))
    problems.extend(language_problems(books))  # reads site/, which no kept verdict covers
    files.prune()
    return books, sorted(problems, key=lambda p: (p.path, p.line))


def _cross_checked(books: Books, files: FileCache, aside: Aside[Any] | None) -> list[Problem]:
    """cross_check(books), or its verdict kept from a load of the very same books: the same bytes
    of every file read (their cache keys), the same content files, the same code. The books of a
    daily job seldom change between its commands (check, build, remind), and the cross-checks are
    a third of each at 10,000 invoices. When the verdict is not kept, each invoice file's own
    problems may be (see `_invoice_checks_keys`)."""
    if files.folder is None:
        return cross_check(books, aside=aside)
    digest = hashlib.sha256(code_digest(("**/*.py",)))
    for name in (*sorted(files.used), "", *sorted(books.content_files)):
        digest.update(name.encode() + b"\0")
    key = f"verdict-{digest.hexdigest()}"
    kept = files.get(key)
    if isinstance(kept, list) and all(isinstance(p, Problem) for p in kept):
        # Each invoice file's problems stay for the next change, which the verdict will not fit.
        keys = _invoice_checks_keys(books, files)
        kept_too = [*_settled_keys(files, keys).values(), *map(_bodies_key, keys.values())]
        files.used.update(filter(None, [*keys.values(), *kept_too]))
        return kept
    found = cross_check(books, files, aside)
    files.put(key, found)
    return found


def _texts_checked(books: Books, files: FileCache) -> list[Problem]:
    """The problems of the texts in content/ (notifier.reminders.text_checks), or those kept from
    a check of the very same texts, settings, code and clients' locales: compiling and filling in
    every text in every language takes a second or so, and the texts seldom change."""
    if books.settings is None:
        return []  # no stages, so no texts to check
    # Imported when needed: Jinja and all it takes, which a check of texts kept never needs.
    if files.folder is None:
        from notifier.reminders.text_checks import check_texts

        return check_texts(books)
    digest = hashlib.sha256(code_digest(("**/*.py",)))
    for name, (kind, key) in sorted(files.named.items()):
        if kind == schema.Settings.__name__:
            digest.update(f"{name}\0{key}\0".encode())
    # Of the clients, only their locales matter: the languages, and the formats, texts are read in.
    for client_id, client in sorted(books.clients.items()):
        if client.locale:
            digest.update(f"{client_id}\0{client.locale}\0".encode())
    digest.update(b"\0")
    for name in sorted(books.content_files):
        digest.update(f"{name}\0".encode())
        with contextlib.suppress(OSError):  # a file gone since: read again, and said, next time
            digest.update((books.root / "content" / name).read_bytes())
    key = f"texts-{digest.hexdigest()}"
    kept = files.get(key)
    if isinstance(kept, list) and all(isinstance(p, Problem) for p in kept):
        return kept
    from notifier.reminders.text_checks import check_texts

    found = check_texts(books)
    files.put(key, found)
    return found


# Invoices to check before a share of them goes `aside`: below this, it costs more than it saves.
SHARED_FROM = 2_000
# The share of the invoices this process keeps: it also checks the payment records.
KEPT_SHARE = 0.4

# By invoice file checked: its invoices' own problems, and what their payments settle (by invoice).
_Share = tuple[dict[str, list[Problem]], dict[str, dict[str, list[Problem]]]]


def cross_check(
    books: Books, files: FileCache | None = None, aside: Aside[Any] | None = None
) -> list[Problem]:
    """All cross-record problems in `books` (which loaded, perhaps with problems of its own), in
    the order of the checks and of the records. Each invoice file's own problems, and those of
    what its invoices' payments settle, are kept in `files`, when given, and taken from there
    while the file, the settings, the clients (and the payments) are the same. With many invoices
    to check, the later files are checked `aside` meanwhile (on the other core, from a command):
    nine tenths of the work."""
    settings = books.settings
    if settings is None:
        return []
    records, paid = _payment_records(books, settings)
    by_file = _by_file(books)
    keys = _invoice_checks_keys(books, files, by_file)
    settled_keys = _settled_keys(files, keys)
    checked: dict[str, list[Problem]] = _kept(files, keys, list)
    settled_by_file: dict[str, dict[str, list[Problem]]] = _kept(files, settled_keys, dict)
    todo = [path for path in by_file if path not in checked or path not in settled_by_file]

    def share(paths: list[str]) -> _Share:
        found = {
            path: list(_invoices(books, settings, by_file[path]))
            for path in paths
            if path not in checked
        }
        settled = {
            path: {
                invoice.number: list(
                    _settled(books, settings, invoice.number, paid[invoice.number])
                )
                for invoice in by_file[path]
                if invoice.number in paid
            }
            for path in paths
            if path not in settled_by_file
        }
        return found, settled

    theirs: Callable[[], _Share] = lambda: ({}, {})  # noqa: E731
    mine = todo
    sizes = list(itertools.accumulate(len(by_file[path]) for path in todo))
    if sizes and sizes[-1] >= SHARED_FROM and aside is not None:
        files_kept = bisect.bisect_left(sizes, sizes[-1] * KEPT_SHARE)
        mine = todo[:files_kept]
        theirs = aside(lambda: share(todo[files_kept:]))
    found, settled_found = share(mine)
    their_found, their_settled = theirs()
    found.update(their_found)
    settled_found.update(their_settled)
    if files is not None:
        _keep(files, keys, found)
        _keep(files, settled_keys, settled_found)
    checked.update(found)
    settled_by_file.update(settled_found)
    settled = {
        n: found for by_invoice in settled_by_file.values() for n, found in by_invoice.items()
    }
    return [
        *_settings(books, settings),
        *_clients(books, settings),
        *_each_once(by_file, checked),
        *_credit_note_numbers(books),
        *records,
        *(p for number in paid for p in settled[number]),
        *_messages(books, settings),
        *_link_records(books, settings),
        *_reference_clashes(books, files, keys, by_file),
    ]


def _each_once(
    by_file: dict[str, list[schema.Invoice]], checked: dict[str, list[Problem]]
) -> Iterator[Problem]:
    """The problems of each invoice file, in order; a client's or the business's terms are
    reported once, by the first invoice."""
    said: set[Problem] = set()
    for path in by_file:
        for problem in checked[path]:
            if problem.path != path:
                if problem in said:
                    continue
                said.add(problem)
            yield problem


def _kept(files: FileCache | None, keys: dict[str, str | None], kind: type) -> dict[str, Any]:
    """By path, what `files` keeps under each of `keys`: a list of problems, or (`kind` dict) lists
    of problems by invoice."""
    found: dict[str, Any] = {}
    for path, key in keys.items():
        kept = files.get(key) if files is not None and key is not None else None
        if not isinstance(kept, kind):
            continue
        lists: list[Any] = list(kept.values()) if isinstance(kept, dict) else [kept]
        if all(isinstance(p, Problem) for problems in lists for p in problems):
            found[path] = kept
    return found


def _keep(files: FileCache, keys: dict[str, str | None], found: dict[str, Any]) -> None:
    for path, value in found.items():
        key = keys[path]
        if key is not None:
            files.put(key, value)


def _reference_clashes(
    books: Books,
    files: FileCache | None = None,
    keys: dict[str, str | None] | None = None,
    by_file: dict[str, list[schema.Invoice]] | None = None,
) -> Iterator[Problem]:
    """Two items that would get the same RF reference: a transfer naming it could pay either.
    Each invoice file's references are kept in `files` by `keys` (their bodies only, which are
    alike exactly when the references are): the items are named only if two are alike."""
    from notifier.account import references  # the account's module; check needs it only here

    if files is not None and keys is not None and by_file is not None:
        found = references.statement_bodies(books)
        for path, invoices in by_file.items():
            key = _bodies_key(keys[path])
            kept = files.get(key) if key is not None else None
            if not (isinstance(kept, list) and all(isinstance(body, str) for body in kept)):
                kept = references.bodies(books, invoices)
                if key is not None:
                    files.put(key, kept)
            found.extend(kept)
        if len(set(found)) == len(found):
            return
    said: set[tuple[str, str]] = set()  # each pair of items once (their instalments clash too)
    for reference, named in references.clashes(books).items():
        first, *others = named
        for target in others:
            pair = (first.invoice or first.client, target.invoice or target.client)
            if pair in said:
                continue
            said.add(pair)
            if target.invoice is None:
                record: schema.Client | schema.Invoice = books.clients[target.client]
                at = "id"
            else:
                record, at = books.invoices[target.invoice], "number"
            yield books.origin(record).problem(
                f"{target} would get the RF reference {reference}, as {first} does; make them "
                "differ in their letters and digits, or set `payments.creditor_reference: "
                "invoice-number`",
                at,
            )


def _by_file(books: Books) -> dict[str, list[schema.Invoice]]:
    """The books' invoices by the file they are in, in the books' order."""
    found: dict[str, list[schema.Invoice]] = defaultdict(list)
    for invoice in books.invoices.values():
        found[books.origin(invoice).path].append(invoice)
    return found


def _invoice_checks_keys(
    books: Books,
    files: FileCache | None,
    by_file: dict[str, list[schema.Invoice]] | None = None,
) -> dict[str, str | None]:
    """By invoice file, the cache key of its problems on its own (those of `_invoices`), or None
    when they are not to be kept: the code, the bytes of that file, of the settings and of the
    client files (the terms, the clients named, the lines of problems reported on them), and which
    of the file's invoices are the books' (a number used twice is checked where it is first)."""
    by_file = _by_file(books) if by_file is None else by_file
    if files is None:
        return dict.fromkeys(by_file)
    terms = [
        f"{name}:{key}"
        for name, (kind, key) in sorted(files.named.items())
        if kind in (schema.Settings.__name__, schema.Client.__name__)
    ]
    code = code_digest(("**/*.py",))
    keys: dict[str, str | None] = {}
    for path, invoices in by_file.items():
        if path not in files.named:
            keys[path] = None
            continue
        digest = hashlib.sha256(code)
        for part in (files.named[path][1], *terms, "", *(invoice.number for invoice in invoices)):
            digest.update(f"{part}\0".encode())
        keys[path] = f"invoice-checks-{digest.hexdigest()}"
    return keys


def _bodies_key(invoice_checks: str | None) -> str | None:
    """The cache key of an invoice file's references (`_reference_clashes`): they depend on what
    its own problems do (`_invoice_checks_keys`)."""
    if invoice_checks is None:
        return None
    return "references-" + hashlib.sha256(invoice_checks.encode()).hexdigest()


def _settled_keys(
    files: FileCache | None, invoice_checks: dict[str, str | None]
) -> dict[str, str | None]:
    """By invoice file, the cache key of what its invoices' payments settle (`_settled`): that of
    its own problems (`_invoice_checks_keys`), and the bytes of the payment records."""
    if files is None:
        return dict.fromkeys(invoice_checks)
    payments = files.named.get(PAYMENTS_FILE, ("", ""))[1]
    return {
        path: None
        if key is None
        else "settled-" + hashlib.sha256(f"{key}\0{payments}".encode()).hexdigest()
        for path, key in invoice_checks.items()
    }


def language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0]


def stage_text_path(text: str, lang: str) -> str:
    """Where the words of a stage live, relative to `content/`."""
    return f"reminders/{text}.{lang}.md"


def _settings(books: Books, settings: schema.Settings) -> Iterator[Problem]:
    origin = books.settings_origin
    assert origin is not None
    plan_ids = [plan.id for plan in settings.plans]
    for index, plan in enumerate(settings.plans):
        if plan.id == FULL_PLAN:
            yield origin.problem("`full` is the built-in pay-in-full option", "plans", index, "id")
        if plan_ids.index(plan.id) != index:
            yield origin.problem(f"plan `{plan.id}` is defined twice", "plans", index, "id")
    yield from _known_plans(origin, settings.terms.plans, plan_ids, "terms", "plans")
    # Books checked without their theme (a copy of data/ and content/ only) have no logo to show.
    if settings.business.logo is not None and (books.root / "site").is_dir():
        unfit = brand.logo_problem(books.root / "site", settings.business.logo)
        if unfit is not None:
            yield origin.problem(unfit, "business", "logo")
    yield from _fees(origin, settings.terms.late_payment, ("terms", "late_payment"))
    for currency, amount in settings.terms.not_chased_below.items():
        yield from _amount(origin, amount, currency, "terms", "not_chased_below", currency)
    if settings.reminders.policy not in settings.policies:
        yield origin.problem(
            _unknown("policy", settings.reminders.policy, settings.policies), "reminders", "policy"
        )
    languages = {language(settings.business.locale)}
    for name, stages in settings.policies.items():
        where = ("policies", name)
        if not stages:
            yield origin.problem("a policy needs at least one stage", *where)
        seen: set[str] = set()
        for index, stage in enumerate(stages):
            at = (*where, index)
            if stage.name in seen:
                yield origin.problem(f"stage `{stage.name}` is named twice", *at, "name")
            seen.add(stage.name)
            if index and stage.issued:
                yield origin.problem("the `issued` stage comes first in a policy", *at, "day")
            elif index and stage.order <= stages[index - 1].order:
                yield origin.problem(
                    f"stages must be in order of day: {stage.day} comes after {stages[index - 1].day}",
                    *at,
                    "day",
                )
            for lang in sorted(languages):
                path = stage_text_path(stage.text, lang)
                if path not in books.content_files:
                    yield origin.problem(f"content/{path} is missing", *at, "text")
    # Texts missing in a client's language: one warning per language (see language_checks).
    yield from _builtin_texts(books, settings, languages)
    billed: dict[str, list[str]] = defaultdict(list)  # clients by the currencies they are billed in
    for invoice in books.invoices.values():
        if invoice.client in books.clients:
            client = books.clients[invoice.client]
            currency = invoice.currency or client.currency or settings.business.currency
            if client.id not in billed[currency]:
                billed[currency].append(client.id)
    accounts = {account.currency for account in settings.business.bank_accounts}
    if None not in accounts:
        for currency in sorted(billed.keys() - accounts):
            yield origin.problem(
                f"no bank account for {currency}: {_clients_named(billed[currency])} "
                "no transfer details",
                "business",
                "bank_accounts",
                warning=True,
            )


def _clients_named(ids: list[str], most: int = 3) -> str:
    """`client `a` sees`, `clients `a` and `b` see`, `clients `a`, `b`, `c` and 4 more see`."""
    named = [f"`{ident}`" for ident in ids[:most]]
    rest = len(ids) - len(named)
    if rest:
        named.append(f"{rest} more")
    if len(named) == 1:
        return f"client {named[0]} sees"
    return f"clients {', '.join(named[:-1])} and {named[-1]} see"


def _builtin_texts(
    books: Books, settings: schema.Settings, languages: set[str]
) -> Iterator[Problem]:
    """The words `remind` needs besides the stages', in the business's language: a thank-you, and
    the final notice's letter."""
    origin = books.settings_origin
    assert origin is not None
    needed: list[tuple[str, tuple[str | int, ...]]] = []
    if settings.reminders.thanks_within_days:
        needed.append(("thanks", ("reminders", "thanks_within_days")))
    finals = [
        ("policies", name, index, "deadline_days")
        for name, stages in settings.policies.items()
        for index, stage in enumerate(stages)
        if stage.deadline_days
    ]
    if finals:
        needed.append(("notice", finals[0]))
    for text, at in needed:
        for lang in sorted(languages):
            path = stage_text_path(text, lang)
            if path not in books.content_files:
                yield origin.problem(f"content/{path} is missing", *at)


def _known_plans(
    origin: Origin, ids: list[str], known: list[str], *at: str | int
) -> Iterator[Problem]:
    for index, plan_id in enumerate(ids):
        if plan_id != FULL_PLAN and plan_id not in known:
            yield origin.problem(_unknown("plan", plan_id, known), *at, index)


def _fees(origin: Origin, late: schema.LatePayment, at: tuple[str, ...]) -> Iterator[Problem]:
    for currency, amount in late.fee.items():
        yield from _amount(origin, amount, currency, *at, "fee", currency)


def _amount(origin: Origin, amount: Decimal, currency: str, *at: str | int) -> Iterator[Problem]:
    try:
        money.to_minor(amount, currency)
    except money.AmountError as exc:
        yield origin.problem(str(exc), *at)
        return
    places = _places_beyond(amount, currency)
    if places is not None:
        yield origin.problem(places, *at)


def _places_beyond(amount: Decimal, currency: str) -> str | None:
    """Why `amount`, which `currency` can hold, is written with more decimal places than it has,
    or None. The amount keeps the places it was written with: `1.200` for a euro invoice is most
    likely 1,200 written with a thousands separator, and must not be taken as 1.20."""
    places = money.exponent(currency)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # amounts are finite
    if -exponent <= places:
        return None
    said = f"{amount} has {-exponent} decimal places, but {currency} has {places or 'none'}"
    unit = Decimal(1).scaleb(-places)
    if -exponent == 3 and len(str(amount).partition(".")[0]) <= 3:
        written = Decimal(int(amount.scaleb(3))).quantize(unit)
        return (
            f"{said}; write {written} if the `.` separates thousands (amounts take no "
            f"separator), else {amount.quantize(unit)}"
        )
    return f"{said}; write {amount.quantize(unit)}"


def _clients(books: Books, settings: schema.Settings) -> Iterator[Problem]:
    plan_ids = [plan.id for plan in settings.plans]
    for client in books.clients.values():
        origin = books.origin(client)
        if not any(contact.email for contact in client.contacts):
            yield origin.problem(f"client `{client.id}` has no email address to remind", "contacts")
        if client.policy is not None and client.policy not in settings.policies:
            yield origin.problem(_unknown("policy", client.policy, settings.policies), "policy")
        if client.terms is not None:
            if client.terms.plans is not None:
                yield from _known_plans(origin, client.terms.plans, plan_ids, "terms", "plans")
            if client.terms.late_payment is not None:
                yield from _fees(origin, client.terms.late_payment, ("terms", "late_payment"))


def _invoices(
    books: Books, settings: schema.Settings, invoices: Iterable[schema.Invoice]
) -> Iterator[Problem]:
    plan_ids = [plan.id for plan in settings.plans]
    reported: set[Problem] = set()
    for invoice in invoices:
        origin = books.origin(invoice)
        client = books.clients.get(invoice.client)
        if client is None:
            if not books.may_exist(schema.Client, invoice.client):
                yield origin.problem(_unknown("client", invoice.client, books.clients), "client")
            continue
        terms = terms_of(settings, client, invoice)
        currency = terms.currency
        if invoice.due_date is not None and invoice.due_date < invoice.issue_date:
            yield origin.problem(
                f"{invoice.due_date} is before the issue date {invoice.issue_date}", "due_date"
            )
        amounts: list[tuple[Decimal, tuple[str | int, ...]]] = [
            (line.unit_price, ("lines", i, "unit_price")) for i, line in enumerate(invoice.lines)
        ]
        if invoice.discount is not None and invoice.discount.amount is not None:
            amounts.append((invoice.discount.amount, ("discount", "amount")))
        if invoice.deposit is not None:
            amounts.append((invoice.deposit.amount, ("deposit", "amount")))
        amounts += [
            (link.amount, ("payment_links", i, "amount"))
            for i, link in enumerate(invoice.payment_links)
            if link.amount is not None
        ]
        if invoice.custom_plan is not None:
            amounts += [
                (part.amount, ("custom_plan", "instalments", i, "amount"))
                for i, part in enumerate(invoice.custom_plan.instalments)
            ]
        amounts += list(_reduction_amounts(invoice))
        fine = [p for amount, at in amounts for p in _amount(origin, amount, currency, *at)]
        yield from fine
        if invoice.plans is not None:
            yield from _known_plans(origin, invoice.plans, plan_ids, "plans")
        if invoice.custom_plan is not None and invoice.custom_plan.id in (FULL_PLAN, *plan_ids):
            yield origin.problem(
                f"`{invoice.custom_plan.id}` is already a plan's id; give this plan its own (the default is `custom`)",
                "custom_plan",
                "id",
            )
        for problem in _late_regime(books, client, invoice, terms.late_payment, currency):
            if problem not in reported:  # a client's or the business's terms: say it once
                reported.add(problem)
                yield problem
        if fine:
            continue  # the totals below need amounts the currency can hold
        figures = figures_of(settings, client, invoice)
        totals = figures.totals
        if invoice.payment_links:
            yield from _payment_links(origin, invoice, figures.options)
        yield from _reductions(origin, invoice, totals.total, currency)
        if invoice.discount is not None and totals.discount > totals.subtotal:
            yield origin.problem(
                "the discount is more than the invoice's lines add up to", "discount"
            )
        if totals.deposit > totals.total:
            yield origin.problem("the deposit is more than the invoice total", "deposit", "amount")
        if invoice.custom_plan is not None:
            parts = sum(
                money.to_minor(part.amount, currency) for part in invoice.custom_plan.instalments
            )
            if parts != totals.to_pay:
                yield origin.problem(
                    f"the instalments add up to {money.format_plain(parts, currency)}, "
                    f"but {money.format_plain(totals.to_pay, currency)} is to be paid",
                    "custom_plan",
                    "instalments",
                )
            dates = [part.due_date for part in invoice.custom_plan.instalments]
            if dates != sorted(set(dates)):
                yield origin.problem(
                    "instalment dates must be in order, each after the last",
                    "custom_plan",
                    "instalments",
                )
        if (
            invoice.promise is not None
            and invoice.promise.made is not None
            and invoice.promise.by < invoice.promise.made
        ):
            yield origin.problem(
                f"{invoice.promise.by} is before the promise was made", "promise", "by"
            )


def _reduction_amounts(
    invoice: schema.Invoice,
) -> Iterator[tuple[Decimal, tuple[str | int, ...]]]:
    """The amounts written in the invoice's credit notes and write-off, with where they are."""
    for i, note in enumerate(invoice.credit_notes):
        if note.amount is not None:
            yield note.amount, ("credit_notes", i, "amount")
        for j, line in enumerate(note.lines or ()):
            yield line.unit_price, ("credit_notes", i, "lines", j, "unit_price")
    if invoice.write_off is not None and invoice.write_off.amount != "rest":
        yield invoice.write_off.amount, ("write_off", "amount")


def _reductions(
    origin: Origin, invoice: schema.Invoice, total: int, currency: str
) -> Iterator[Problem]:
    """Credit notes and a write-off: on an issued invoice, dated from its issue, the credit notes
    no more than its total."""
    given: list[tuple[tuple[str | int, ...], date, str]] = [
        (("credit_notes", i), note.date, "a credit note")
        for i, note in enumerate(invoice.credit_notes)
    ]
    if invoice.write_off is not None:
        given.append((("write_off",), invoice.write_off.date, "a write-off"))
    for at, day, what in given:
        if invoice.draft:
            yield origin.problem(f"invoice {invoice.number} is a draft: change it, not {what}", *at)
        elif invoice.void is not None:
            yield origin.problem(
                f"invoice {invoice.number} is void: nothing is owed to reduce", *at
            )
        elif day < invoice.issue_date:
            yield origin.problem(
                f"{day} is before the issue date {invoice.issue_date}", *at, "date"
            )
    credited = 0
    for i, note in enumerate(invoice.credit_notes):
        credited += credit_note_amount(note, currency)
        if credited > total:
            yield origin.problem(
                f"the credit notes come to {money.format_plain(credited, currency)}, more than "
                f"the invoice total of {money.format_plain(total, currency)}",
                "credit_notes",
                i,
            )
            break


def _credit_note_numbers(books: Books) -> Iterator[Problem]:
    """A credit note's number is its own: used by no other credit note, nor by an invoice."""
    first: dict[str, tuple[Origin, tuple[str | int, ...]]] = {}
    for invoice in books.invoices.values():
        origin = books.origin(invoice)
        for i, note in enumerate(invoice.credit_notes):
            at: tuple[str | int, ...] = ("credit_notes", i, "number")
            other = books.invoices.get(note.number)
            if other is not None:
                where = books.origin(other)
                yield origin.problem(
                    f"`{note.number}` is already the number of the invoice at "
                    f"{where.path}:{where.line()}",
                    *at,
                )
                continue
            seen = first.setdefault(note.number, (origin, at))
            if seen[0] is not origin or seen[1] != at:
                yield origin.problem(
                    f"credit note `{note.number}` is already used at "
                    f"{seen[0].path}:{seen[0].line(*seen[1][:-1])}",
                    *at,
                )


def _payment_links(
    origin: Origin, invoice: schema.Invoice, options: tuple[PlanOption, ...]
) -> Iterator[Problem]:
    counts = {option.id: len(option.instalments) for option in options}
    for index, link in enumerate(invoice.payment_links):
        plan, _, number = link.target.partition("#")
        at = ("payment_links", index, "target")
        if plan not in counts:
            yield origin.problem(f"plan `{plan}` is not offered on this invoice", *at)
        elif number and int(number) > counts[plan]:
            yield origin.problem(f"plan `{plan}` has {counts[plan]} instalments, not {number}", *at)


def _late_regime(
    books: Books,
    client: schema.Client,
    invoice: schema.Invoice,
    late: schema.LatePayment,
    currency: str,
) -> Iterator[Problem]:
    """A late-payment regime that cannot apply to the invoice's currency. The problem is where the
    currency was chosen on the invoice itself, or else where the regime was set."""
    if late.regime == "uk_statutory" and currency != "GBP":
        message = f"the uk_statutory late-payment regime is for GBP invoices, not {currency}"
        wrong = "regime"
    elif late.regime == "eu_statutory" and currency != "EUR":
        message = f"the eu_statutory late-payment regime is for EUR invoices, not {currency}"
        wrong = "regime"
    elif late.regime == "contractual" and late.fee and currency not in late.fee:
        message = f"the late fee has no amount in {currency}"
        wrong = "fee"
    else:
        return
    if invoice.currency is not None:
        yield books.origin(invoice).problem(message, "currency")
    elif client.terms is not None and client.terms.late_payment is not None:
        yield books.origin(client).problem(message, "terms", "late_payment", wrong)
    elif books.settings_origin is not None:
        if client.currency is not None:  # the business's terms: say who is billed otherwise
            message += f", the currency of client `{client.id}`"
        yield books.settings_origin.problem(message, "terms", "late_payment", wrong)


def _payment_records(
    books: Books, settings: schema.Settings
) -> tuple[list[Problem], dict[str, list[schema.Payment]]]:
    """The problems of each payment record, and the sound payments of each invoice, in order."""
    sound: dict[str, list[schema.Payment]] = defaultdict(list)
    problems = list(_payment_problems(books, settings, sound))
    return problems, sound


def _payment_problems(
    books: Books, settings: schema.Settings, sound: dict[str, list[schema.Payment]]
) -> Iterator[Problem]:
    first: dict[str, Origin] = {}
    chosen: dict[str, tuple[str, Origin]] = {}
    for payment in books.payments:
        origin = books.origin(payment)
        if payment.id in first:
            seen = first[payment.id]
            yield origin.problem(
                f"payment `{payment.id}` is already recorded at {seen.path}:{seen.line()}", "id"
            )
            continue
        first[payment.id] = origin
        invoice = books.invoices.get(payment.invoice)
        if invoice is None:
            if not books.may_exist(schema.Invoice, payment.invoice):
                yield origin.problem(
                    _unknown("invoice", payment.invoice, books.invoices), "invoice"
                )
            continue
        client = books.clients.get(invoice.client)
        if client is None:
            continue
        terms = terms_of(settings, client, invoice)
        if payment.currency != terms.currency:
            yield origin.problem(
                f"invoice {invoice.number} is in {terms.currency}, not {payment.currency}",
                "currency",
            )
            continue
        bad = list(_amount(origin, payment.amount, payment.currency, "amount"))
        yield from bad
        if bad:
            continue
        if payment.plan is not None:
            options = figures_of(settings, client, invoice).options
            option = next((o for o in options if o.id == payment.plan), None)
            if option is None:
                yield origin.problem(
                    f"plan `{payment.plan}` is not offered on invoice {invoice.number}", "plan"
                )
                continue
            if payment.instalment is not None and payment.instalment > len(option.instalments):
                yield origin.problem(
                    f"plan `{payment.plan}` has {len(option.instalments)} instalments, not {payment.instalment}",
                    "instalment",
                )
                continue
            plan, where = chosen.setdefault(invoice.number, (payment.plan, origin))
            if plan != payment.plan:
                yield origin.problem(
                    f"invoice {invoice.number} is already on plan `{plan}`, chosen by the payment at "
                    f"{where.path}:{where.line()}",
                    "plan",
                )
                continue
        warning = payment_warning(invoice) if payment.kind == "payment" else None
        if warning is not None:
            yield origin.problem(warning, "invoice", warning=True)
        sound[invoice.number].append(payment)


def payment_warning(invoice: schema.Invoice) -> str | None:
    """Why a payment of `invoice` is not expected (it is void, or a draft), if it is not."""
    if invoice.void is not None:
        return f"invoice {invoice.number} is void; refund this payment"
    if invoice.draft:
        return f"invoice {invoice.number} is a draft; issue it, or refund this payment"
    return None


def _settled(
    books: Books, settings: schema.Settings, number: str, payments: list[schema.Payment]
) -> Iterator[Problem]:
    """What the sound `payments` of invoice `number` settle: overpaid, or refunded beyond it."""
    invoice = books.invoices[number]
    # The ledger on the day of the latest payment says whether the payments overshoot what was
    # owed then, discount taken and fees settled included.
    client = books.clients[invoice.client]
    # (What an invoice is overpaid by is the client's credit, on their page: not a problem.)
    settled = settlement(settings, client, invoice, payments, max(p.date for p in payments))
    payment = payments[-1]
    if settled.net_paid < 0:
        yield books.origin(payment).problem(
            f"invoice {number} has more refunded than paid", "amount"
        )


def _messages(books: Books, settings: schema.Settings) -> Iterator[Problem]:
    stages = {stage.name for policy in settings.policies.values() for stage in policy} | {"thanks"}
    first: dict[tuple[str, str], Origin] = {}
    for message in books.messages:
        origin = books.origin(message)
        twice = _recorded_twice(first, origin, "message", message.id, message.status)
        if twice is not None:
            yield twice
            continue
        if message.client not in books.clients and not books.may_exist(
            schema.Client, message.client
        ):
            yield origin.problem(_unknown("client", message.client, books.clients), "client")
        if message.stage not in stages:
            yield origin.problem(f"no policy has a stage `{message.stage}`", "stage")
        for index, item in enumerate(message.items):
            number = item.split("#")[0]
            if number not in books.invoices and not books.may_exist(schema.Invoice, number):
                yield origin.problem(_unknown("invoice", number, books.invoices), "items", index)


def _recorded_twice(
    first: dict[tuple[str, str], Origin], origin: Origin, what: str, ident: str, status: str
) -> Problem | None:
    """A record id appears once in each status (`sending`, then `sent`...); twice in one, it was
    sent or set twice: two runs at once, or a line copied by hand. `first` keeps each first line."""
    seen = first.setdefault((ident, status), origin)
    if seen is origin:
        return None
    return origin.problem(
        f"{what} `{ident}` is already recorded as `{status}` at {seen.path}:{seen.line()}", "id"
    )


def _statement_link(
    books: Books, origin: Origin, record: schema.PaymentLinkRecord
) -> Iterator[Problem]:
    client = record.target.removeprefix(schema.STATEMENT_TARGET).rpartition(":")[0]
    if client not in books.clients:
        if not books.may_exist(schema.Client, client):
            yield origin.problem(_unknown("client", client, books.clients), "target")
        return
    yield from _amount(origin, record.amount, record.currency, "amount")


def _link_records(books: Books, settings: schema.Settings) -> Iterator[Problem]:
    """Payment Links the tool recorded: each once as `active` and at most once as `deactivated`,
    for an invoice the books have, in its currency."""
    first: dict[tuple[str, str], Origin] = {}
    for record in books.payment_links:
        origin = books.origin(record)
        twice = _recorded_twice(first, origin, "payment link", record.id, record.status)
        if twice is not None:
            yield twice
            continue
        if record.invoice is None:  # a statement's link: its client, in its currency
            yield from _statement_link(books, origin, record)
            continue
        invoice = books.invoices.get(record.invoice)
        if invoice is None:
            if not books.may_exist(schema.Invoice, record.invoice):
                yield origin.problem(_unknown("invoice", record.invoice, books.invoices), "invoice")
            continue
        client = books.clients.get(invoice.client)
        if client is None:
            continue
        currency = terms_of(settings, client, invoice).currency
        if record.currency != currency:
            yield origin.problem(
                f"invoice {invoice.number} is in {currency}, not {record.currency}", "currency"
            )
        else:
            yield from _amount(origin, record.amount, currency, "amount")


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"unknown {kind} `{name}`{hint}"
