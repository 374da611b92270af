"""The cache of read book files (notifier.books.cache): a load from it says exactly what a load from
the YAML says, reads only the files whose bytes changed, and never trusts a damaged entry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier import speed
from notifier.books import checks, load, schema
from notifier.books.cache import FileCache
from notifier.books.checks import check_books
from notifier.problems import Problem
from notifier.reminders import text_checks
from tests.scratch import example_books
from tests.test_broken_books import CASES, build


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files read from YAML from now on (not taken from the cache)."""
    names: list[str] = []
    real = load._read_file

    def counting(raw: bytes, name: str, *rest: object) -> load.FileResult:
        names.append(name)
        return real(raw, name, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "_read_file", counting)
    return names


@pytest.mark.parametrize("case", ["_base", *CASES])
def test_a_cached_load_reports_the_same_problems_on_the_same_lines(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(case, tmp_path)
    cache = tmp_path / "cache"
    books, first = check_books(root, cache)
    reads = _reads(monkeypatch)
    again, second = check_books(root, cache)
    assert reads == []
    assert [str(p) for p in second] == [str(p) for p in first]
    assert again.invoices == books.invoices
    assert again.payments == books.payments
    assert again.broken == books.broken
    assert again.unreadable == books.unreadable


def test_only_the_edited_file_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    cache = tmp_path / "cache"
    check_books(root, cache)
    entries = set(cache.iterdir())
    invoices = root / "data" / "invoices" / "2026.yaml"
    invoices.write_text(invoices.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    reads = _reads(monkeypatch)
    _, problems = check_books(root, cache)
    assert reads == ["data/invoices/2026.yaml"]
    assert [p for p in problems if p.severity == "error"] == []
    # The entry for the file's old bytes is gone, the new one replaces it, and so do the problems
    # of its invoices, of what their payments settle, their RF references, and the verdict of the
    # cross-checks: the cache does not grow.
    after = set(cache.iterdir())
    assert len(after) == len(entries)
    kinds = ["file", "invoice checks", "references", "settlements", "verdict"]
    assert sorted(map(_kind, after - entries)) == kinds


def _kind(entry: Path) -> str:
    """What a cache entry keeps: a file's records, an invoice file's problems, what its invoices'
    payments settle, their references, a verdict, or the texts' problems."""
    kinds = (
        ("verdict-", "verdict"),
        ("invoice-checks-", "invoice checks"),
        ("settled-", "settlements"),
        ("references-", "references"),
        ("texts-", "texts"),
    )
    for prefix, kind in kinds:
        if entry.name.startswith(prefix):
            return kind
    return "file"


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_the_problems_kept_of_each_invoice_file_are_those_found_afresh(
    case: str, shared: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aside = None
    if shared:  # with a forked process checking a share, whatever the size of the books
        monkeypatch.setattr(checks, "SHARED_FROM", 0)
        monkeypatch.setattr(checks, "KEPT_SHARE", 0.5)
        aside = speed.forked
    cache = tmp_path / "cache"
    check_books(build("_base", tmp_path / "base"), cache)  # each file's problems as they were
    root = build(case, tmp_path / "case")
    _, afresh = check_books(root)
    assert check_books(root, cache, aside=aside)[1] == afresh
    assert check_books(root, cache, aside=aside)[1] == afresh  # and from the verdict


def _invoice(number: str, client: str, issued: str, price: str, *, due: str = "") -> str:
    """An invoice of one line, as a YAML list entry."""
    return (
        f"- number: {number}\n  client: {client}\n  issue_date: {issued}\n"
        + (f"  due_date: {due}\n" if due else "")
        + f"  lines:\n    - {{description: Design work, unit_price: {price}}}\n"
    )


def test_after_an_edit_only_the_edited_invoice_files_invoices_are_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    # Due before it was issued: a cross-check problem.
    (root / "data" / "invoices" / "2027.yaml").write_text(
        _invoice("HP-2027-001", "kessler", "2026-11-20", "800.00", due="2026-11-01"), "utf-8"
    )
    cache = tmp_path / "cache"
    _, first = check_books(root, cache)
    assert [(p.path, p.field) for p in first if p.severity == "error"] == [
        ("data/invoices/2027.yaml", "due_date")
    ]
    checked: list[str] = []
    real = checks._invoices

    def counting(
        books: load.Books, settings: schema.Settings, invoices: Iterable[schema.Invoice]
    ) -> Iterator[Problem]:
        invoices = list(invoices)
        checked.extend(invoice.number for invoice in invoices)
        return real(books, settings, invoices)

    monkeypatch.setattr(checks, "_invoices", counting)
    settled: list[str] = []
    real_settled = checks._settled

    def settling(
        books: load.Books, settings: schema.Settings, number: str, paid: list[schema.Payment]
    ) -> Iterator[Problem]:
        settled.append(number)
        return real_settled(books, settings, number, paid)

    monkeypatch.setattr(checks, "_settled", settling)
    edited = root / "data" / "invoices" / "2027.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    _, second = check_books(root, cache)
    assert checked == ["HP-2027-001"]
    assert settled == []  # it has no payments; those of the other files' invoices are as they were
    assert second == first
    # A payment recorded: what each invoice's payments settle is worked out again.
    payments = root / "data" / "records" / "payments.yaml"
    payments.write_text(payments.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    checked.clear()
    assert check_books(root, cache)[1] == first
    assert checked == []
    assert len(settled) == len({p.invoice for p in load.load_books(root)[0].payments})
    settled.clear()
    # The settings are every invoice's terms: all are checked again.
    settings = root / "data" / "business.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    checked.clear()
    _, third = check_books(root, cache)
    assert len(checked) == len(load.load_books(root)[0].invoices)
    assert third == first


def test_an_invoice_number_used_twice_is_checked_where_the_books_take_it_from(
    tmp_path: Path,
) -> None:
    root = example_books(tmp_path)
    # A second HP-2026-014, in another file: the books keep the first, in 2026.yaml.
    # The second is due before it was issued: a cross-check problem.
    (root / "data" / "invoices" / "2027.yaml").write_text(
        _invoice("HP-2026-014", "brightwater", "2026-06-01", "450.00", due="2026-05-01")
        + _invoice("HP-2027-001", "kessler", "2026-11-20", "800.00"),
        "utf-8",
    )
    cache = tmp_path / "cache"
    _, first = check_books(root, cache)
    assert [p.field for p in first if p.path.endswith("2027.yaml")] == ["number"]
    # Without the first, the second is the books' own, and checked: its file is unchanged.
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    start = text.index("- number: HP-2026-014\n")
    invoices.write_text(text[:start] + text[text.index("- number:", start + 1) :], "utf-8")
    _, afresh = check_books(root)
    assert [p.field for p in afresh if p.path.endswith("2027.yaml")] == ["due_date"]
    assert check_books(root, cache)[1] == afresh


def test_a_damaged_entry_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = example_books(tmp_path)
    cache = tmp_path / "cache"
    books, _ = check_books(root, cache)
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    reads = _reads(monkeypatch)
    again, _ = check_books(root, cache)
    assert len(reads) == len([e for e in cache.iterdir() if _kind(e) == "file"])
    assert again.invoices == books.invoices


@pytest.mark.parametrize(
    "case", ["_base", "several-errors-one-file", "duplicate-invoice-number-across-files"]
)
def test_forked_workers_read_what_one_process_reads_and_keep_it(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(case, tmp_path)
    alone, alone_problems = check_books(root)
    monkeypatch.setattr(load, "_PARALLEL_BYTES", 0)  # fork even for these few files
    cache = tmp_path / "cache"
    shared, shared_problems = check_books(root, cache, spread=speed.spread)
    assert [str(p) for p in shared_problems] == [str(p) for p in alone_problems]
    assert shared.clients == alone.clients
    assert shared.invoices == alone.invoices
    assert shared.payments == alone.payments
    assert shared.broken == alone.broken
    assert [shared.digest(i) for i in shared.invoices.values()] == [
        alone.digest(i) for i in alone.invoices.values()
    ]
    # Each worker kept what it read: a second load reads no file again.
    reads = _reads(monkeypatch)
    check_books(root, cache)
    assert reads == []


def test_the_cross_checks_verdict_is_kept_for_the_same_books_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build("several-errors-one-file", tmp_path)
    cache = tmp_path / "cache"
    _, first = check_books(root, cache)
    runs: list[int] = []
    real = checks.cross_check

    def counting(
        books: load.Books, files: FileCache | None = None, aside: checks.Aside[Any] | None = None
    ) -> list[Problem]:
        runs.append(1)
        return real(books, files, aside)

    monkeypatch.setattr(checks, "cross_check", counting)
    _, again = check_books(root, cache)
    assert runs == []
    assert again == first
    # A new content file can settle a cross-check (a missing reminder text): checked again.
    (root / "content" / "reminders" / "a-new-text.en.md").write_text("Hello\n", encoding="utf-8")
    check_books(root, cache)
    assert runs == [1]
    # So does any edited file of the books.
    settings = root / "data" / "business.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    _, edited = check_books(root, cache)
    assert runs == [1, 1]
    assert [str(p) for p in edited] == [str(p) for p in first]
    # Without a cache folder nothing is kept: checked every time.
    check_books(root)
    assert runs == [1, 1, 1]


def test_the_texts_problems_are_kept_for_the_same_texts_settings_and_clients_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build("text-unknown-placeholder", tmp_path)
    cache = tmp_path / "cache"
    _, first = check_books(root, cache)
    assert [p.path for p in first] == ["content/reminders/friendly.en.md"] * 4
    runs: list[int] = []
    real = text_checks.check_texts

    def counting(books: load.Books) -> list[Problem]:
        runs.append(1)
        return real(books)

    monkeypatch.setattr(text_checks, "check_texts", counting)
    assert check_books(root, cache)[1] == first
    # An invoice edited changes nothing the texts are filled in with.
    invoices = root / "data" / "invoices" / "2026.yaml"
    invoices.write_text(invoices.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    assert check_books(root, cache)[1] == first
    assert runs == []
    # Nor does a client's edit that is not its locale.
    clients = root / "data" / "clients.yaml"
    listed = clients.read_text(encoding="utf-8")
    clients.write_text(listed.replace("name: Acme Ltd", "name: Acme Limited"), encoding="utf-8")
    assert check_books(root, cache)[1] == first
    assert runs == []
    # An edited text is checked again, and so are all when a client's locale changes.
    text = root / "content" / "reminders" / "friendly.en.md"
    text.write_text(text.read_text(encoding="utf-8").replace("clientname", "client.name"), "utf-8")
    _, edited = check_books(root, cache)
    assert runs == [1]
    assert len(edited) == 3
    clients.write_text(listed.replace("locale: de_DE", "locale: de_AT"), encoding="utf-8")
    assert check_books(root, cache)[1] == edited
    assert runs == [1, 1]


@pytest.mark.parametrize("case", ["_base", *CASES])
def test_cross_checks_shared_with_a_forked_process_find_what_one_process_finds(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(case, tmp_path)
    books, _ = load.load_books(root)
    alone = checks.cross_check(books)
    monkeypatch.setattr(checks, "SHARED_FROM", 0)
    monkeypatch.setattr(checks, "KEPT_SHARE", 0.5)
    assert checks.cross_check(books, aside=speed.forked) == alone
