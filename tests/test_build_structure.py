"""What keeps `notifier build` fast at scale (issue 7), guarded by structure rather than timing:
a build with nothing changed loads no books and writes no file; one changed invoice renders one
client; the template environment is made once per build; workers change nothing in the output."""

from __future__ import annotations

import io
import itertools
import os
import time
from collections.abc import Iterable
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import pypdf
import pytest
from click.testing import CliRunner

from notifier import cli as cli_module
from notifier.account import account_of
from notifier.addresses import (
    Secret,
    client_page,
    client_token,
    dashboard_page,
    dashboard_token,
)
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.books.schema import Invoice
from notifier.ledger.state import History, ledger
from notifier.portal import site as site_module
from notifier.portal.build import Portal, Theme
from notifier.portal.documents import Pending, prune_cache
from notifier.portal.last_build import RENDERING_LIBRARIES, code_digest, installed, read_state
from notifier.portal.site import build_site
from notifier.portal.views import client_views
from notifier.printer import DocumentError, Printer, PrintJob, Request, request
from tests.scratch import example_books

AS_OF = date(2026, 11, 23)
SECRET = Secret(b"structure test secret", demo=False)
# A page's, PDF's or calendar's (without a cache: bytes; None: a page as the site has it).
Document = Path | bytes | Pending | None


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def times(*folders: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for f in folders for p in f.rglob("*") if p.is_file()}


