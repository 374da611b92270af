"""Build the portal: every client's private pages, from the books as of a date, into one folder.

What keeps a build fast at 10,000 invoices (issue 7), by structure rather than by luck:
- One theme (template environment, translations) per build, made before any worker starts.
- The clients to render are split into shares, rendered by forked workers, one per core; each worker
  works out the ledger of its own clients' invoices only, renders their files and writes them.
- A client whose pages depend on exactly what they did at the last build (the same records, theme,
  content, date, secret and code: the client's key) is not rendered again; its files are kept.
- A build whose inputs are all as they were (`unchanged`) does not even load the books.
- The writer replaces only files whose bytes changed, so a build that changes nothing writes nothing.

The output depends only on the books, the theme, the content, the secret and the as-of date: no
clock, no network, and not on how many workers there were."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from notifier import formatting, speed
from notifier.account import account_of, history
from notifier.addresses import Secret, dashboard_page, dashboard_token
from notifier.books import schema
from notifier.books.load import Books
from notifier.brand import brand_of
from notifier.portal.build import HEADERS, ROBOTS, Portal, Theme
from notifier.portal.documents import Pending, prune_cache
from notifier.portal.last_build import (
    BuildResult,
    Present,
    add_files,
    code_digest,
    forget_state,
    read_shares,
    read_state,
    write_shares,
    write_state,
)
from notifier.portal.views import ClientView, InvoiceView, client_views
from notifier.portal.writer import SiteWriter
from notifier.printer import Printer
from notifier.report.receivables import ClientShare, assemble, client_shares

# Below this many invoices to render, forking workers costs more than it saves.
PARALLEL_FROM = 400

Progress = Callable[[int, int], None]


@dataclass
class _Rendered:
    """What rendering some clients gave: per client, its files and the keys of the cached
    documents (pages, PDFs, calendars) it used."""

    files: dict[str, list[str]] = field(default_factory=dict)
    documents: dict[str, list[str]] = field(default_factory=dict)
    page_keys: dict[str, str] = field(default_factory=dict)  # of pages and PDFs: see `_pages_of`
    shares: dict[str, ClientShare] = field(default_factory=dict)  # of the dashboard
    changed: list[str] = field(default_factory=list)
    # PDFs still printing (see `Pending`): in the process that has the printer only.
    pending: list[tuple[str, Pending]] = field(default_factory=list)
    pages: int = 0
    views: int = 0


# The data a forked worker inherits; set by `build_site` just before the workers start.
_JOB: dict[str, Any] = {}


def build_site(
    root: Path,
    books: Books,
    as_of: date,
    secret: Secret,
    out: Path,
    cache: Path | None,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    inputs: str | None = None,
    printer: Printer | None = None,
) -> BuildResult:
    """Render every client's pages into `out`; write only what changed; remove what went away.
    `progress(done, total)` is told as clients are done; `inputs` (see `inputs_digest`) is kept so
    that the next build can tell nothing changed; PDFs rendered here (not in workers) are printed by
    `printer` when given."""
    assert books.settings is not None
    theme = Theme(root, cache)
    portal = Portal(root, books, theme, as_of, secret.demo, cache, printer)
    writer = SiteWriter(out)
    for relative, data in theme.static_files():
        writer.write(relative, data)
    business = books.settings.business
    for relative, data in brand_of(root / "site", business.logo, business.accent).files():
        writer.write(relative, data)
    writer.write("robots.txt", ROBOTS)
    writer.write("_headers", HEADERS)
    language = formatting.language(books.settings.business.locale)
    index = theme.render(
        "index.html",
        language,
        lang=language,
        business=books.settings.business,
        root="",
        demo=secret.demo,
        pdf=False,
        css="",
    )
    writer.write("index.html", index.encode())

    invoices = _invoices_by_client(books)
    common = _common_key(root, books, as_of, secret)
    related = _related(books)
    keys = {
        client: _client_key(common, books, client, found, related)
        for client, found in invoices.items()
    }
    state = read_state(out)
    forget_state(out)  # until this build is done: what it writes straight may be cut short
    before = state.get("clients", {})
    last_pages = _pages_of(state)
    todo: list[str] = []
    kept = _Rendered()
    present = Present(out)
    for client, key in keys.items():
        last = before.get(client)
        if last is not None and last[0] == key and all(map(present, last[1])):
            kept.files[client], kept.documents[client] = last[1], last[2]
            for relative in last[1]:
                writer.keep(relative)
                if relative in last_pages:
                    kept.page_keys[relative] = last_pages[relative]
        else:
            todo.append(client)
    # A page is kept as the site has it when its key is the last build's: the site has it whole.
    shown = {relative: k for relative, k in last_pages.items() if present(relative)}

    # The records each client's ledger reads, gathered once for every share of the work.
    known = history(books, as_of) if todo else None
    _JOB.update(portal=portal, secret=secret, out=out, invoices=invoices, known=known, pages=shown)
    try:
        rendered = _render_all(todo, invoices, workers, progress)
    finally:
        _JOB.clear()
    # The dashboard adds up every client's share: those the workers worked out, and the others'.
    share_keys = _share_keys(books, keys)
    last = read_shares(out)
    shares, to_keep = _shares_of(books, as_of, invoices, share_keys, rendered.shares, last)
    dashboard = dashboard_page(dashboard_token(secret)) + "index.html"
    own = SiteWriter(out)
    own.write(dashboard, portal.dashboard(assemble(as_of, list(books.clients), shares)).encode())
    for relative, pdf in rendered.pending:  # printed meanwhile
        own.write_cached(relative, pdf.result(), pdf.cached)
    writer.changed.extend(sorted([*rendered.changed, *own.changed]))
    for files in [*rendered.files.values(), [dashboard]]:
        for relative in files:
            writer.keep(relative)
    writer.finish()

    every = {**kept.files, **rendered.files}
    documents = {**kept.documents, **rendered.documents}
    clients_with_pages = sum(1 for files in every.values() if files)
    pages = 2 + sum(1 for files in every.values() for f in files if f.endswith(".html"))
    write_state(
        out,
        {
            "inputs": inputs,
            "clients": {c: [keys[c], every[c], documents[c]] for c in keys if c in every},
            "page_keys": dict(sorted({**kept.page_keys, **rendered.page_keys}.items())),
            "clients_with_pages": clients_with_pages,
            "pages": pages,
        },
    )
    write_shares(out, to_keep)
    if cache is not None:
        # Keep only the documents this build's pages use: yesterday's are mostly out of date.
        used = {key for keys in documents.values() for key in keys}
        # What the last build used and this one does not (not known without a last build).
        unused = _documents_used(before) - used if before else None
        prune_cache(cache, used, unused)
    return BuildResult(
        clients=clients_with_pages,
        pages=pages,
        written=len(writer.written),
        changed=tuple(writer.changed),
        removed=tuple(writer.removed),
        demo=secret.demo,
        rendered=len(todo),
    )


def _render_all(
    todo: list[str],
    invoices: dict[str, list[schema.Invoice]],
    workers: int | None,
    progress: Progress | None,
) -> _Rendered:
    """Render the clients `todo`, in forked workers when it pays."""
    count = workers or speed.cores()
    size = sum(len(invoices[c]) for c in todo)
    tasks = _split(todo, invoices, count * 4)
    total = len(todo)
    done = 0
    result = _Rendered()

    def merge(part: _Rendered) -> None:
        nonlocal done
        result.files.update(part.files)
        result.documents.update(part.documents)
        result.page_keys.update(part.page_keys)
        result.shares.update(part.shares)
        result.changed.extend(part.changed)
        result.pending.extend(part.pending)
        done += part.views
        if progress is not None:
            progress(done, total)

    if count > 1 and size >= PARALLEL_FROM:
        portal: Portal = _JOB["portal"]
        if portal.printer is not None:
            portal.printer.close()  # each worker prints its own PDFs: it would only take a core
        for part in speed.in_workers(_render_task, tasks, count):
            merge(part)
    else:
        for task in tasks:
            merge(_render_task(task))
    result.changed.sort()
    return result


def _render_task(clients: list[str]) -> _Rendered:
    """One share of the work: the pages of `clients`, and their shares of the dashboard."""
    portal: Portal = _JOB["portal"]
    secret: Secret = _JOB["secret"]
    writer = SiteWriter(_JOB["out"])
    books, as_of = portal.books, portal.as_of
    part = _Rendered()
    with speed.kept_until_exit():  # read until the share is rendered
        account = account_of(books, as_of, clients, known=_JOB["known"])
    part.shares = client_shares(account)
    for client in clients:
        part.files[client], part.documents[client] = [], []
    for view in client_views(account, secret, portal.reading_locale):
        files, used = part.files[view.client.id], part.documents[view.client.id]
        for invoice in view.invoices:
            page = view.folder + invoice.page
            page_key, shown = portal.invoice_page(view, invoice, _JOB["pages"].get(page))
            part.page_keys[page] = page_key
            # The PDFs first: when one must be printed, the printer starts on it at once.
            pdfs = _as_last_built(portal, view, invoice) if shown is None else None
            if pdfs is None:
                pdfs = [(invoice.pdf, portal.invoice_pdf(view, invoice))]
                pdfs.extend(portal.kept_pdfs(view, invoice))
            documents: list[tuple[str, tuple[str | None, Path | bytes | Pending | None]]] = [
                pdfs[0],
                (invoice.page, (None, shown)),
            ]
            if invoice.state.status.is_open:
                documents.append((invoice.ics, (None, portal.calendar(view, invoice))))
            documents.extend(pdfs[1:])
            for name, (key, _) in pdfs:
                if key is not None:
                    part.page_keys[view.folder + name] = key
            for name, (key, document) in documents:
                files.append(view.folder + name)
                if document is None:  # as the site has it
                    writer.keep(files[-1])
                elif isinstance(document, Pending):
                    part.pending.append((files[-1], document))
                else:
                    writer.write(files[-1], document)
                if key is not None and not isinstance(document, bytes):
                    used.append(key)  # in the cache: kept there for this build
        files.append(view.folder + "index.html")
        page_key, index = portal.client_page(view, _JOB["pages"].get(files[-1]))
        part.page_keys[files[-1]] = page_key
        if index is None:  # as the site has it
            writer.keep(files[-1])
        else:
            writer.write(files[-1], index)
        part.views += 1
    # What is printed by now is written; the PDF still printing, when the caller needs it.
    waiting = [(relative, pdf) for relative, pdf in part.pending if not pdf.ready]
    for relative, pdf in part.pending:
        if pdf.ready:
            writer.write_cached(relative, pdf.result(), pdf.cached)
    part.pending = waiting
    part.changed = writer.changed
    return part


def _as_last_built(
    portal: Portal, view: ClientView, invoice: InvoiceView
) -> list[tuple[str, tuple[str | None, Path | bytes | Pending]]] | None:
    """The invoice's PDFs (its own, then its receipts and credit notes) as the last build made
    them, when its page shows what it showed then: a page's key holds everything its PDFs are made
    of (the invoice's account, the client, the language, the terms, the theme and the business),
    so their keys are the last build's, and their data need not be worked out again to find
    them. None if one of them is not in the cache."""
    last: dict[str, str] = _JOB["pages"]
    names = [invoice.pdf, *invoice.receipts.values(), *invoice.credit_note_files.values()]
    found: list[tuple[str, tuple[str | None, Path | bytes | Pending]]] = []
    for name in names:
        key = last.get(view.folder + name)
        cached = portal.cached_pdf(key)
        if cached is None:
            return None
        found.append((name, (key, cached)))
    return found


def _split(
    todo: list[str], invoices: dict[str, list[schema.Invoice]], count: int
) -> list[list[str]]:
    """`todo` in about `count` shares of about as many invoices each, in order."""
    total = sum(len(invoices[c]) for c in todo)
    size = max(1, -(-total // max(count, 1)))
    shares: list[list[str]] = [[]]
    weight = 0
    for client in todo:
        if weight >= size:
            shares.append([])
            weight = 0
        shares[-1].append(client)
        weight += len(invoices[client])
    return [share for share in shares if share]


def _invoices_by_client(books: Books) -> dict[str, list[schema.Invoice]]:
    found: dict[str, list[schema.Invoice]] = {client: [] for client in books.clients}
    for invoice in books.invoices.values():
        found.setdefault(invoice.client, []).append(invoice)
    return found


def _common_key(root: Path, books: Books, as_of: date, secret: Secret) -> bytes:
    """What every client's pages depend on: the business's settings, the theme and the content,
    the date, the secret (as a token derived from it) and the code."""
    assert books.settings is not None
    digest = hashlib.sha256(f"{as_of}\0{dashboard_token(secret)}\0{secret.demo}\0".encode())
    digest.update(books.digest(books.settings))
    digest.update(code_digest())
    add_files(digest, root, ("content", "site"))
    return digest.digest()


def _client_key(
    common: bytes,
    books: Books,
    client: str,
    invoices: Iterable[schema.Invoice],
    related: dict[str, list[bytes]],
) -> str:
    """What one client's pages depend on, beyond `common`: the client's record, its invoices, and
    the payments, messages and payment links that name them (`related`, by invoice)."""
    digest = books.digest
    record = books.clients.get(client)
    parts = [common] if record is None else [common, digest(record)]
    parts.extend(related.get(f"{schema.STATEMENT_TARGET}{client}", ()))
    for invoice in invoices:
        parts.append(digest(invoice))
        parts.extend(related.get(invoice.number, ()))
    return hashlib.sha256(b"".join(parts)).hexdigest()  # one call: 2,000 clients per build


def _related(books: Books) -> dict[str, list[bytes]]:
    """The digests of the payments, messages and payment links that name each invoice."""
    found: dict[str, list[bytes]] = defaultdict(list)
    for payment in books.payments:
        found[payment.invoice].append(books.digest(payment))
    for message in books.messages:
        for item in message.items:
            found[item].append(books.digest(message))
    for link in books.payment_links:
        # A statement's link (`statement:CLIENT:CUR`) names its client, not an invoice.
        found[link.invoice or link.target.rpartition(":")[0]].append(books.digest(link))
    return found


def _share_keys(books: Books, keys: dict[str, str]) -> dict[str, str]:
    """What each client's share of the dashboard depends on: what its pages do (its key), and the
    messages recorded under its name."""
    digests: dict[str, list[bytes]] = defaultdict(list)
    for message in books.messages:
        digests[message.client].append(books.digest(message))
    return {
        client: hashlib.sha256(key.encode() + b"".join(digests.get(client, ()))).hexdigest()
        for client, key in keys.items()
        if client in books.clients
    }


def _pages_of(state: dict[str, Any]) -> dict[str, str]:
    """The key of each page and PDF of the last build (see `Portal.invoice_page`, and
    `_as_last_built`)."""
    pages = state.get("page_keys")
    if not isinstance(pages, dict):
        return {}
    return {k: v for k, v in pages.items() if isinstance(k, str) and isinstance(v, str)}


def _documents_used(state: dict[str, Any]) -> set[str]:
    """The keys of the cached documents the clients of a build's `state` ("clients") used."""
    return {
        key
        for found in state.values()
        if isinstance(found, list) and len(found) == 3 and isinstance(found[2], list)
        for key in found[2]
        if isinstance(key, str)
    }


def _shares_of(
    books: Books,
    as_of: date,
    invoices: dict[str, list[schema.Invoice]],
    keys: dict[str, str],
    fresh: dict[str, ClientShare],
    last: dict[str, Any],
) -> tuple[dict[str, ClientShare], dict[str, Any]]:
    """Every client's share of the dashboard: worked out by this build's workers (`fresh`), kept
    from the last build (`last`) when its key is the same, else worked out here; and what to keep
    for the next build (a kept share as it was read: 2,000 shares are not written out again)."""
    shares: dict[str, ClientShare] = {}
    kept: dict[str, Any] = {}
    missing: list[str] = []
    for client, key in keys.items():
        found = last.get(client)
        if client in fresh:
            shares[client] = fresh[client]
        elif isinstance(found, list) and len(found) == 2 and found[0] == key:
            try:
                shares[client] = ClientShare.from_json(found[1])
            except (KeyError, TypeError, ValueError):  # not as this code writes it
                missing.append(client)
            else:
                kept[client] = found
        else:
            missing.append(client)
    if missing:
        shares.update(client_shares(account_of(books, as_of, missing)))
    return shares, {
        client: kept.get(client) or [key, shares[client].to_json()] for client, key in keys.items()
    }
