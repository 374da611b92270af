"""Files beside each invoice page: its PDF, a calendar of its due dates, and an EPC QR code."""

from __future__ import annotations

import hashlib
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import icalendar
import segno
from jinja2 import Environment, meta
from segno import helpers as segno_helpers

from notifier import money
from notifier.files import write_atomically
from notifier.ledger.plans import Instalment
from notifier.ledger.state import InvoiceState
from notifier.portal.last_build import add_files, code_digest
from notifier.portal.printer import Printer, print_pdf

EPC_MAX = Decimal("999999999.99")
QR_DAYS = 7  # a cached QR code unused this long is removed
DOCUMENTS = {".pdf", ".html", ".ics"}  # what the cache keeps for the latest build only
# What turns a template's data into a PDF, beyond the notifier's code, the theme and the content.
PRINTING_LIBRARIES = ("jinja2", "markupsafe", "babel", "markdown", "nh3", "weasyprint")


def documents_digest(root: Path) -> bytes:
    """What every PDF of `root`'s portal is made with: the code, the theme (templates,
    translations, styles), the content, the Python and the libraries that render and print, and
    the folder WeasyPrint resolves relative addresses against (`pdf_base_url`)."""
    digest = hashlib.sha256(code_digest())
    digest.update(pdf_base_url(root).encode() + b"\0")
    add_files(digest, root, ("site", "content"))
    for name in PRINTING_LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}\0{version}\0".encode())
    digest.update(platform.python_version().encode())
    return digest.digest()


def pdf_base_url(root: Path) -> str:
    return str(root / "site" / "static")


def template_variables(environment: Environment, name: str) -> set[str] | None:
    """The variables `name` reads from its context, with the templates it extends, includes and
    imports; None when it names a template only known while rendering (it may read anything)."""
    found: set[str] = set()
    seen: set[str] = set()
    waiting = [name]
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        assert environment.loader is not None
        source, _, _ = environment.loader.get_source(environment, current)
        tree = environment.parse(source)
        found |= meta.find_undeclared_variables(tree)
        for other in meta.find_referenced_templates(tree):
            if other is None:
                return None
            waiting.append(other)
    return found


def document_key(common: bytes, template: str, language: str, shown: Mapping[str, str]) -> str:
    """The cache key of a document made from `template` in `language` with variables whose reprs
    are `shown` (for the books' frozen models and the ledger's dataclasses a repr spells out every
    field), and `common` (see `documents_digest`). The same key, the same document, so one whose
    data did not change is neither rendered nor printed again."""
    digest = hashlib.sha256(common)
    digest.update(f"{template}\0{language}\0".encode())
    for variable, value in sorted(shown.items()):
        digest.update(f"{variable}\0{value}\0".encode())
    return digest.hexdigest()


def cached_document(
    key: str, suffix: str, make: Callable[[], bytes], cache: Path | None
) -> Path | bytes:
    """The document of `key`: its file in `cache`, made there first (`make()`) if missing; without
    a cache, the bytes made. The site links the cache's file rather than copying it."""
    cached = cache / f"{key}{suffix}" if cache is not None else None
    if cached is not None and cached.is_file():
        return cached
    data = make()
    if cached is None:
        return data
    write_atomically(cached, data)
    return cached


def pdf_from_html(
    key: str,
    html: Callable[[], str],
    base_url: str,
    cache: Path | None,
    printer: Printer | None = None,
) -> Path | bytes:
    """The PDF of `key` (see `cached_document`), `html()` printed with WeasyPrint (by `printer`
    when given) if the cache has none. Printing is slow (about 0.2 s a page) and rendering the HTML
    not free, so both are done only when the cache has no PDF for `key`."""

    def printed() -> bytes:
        if printer is not None:
            return printer.print(html(), base_url)
        return print_pdf(html(), base_url)

    return cached_document(key, ".pdf", printed, cache)


def prune_cache(cache: Path, keep: set[str], now: float | None = None) -> int:
    """Remove cached documents (PDFs, pages, calendars) other than `keep` (keys): what the latest
    build did not use; and QR codes no build has used for QR_DAYS (a code's use is its file's
    modification time)."""
    removed = 0
    for path in cache.iterdir() if cache.is_dir() else ():
        if path.suffix in DOCUMENTS and path.stem not in keep:
            path.unlink()
            removed += 1
    oldest = (time.time() if now is None else now) - QR_DAYS * 86400
    for path in cache.glob("*.svg") if cache.is_dir() else ():
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def calendar_schedule(state: InvoiceState) -> tuple[Instalment, ...]:
    """The dates the client must pay by: each instalment of the chosen plan, or the due date."""
    return state.active_plan.instalments if state.active_plan else state.plans[0].instalments


def due_dates_calendar(
    number: str,
    issued: date,
    currency: str,
    schedule: Sequence[Instalment],
    business: str,
    host: str,
    summary: str,
) -> bytes:
    """An iCalendar file with one all-day event per instalment of `schedule`. Stamped with the
    issue date so builds are reproducible; made from its arguments only (they are its cache key)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//notifier//invoice due dates//EN")
    calendar.add("version", "2.0")
    stamp = datetime(issued.year, issued.month, issued.day, tzinfo=UTC)
    for instalment in schedule:
        event = icalendar.Event()
        event.add("uid", f"{number}-{instalment.number}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", instalment.due_date)
        amount = money.format_plain(instalment.amount, currency)
        event.add("summary", summary.format(number=number, amount=amount, business=business))
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def epc_qr_svg(
    state: InvoiceState,
    minor: int,
    name: str,
    iban: str,
    bic: str | None,
    title: str,
    cache: Path | None = None,
) -> str | None:
    """An EPC QR code (SEPA credit transfer) for `minor` units, as inline SVG; None when the
    invoice is not in EUR or the amount is outside what the standard allows.

    segno takes about 10 ms a code here (most of it choosing the most readable mask), so each code
    is kept in `cache` under the hash of what it encodes, and drawn again only when that changes."""
    amount = money.to_major(minor, state.currency)
    if state.currency != "EUR" or not Decimal("0.01") <= amount <= EPC_MAX:
        return None
    number = state.invoice.number
    what = "\0".join((name[:70], iban, str(amount), number, bic or "", title, segno.__version__))
    cached = cache / f"{hashlib.sha256(what.encode()).hexdigest()}.svg" if cache else None
    if cached is not None and cached.is_file():
        os.utime(cached)  # used: see prune_cache
        return cached.read_text(encoding="utf-8")
    code = segno_helpers.make_epc_qr(name=name[:70], iban=iban, amount=amount, text=number, bic=bic)
    svg: str = code.svg_inline(scale=4, title=title, svgclass="qr", lineclass=None, omitsize=False)
    if cached is not None:
        write_atomically(cached, svg.encode("utf-8"))
    return svg