def build(root: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        cli_module.cli,
        ["--root", str(root), "build", "--as-of", AS_OF.isoformat(), *extra],
        env={"NOTIFIER_SECRET": "structure test secret"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_build_with_nothing_changed_loads_no_books_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    first = build(root)
    out, kept = root / "public", root / ".public.notifier"
    before = times(out, kept, root / ".cache")

    def no_loading(root: Path) -> None:
        raise AssertionError("the books were loaded")

    monkeypatch.setattr(cli_module, "_load", no_loading)
    again = build(root)
    assert times(out, kept, root / ".cache") == before
    written = first.split(": ")[1].split(" files written")[0]
    assert again.endswith(f": 0 files written, 0 removed, {written} unchanged.\n")


def test_the_versions_a_build_is_keyed_on_are_those_installed() -> None:
    found = installed(RENDERING_LIBRARIES)
    assert found == {name: metadata.version(name) for name in RENDERING_LIBRARIES}


def test_an_upgraded_library_builds_every_page_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    build(root)
    books, _ = check_books(root)
    out = tmp_path / "public"
    build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf")
    loaded: list[Path] = []
    load = cli_module._load

    def counted(root: Path) -> Any:
        loaded.append(root)
        return load(root)

    monkeypatch.setattr(cli_module, "_load", counted)
    # Babel upgraded (it writes the amounts): its newer version is found first on the path.
    folder = tmp_path / "upgraded"
    (folder / "babel-99.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(folder))
    code_digest.cache_clear()
    try:
        assert installed(["Babel"]) == {"babel": "99.0"}
        build(root)
        assert loaded  # not a build with nothing changed
        again = build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf")
        assert again.rendered == len(books.clients)
    finally:
        monkeypatch.undo()
        code_digest.cache_clear()


def test_a_file_removed_from_the_site_is_made_again(tmp_path: Path) -> None:
    root = example_books(tmp_path)
    build(root)
    out = root / "public"
    whole = tree(out)
    pdf = next(name for name in whole if name.endswith(".pdf"))
    page = next(
        name
        for name in whole
        if name.startswith("p/") and name.endswith(".html") and name.split("/")[1] not in pdf
    )  # of another client
    for name in (pdf, page):
        (out / name).unlink()
    again = build(root)
    assert tree(out) == whole
    assert again.split(": ")[1].startswith("2 files written")


def test_one_changed_invoice_renders_only_its_client(tmp_path: Path) -> None:
    root = example_books(tmp_path)
    out = tmp_path / "public"
    books, _ = check_books(root)
    first = build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf")
    assert first.rendered == len(books.clients)
    books = change_a_price(root)
    client = books.invoices["HP-2026-030"].client
    second = build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf")
    assert second.rendered == 1
    folder = client_page(client_token(SECRET, client))
    dashboard = dashboard_page(dashboard_token(SECRET))
    assert any(name.startswith(folder) for name in second.changed)
    assert all(name.startswith((folder, dashboard)) for name in second.changed)
    # Exactly what a build from scratch gives.
    fresh = tmp_path / "fresh"
    build_site(root, books, AS_OF, SECRET, fresh, tmp_path / "pdf")
    assert tree(out) == tree(fresh)


def test_one_template_environment_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    made: list[jinja2.Environment] = []
    real = jinja2.Environment.__init__

    def counting(self: jinja2.Environment, *args: object, **kwargs: object) -> None:
        made.append(self)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "__init__", counting)
    build_site(root, books, AS_OF, SECRET, tmp_path / "public", tmp_path / "pdf", workers=1)
    assert len(made) == 1


def test_templates_are_compiled_and_parsed_for_keys_once_until_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    cache = tmp_path / "pdf"
    build_site(root, books, AS_OF, SECRET, tmp_path / "one", cache, workers=1)
    compiled: list[str | None] = []
    parsed: list[str] = []
    compile_template, parse = jinja2.Environment.compile, jinja2.Environment.parse

    def compiling(
        self: jinja2.Environment, source: str, name: str | None = None, *args: object
    ) -> object:
        compiled.append(name)
        return compile_template(self, source, name, *args)  # type: ignore[call-overload]

    def parsing(self: jinja2.Environment, source: str, *args: object) -> object:
        parsed.append(source)
        return parse(self, source, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", compiling)
    monkeypatch.setattr(jinja2.Environment, "parse", parsing)
    build_site(root, books, AS_OF, SECRET, tmp_path / "two", cache, workers=1)
    assert (compiled, parsed) == ([], [])
    assert tree(tmp_path / "two") == tree(tmp_path / "one")

    macros = root / "site" / "templates" / "macros.html"
    macros.write_text(macros.read_text(encoding="utf-8") + "{# changed #}\n", encoding="utf-8")
    build_site(root, books, AS_OF, SECRET, tmp_path / "three", cache, workers=1)
    assert compiled == ["macros.html"]  # the others are as they were
    assert parsed  # what the invoice's template reads is worked out again

    compiled.clear()
    monkeypatch.setattr("notifier.portal.build.code_digest", lambda: b"other code")
    build_site(root, books, AS_OF, SECRET, tmp_path / "four", cache, workers=1)
    assert compiled  # compiled by other code: not trusted
    assert len(list((cache / "templates").iterdir())) == 1  # the other code's are gone


def test_forked_workers_build_what_one_process_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    alone = build_site(root, books, AS_OF, SECRET, tmp_path / "one", tmp_path / "pdf", workers=1)
    monkeypatch.setattr(site_module, "PARALLEL_FROM", 0)  # fork even for these few invoices
    # A cache of its own: the workers print the PDFs themselves (each starts its printer).
    shared = build_site(root, books, AS_OF, SECRET, tmp_path / "two", tmp_path / "own", workers=2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert (shared.pages, shared.written, shared.clients) == (
        alone.pages,
        alone.written,
        alone.clients,
    )


def test_pdfs_and_qr_codes_are_drawn_once_for_the_same_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    cache = tmp_path / "cache"
    build_site(root, books, AS_OF, SECRET, tmp_path / "one", cache, workers=1)
    assert list(cache.glob("*.svg"))  # the euro invoices' codes
    assert list(cache.glob("*.pdf"))

    def drawn(*args: object, **kwargs: object) -> None:
        raise AssertionError("drawn again")

    monkeypatch.setattr("zxingcpp.create_barcode", drawn)
    monkeypatch.setattr("notifier.portal.documents.print_document", drawn)
    build_site(root, books, AS_OF, SECRET, tmp_path / "two", cache, workers=1)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def change_a_price(root: Path, number: str = "HP-2026-030") -> Books:
    """The books after one unit price of invoice `number` changed."""
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    price = text.index("unit_price: ", text.index(f"- number: {number}")) + len("unit_price: ")
    invoices.write_text(text[:price] + "1" + text[price:], encoding="utf-8")
    books, problems = check_books(root)
    assert [p for p in problems if p.severity == "error"] == []
    return books


def test_a_build_removes_what_it_replaced_and_looks_through_the_whole_cache_once_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    books, _ = check_books(root)
    out, cache = tmp_path / "public", tmp_path / "pdf"
    build_site(root, books, AS_OF, SECRET, out, cache, workers=1)
    stray = cache / f"{'0' * 64}.pdf"  # made by no build of this site (an attachment's, say)
    stray.write_bytes(b"%PDF")
    before = {p.name for p in cache.iterdir()}
    books = change_a_price(root)
    scandir = os.scandir

    def listing(path: Any) -> Any:
        assert Path(path) != cache, "the whole cache was looked through"
        return scandir(path)

    monkeypatch.setattr(os, "scandir", listing)
    build_site(root, books, AS_OF, SECRET, out, cache, workers=1)
    monkeypatch.setattr(os, "scandir", scandir)
    after = {p.name for p in cache.iterdir()}
    used = {key for found in read_state(out)["clients"].values() for key in found[2]}
    replaced = before - after
    assert replaced
    assert all(name.split(".")[0] not in used for name in replaced)
    documents = {name for name in after if name.endswith((".pdf", ".html", ".ics"))}
    assert {name.split(".")[0] for name in documents} == used | {stray.stem}

    # A day later the whole cache is looked through: what no build uses is gone.
    swept = prune_cache(cache, used, set(), now=time.time() + 86400)
    assert swept == 1
    assert not stray.exists()


def test_the_dashboard_works_out_only_the_changed_clients_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    out = tmp_path / "public"
    books, _ = check_books(root)
    build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf", workers=1)
    invoices = root / "data" / "invoices" / "2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    start = text.index("- number: HP-2026-030")
    price = text.index("unit_price: ", start) + len("unit_price: ")
    invoices.write_text(text[:price] + "1" + text[price:], encoding="utf-8")
    books, _ = check_books(root)
    client = books.invoices["HP-2026-030"].client
    worked_out: list[str] = []

    def counting(
        books: Books,
        as_of: date,
        only: Iterable[Invoice] | None = None,
        *,
        known: History | None = None,
        credits: object = None,
    ) -> object:
        states = ledger(books, as_of, only, known=known, credits=credits)  # type: ignore[arg-type]
        worked_out.extend(states)
        return states

    monkeypatch.setattr("notifier.account.day.ledger", counting)
    build_site(root, books, AS_OF, SECRET, out, tmp_path / "pdf", workers=1)
    assert sorted(worked_out) == sorted(n for n, i in books.invoices.items() if i.client == client)
    fresh = tmp_path / "fresh"
    monkeypatch.undo()
    build_site(root, books, AS_OF, SECRET, fresh, tmp_path / "pdf", workers=1)
    assert tree(out) == tree(fresh)


def _data_as_pdf(document: Request) -> bytes:
    """Printing nothing: the "PDF" is the data it would print."""
    return document.data.encode("utf-8")


def pdf_sources(root: Path, as_of: date) -> dict[str, tuple[str | None, Document]]:
    """Each invoice's PDF key and the data its PDF is printed from, as of `as_of` (no cache)."""
    return {number: found[1] for number, found in documents(root, as_of).items()}


def documents(root: Path, as_of: date) -> dict[str, list[tuple[str | None, Document]]]:
    """Each invoice's page and PDF (its data) as of `as_of` (no cache), with their keys.
    Calendars have none: made every time, never kept."""
    books, _ = check_books(root)
    portal = Portal(root, books, Theme(root), as_of, SECRET.demo, None)
    return {
        invoice.number: [
            portal.invoice_page(view, invoice),
            portal.invoice_pdf(view, invoice),
        ]
        for view in client_views(account_of(books, as_of), SECRET)
        for invoice in view.invoices
    }


def test_the_root_spelled_relative_or_in_full_finds_the_same_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    books, _ = check_books(root)
    cache = tmp_path / "cache"
    monkeypatch.chdir(root.parent)
    build_site(Path(root.name), books, AS_OF, SECRET, tmp_path / "one", cache, workers=1)
    made = sorted(p.name for p in cache.iterdir())
    assert any(name.endswith(".pdf") for name in made)
    build_site(root.resolve(), books, AS_OF, SECRET, tmp_path / "two", cache, workers=1)
    assert sorted(p.name for p in cache.iterdir()) == made  # nothing made again
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_the_site_publishes_the_cached_pdfs_themselves_not_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    cache = tmp_path / "cache"
    build_site(root, books, AS_OF, SECRET, tmp_path / "linked", cache, workers=1)
    cached = {(p.stat().st_dev, p.stat().st_ino) for p in cache.glob("*.pdf")}
    published = list((tmp_path / "linked").rglob("*.pdf"))
    assert published
    assert all((p.stat().st_dev, p.stat().st_ino) in cached for p in published)

    def elsewhere(source: object, target: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr("os.link", elsewhere)  # the cache on another file system: copies
    build_site(root, books, AS_OF, SECRET, tmp_path / "copied", cache, workers=1)
    assert tree(tmp_path / "copied") == tree(tmp_path / "linked")
    assert not any(p.stat().st_nlink > 1 for p in (tmp_path / "copied").rglob("*.pdf"))


def test_a_page_or_pdf_is_made_again_whenever_it_changes_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    days = [documents(root, AS_OF + timedelta(days=n)) for n in (0, 1, 40)]
    kept = [0, 0]
    for before, after in itertools.pairwise(days):
        for number, made in before.items():
            for kind, ((key, data), (key_after, data_after)) in enumerate(
                zip(made, after[number], strict=True)
            ):
                if key is None or key_after is None:  # a page made every day (see below)
                    assert kind == 0
                    assert data_after != data, number  # it says how late, to the day
                    continue
                assert (key_after == key) == (data_after == data), (number, kind)
                kept[kind] += key_after == key
    assert all(kept)  # invoices nothing happened to (paid ones) keep them from day to day


CLAIM_DAYS = (date(2026, 12, 2), date(2026, 12, 3))


def test_an_overdue_invoices_pdf_is_printed_again_only_when_something_happens_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    books, _ = check_books(root)
    states = ledger(books, AS_OF)
    late = [n for n, s in states.items() if s.days_overdue]
    assert len(late) >= 3
    today, tomorrow = documents(root, AS_OF), documents(root, AS_OF + timedelta(days=1))
    for number in late:
        pdf, pdf_after = today[number][1], tomorrow[number][1]
        assert pdf_after == pdf, number  # the same document: neither rendered nor printed again
    # A month after its due date (3 Nov) interest is claimed: what is owed, and so the PDF, change.
    before, claimed = (documents(root, day)["HP-2026-026"][1] for day in CLAIM_DAYS)
    assert claimed != before

    paid = late[0]
    payments = root / "data" / "records" / "payments.yaml"
    with payments.open("a", encoding="utf-8") as out:  # something happens: a part payment
        currency = states[paid].currency
        out.write(
            f"- {{id: bank-part-{paid}, invoice: {paid}, date: {AS_OF}, amount: 100, "
            f"currency: {currency}, method: bank}}\n"
        )
    assert documents(root, AS_OF)[paid][1] != today[paid][1]


def test_a_page_that_shows_what_it_showed_at_the_last_build_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    books, _ = check_books(root)
    cache, public = tmp_path / "cache", tmp_path / "public"
    rendered: list[str] = []
    render = Theme.render

    def counted(theme: Theme, template: str, language: str, **context: Any) -> str:
        if template == "invoice.html":
            rendered.append(context["invoice"].number)
        return render(theme, template, language, **context)

    monkeypatch.setattr(Theme, "render", counted)
    build_site(root, books, AS_OF, SECRET, public, cache, workers=1)
    states = ledger(books, AS_OF)
    pages = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in public.rglob("HP-*.html")}
    assert sorted(rendered) == sorted(p.stem for p in pages)  # each page once
    assert list(cache.glob("*.html")) == []  # and written straight into the site, not copied
    rendered.clear()
    tomorrow = AS_OF + timedelta(days=1)
    build_site(root, books, tomorrow, SECRET, public, cache, workers=1)
    late = {n for n, s in ledger(books, tomorrow).items() if s.days_overdue}
    paid = {n for n, s in states.items() if s.status.value == "paid"}
    assert late
    assert paid
    # A page is rendered again exactly when what it shows changed: a step of what happens next
    # that passed, a status; never for a day more late alone.
    changed = {p.stem for p, (_, before) in pages.items() if p.read_bytes() != before}
    assert sorted(rendered) == sorted(changed)
    assert late - changed  # late pages that read the same the next day
    assert not paid & set(rendered)  # nothing happened to a paid invoice: its page stays
    for path, (modified, _) in pages.items():
        if path.stem not in changed:
            assert path.stat().st_mtime_ns == modified  # not even written
    # Built afresh elsewhere, the pages are the same.
    build_site(root, books, tomorrow, SECRET, tmp_path / "afresh", tmp_path / "c2", workers=1)
    assert tree(public) == tree(tmp_path / "afresh")


def test_a_pdf_key_holds_what_it_shows_and_the_theme_never_the_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    today = pdf_sources(root, AS_OF)
    paid = {n for n, (_, data) in today.items() if "Paid in full" in str(data)}
    assert paid
    next_day = pdf_sources(root, AS_OF + timedelta(days=1))
    assert all(next_day[n][0] == today[n][0] for n in paid)
    template = root / "site" / "documents" / "invoice.typ"
    template.write_text(template.read_text(encoding="utf-8") + "\n// restyled\n", encoding="utf-8")
    restyled = pdf_sources(root, AS_OF)
    assert all(restyled[n][0] != key for n, (key, _) in today.items())  # the theme changed


def test_a_qr_codes_key_names_the_version_zxing_cpp_itself_gives() -> None:
    from notifier.portal import documents as documents_module

    # The distribution whose version the key holds (read without importing it) is the one that
    # gives the module that draws.
    assert metadata.packages_distributions()["zxingcpp"] == ["zxing-cpp"]
    version = metadata.version("zxing-cpp").encode()
    assert documents_module._drawing_version() == code_digest() + version


def test_the_printer_gives_each_pdf_and_each_error_to_whoever_asked(tmp_path: Path) -> None:
    theme = tmp_path / "site"
    (theme / "documents").mkdir(parents=True)
    (theme / "documents" / "note.typ").write_text(
        '#let data = json("/data.json")\n#data.text\n', encoding="utf-8"
    )
    (theme / "documents" / "wrong.typ").write_text("\n#undefined-thing\n", encoding="utf-8")
    day = AS_OF
    printer = Printer()
    try:
        one = printer.send(request(theme, "note.typ", {"text": "one"}, day))
        two = printer.send(request(theme, "note.typ", {"text": "two"}, day))  # once one is in
        failing = printer.send(request(theme, "wrong.typ", {}, day))
        missing = printer.send(request(theme, "gone.typ", {}, day))
        first, second = two.result(), one.result()
        with pytest.raises(DocumentError) as wrong:
            failing.result()
        with pytest.raises(DocumentError) as gone:
            missing.result()
        late = printer.send(request(theme, "note.typ", {"text": "late"}, day))
    finally:
        printer.close()
    assert "two" in pypdf.PdfReader(io.BytesIO(first)).pages[0].extract_text()
    assert "one" in pypdf.PdfReader(io.BytesIO(second)).pages[0].extract_text()
    assert str(wrong.value) == "site/documents/wrong.typ:2: unknown variable: undefined-thing"
    assert str(gone.value) == (
        f"notifier: the theme has no site/documents/gone.typ (in {tmp_path.resolve()}); this"
        " version of notifier prints with it: copy it from the template repository"
    )
    assert late.result().startswith(b"%PDF")  # the printer stopped before it was in: another


def test_a_pdf_is_printed_while_the_build_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = example_books(tmp_path)
    books, _ = check_books(root)
    out, cache = tmp_path / "public", tmp_path / "pdf"
    build_site(root, books, AS_OF, SECRET, out, cache, workers=1)
    books = change_a_price(root)
    events: list[str] = []
    result, dashboard = PrintJob.result, Portal.dashboard

    def waiting(self: PrintJob) -> bytes:
        events.append("PDF waited for")
        return result(self)

    def rendering(self: Portal, report: Any) -> str:
        events.append("dashboard")
        return dashboard(self, report)

    monkeypatch.setattr(PrintJob, "result", waiting)
    monkeypatch.setattr(Portal, "dashboard", rendering)
    printer = Printer()
    try:
        build_site(root, books, AS_OF, SECRET, out, cache, workers=1, printer=printer)
    finally:
        printer.close()
    assert events == ["dashboard", "PDF waited for"]
    build_site(root, books, AS_OF, SECRET, tmp_path / "fresh", tmp_path / "fresh-pdf", workers=1)
    assert tree(out) == tree(tmp_path / "fresh")


SPEED_MACHINERY = {"notifier.speed", "gc", "multiprocessing", "concurrent.futures", "threading"}


def test_the_books_ledger_and_account_never_import_the_speed_machinery() -> None:
    """Forking, the collector and the like live in notifier/speed.py, which the commands use: the
    core is plain functions a command may hand a way to spread work (issue 22)."""
    import ast

    package = Path(cli_module.__file__).parent
    found = []
    for part in ("books", "ledger", "account"):
        for path in sorted((package / part).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                found += [f"{path.name}: {n}" for n in names if n in SPEED_MACHINERY]
    assert found == []


def test_a_late_invoices_page_reads_the_same_each_day_until_interest_is_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    books, _ = check_books(root)
    public, cache = tmp_path / "public", tmp_path / "cache"

    def page(day: date) -> bytes:
        build_site(root, books, day, SECRET, public, cache, workers=1)
        (found,) = public.rglob("HP-2026-026.html")
        return found.read_bytes()

    # Two ordinary days (no reminder falls due on the first that the second would see as sent).
    ordinary = [AS_OF, AS_OF + timedelta(days=1)]
    assert all(ledger(books, day)["HP-2026-026"].days_overdue for day in ordinary)
    first, second = (page(day) for day in ordinary)
    assert second == first  # one day more late, nothing the client must know changed
    assert "Owed today; overdue since 4 November 2026." in second.decode()
    before, after = (page(day) for day in CLAIM_DAYS)  # a month's interest is claimed: owed more
    assert after != before
    assert "Late-payment interest" in after.decode()
    assert "Late-payment interest" not in before.decode()


def test_a_payment_prints_the_invoice_again_and_its_receipt_though_the_day_is_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose values did not change keeps its PDFs as the last build made them; a payment
    changes the page, so its PDF says what is owed after it, and its receipt is there."""
    monkeypatch.setattr("notifier.portal.documents.print_document", _data_as_pdf)
    root = example_books(tmp_path)
    public, cache = tmp_path / "public", tmp_path / "cache"
    books, _ = check_books(root)
    build_site(root, books, AS_OF, SECRET, public, cache, workers=1)
    (pdf,) = public.rglob("HP-2026-026.pdf")
    before = pdf.read_bytes()
    receipts = {p.name for p in pdf.parent.glob("HP-2026-026*.pdf")}
    tomorrow = AS_OF + timedelta(days=1)
    with (root / "data" / "records" / "payments.yaml").open("a", encoding="utf-8") as out:
        out.write(
            f"- {{id: bank-part-026, invoice: HP-2026-026, date: {tomorrow}, amount: 100, "
            "currency: GBP, method: bank}\n"
        )
    books, _ = check_books(root)
    build_site(root, books, tomorrow, SECRET, public, cache, workers=1)
    assert pdf.read_bytes() != before
    assert "3,458.40" in pdf.read_text()  # £3,558.40 owed, less the £100 paid
    assert len({p.name for p in pdf.parent.glob("HP-2026-026*.pdf")} - receipts) == 1
    # And nothing else: built afresh elsewhere, the site is the same.
    build_site(root, books, tomorrow, SECRET, tmp_path / "afresh", tmp_path / "c2", workers=1)
    assert tree(public) == tree(tmp_path / "afresh")
