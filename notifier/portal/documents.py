"""Files beside each invoice page: its PDF, its receipts, a calendar of its due dates, and an EPC QR
code; and the cache that keeps them between builds."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path

from jinja2 import Environment, meta

from notifier import money
from notifier.account import Instalment, InvoiceState
from notifier.files import write_atomically
from notifier.portal import epc
from notifier.portal.last_build import add_files, code_digest
from notifier.printer import Printer, PrintJob, Request, print_document

QR_DAYS = 7  # a cached QR code unused this long is removed
DOCUMENT_SUFFIXES = ("pdf", "html", "ics")  # what the cache keeps for the latest build only
KEY = re.compile("[0-9a-f]{64}")  # a document's key (see `document_key`)
SWEPT = ".swept"  # in the cache: its modification time is that of the last look through it all
SWEEP_SECONDS = 86400


def documents_digest(root: Path) -> bytes:
    """What every document of `root`'s portal is made with: the code, the Python and the libraries
    that render and print (see `code_digest`), the theme (templates, translations, styles, fonts)
    and the content. Never the root's path: spelt another way, it is the same portal."""
    digest = hashlib.sha256(code_digest())
    add_files(digest, root, ("site", "content"))
    return digest.digest()


def printed_key(common: bytes, document: Request) -> str:
    """The cache key of a printed document: a digest of its template and of the data it shows
    (everything it prints is in that data, formatted), and `common` (see `documents_digest`)."""
    digest = hashlib.sha256(common)
    digest.update(f"{document.template}\0{document.day}\0".encode())
    digest.update(document.data.encode("utf-8"))
    return digest.hexdigest()


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
        source, filename, _ = environment.loader.get_source(environment, current)
        tree = environment.parse(source, current, filename)  # a syntax error names the file
        found |= meta.find_undeclared_variables(tree)
        for other in meta.find_referenced_templates(tree):
            if other is None:
                return None
            waiting.append(other)
    return found


def document_key(common: bytes, template: str, language: str, shown: Mapping[str, str]) -> str:
    """The cache key of a document made from `template` in `language` with variables whose
    digests are `shown` (see `notifier.portal.shown`), and `common` (see `documents_digest`). The
    same key, the same document, so one whose data did not change is neither rendered nor
    printed again."""
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


class Pending:
    """A document of the cache still being made elsewhere (a PDF the printing process prints):
    `wait()` gives its file in the cache, once it is there."""

    def __init__(self, cached: Path, job: PrintJob) -> None:
        self.cached, self.job = cached, job
        self._written = False

    @property
    def ready(self) -> bool:
        """Whether `wait()` will not wait."""
        return self._written or self.job.done

    def wait(self) -> Path:
        if not self._written:
            write_atomically(self.cached, self.job.result())
            self._written = True
        return self.cached

    def result(self) -> bytes:
        """The PDF, for a writer that puts it in the site first and gives it its name in the
        cache after (`SiteWriter.write_cached`): one file written, no temporary name."""
        return self.job.result()


def pdf_of(
    key: str, document: Request, cache: Path | None, printer: Printer | None = None
) -> Path | bytes | Pending:
    """The PDF of `key` (see `cached_document`), `document` printed if the cache has none. With a
    `printer` and a cache, the PDF is `Pending`: printed there while this process goes on."""
    if printer is None:
        return cached_document(key, ".pdf", lambda: print_document(document), cache)
    if cache is None:
        return printer.print(document)
    cached = cache / f"{key}.pdf"
    if cached.is_file():
        return cached
    return Pending(cached, printer.send(document))


def prune_cache(
    cache: Path, keep: set[str], unused: Iterable[str] | None = None, now: float | None = None
) -> int:
    """Keep the cache to what the latest build uses. Documents (PDFs, pages, calendars): those of
    `unused` (the keys the last build used and this one does not) are removed; once a day, or
    when `unused` is not known, the whole cache is looked through and every one not in `keep` is
    removed (what no build recorded: a stopped build's, an attachment's, another site's). QR codes
    are removed there too when no build has used them for QR_DAYS (a code's use is its file's
    modification time).

    Looking through the whole cache (tens of thousands of files) is what a build that changed one
    invoice would spend most on; removing only `unused` keeps the cache as small between sweeps."""
    now = time.time() if now is None else now
    stamp = cache / SWEPT
    if unused is not None and _modified_since(stamp, now - SWEEP_SECONDS):
        return _remove_documents(cache, (key for key in unused if key not in keep))
    if not cache.is_dir():
        return 0
    removed = 0
    oldest_code = now - QR_DAYS * 86400
    with os.scandir(cache) as entries:
        for entry in entries:
            stem, _, suffix = entry.name.rpartition(".")
            if (suffix in DOCUMENT_SUFFIXES and stem not in keep) or (
                suffix == "svg" and entry.stat().st_mtime < oldest_code
            ):
                removed += _unlinked(entry.path)
            elif suffix == "tmp" and entry.stat().st_mtime < now - SWEEP_SECONDS:
                _unlinked(entry.path)  # left by a build that was stopped while writing
    stamp.touch()
    os.utime(stamp, (now, now))
    return removed


def _modified_since(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime >= moment
    except OSError:
        return False


def _remove_documents(cache: Path, keys: Iterable[str]) -> int:
    """Remove the documents of `keys` (each a key as `document_key` makes them) from `cache`."""
    removed = 0
    base = str(cache)
    for key in keys:
        if KEY.fullmatch(key):  # the state it comes from is a file: never a path elsewhere
            for suffix in DOCUMENT_SUFFIXES:
                removed += _unlinked(f"{base}/{key}.{suffix}")
    return removed


def _unlinked(path: str) -> int:
    """1 if `path` was removed, 0 if it was not there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1


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
    """An iCalendar file (RFC 5545) with one all-day event per instalment of `schedule`. Stamped
    with the issue date so builds are reproducible; made from its arguments only.

    Written from a template rather than with icalendar's objects (a sixth of a cold build's
    calendars went on building and folding them): the few properties it writes are escaped and
    folded here as the RFC says, and the tests read the files back with icalendar."""
    stamp = f"{issued:%Y%m%d}T000000Z"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//notifier//invoice due dates//EN"]
    for instalment in schedule:
        amount = money.format_plain(instalment.amount, currency)
        text = summary.format(number=number, amount=amount, business=business)
        lines += [
            "BEGIN:VEVENT",
            f"SUMMARY:{_ical_text(text)}",
            f"DTSTART;VALUE=DATE:{instalment.due_date:%Y%m%d}",
            f"DTSTAMP:{stamp}",
            f"UID:{_ical_text(f'{number}-{instalment.number}@{host}')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(_folded(line.encode("utf-8")) + b"\r\n" for line in lines)


def _ical_text(text: str) -> str:
    """`text` as an iCalendar TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and line
    breaks escaped."""
    for character, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,")):
        text = text.replace(character, escaped)
    return "\\n".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _folded(line: bytes) -> bytes:
    """`line` folded as RFC 5545 asks (3.1): 74 octets of it a line, each further line started by
    a space; no UTF-8 character, nor an escape (`\\,`), split across two lines (as icalendar
    folds, for clients that would not join them)."""
    parts = []
    while len(line) > 74:
        cut = 74
        while line[cut] & 0xC0 == 0x80:  # inside a character: cut before it
            cut -= 1
        if line[cut - 1] == 0x5C and cut > 1:  # a backslash: its escape goes on the next line
            cut -= 1
        parts.append(line[:cut])
        line = line[cut:]
    parts.append(line)
    return b"\r\n ".join(parts)


def epc_qr_svg(
    state: InvoiceState,
    minor: int,
    name: str,
    iban: str,
    bic: str | None,
    title: str,
    cache: Path | None = None,
    reference: str | None = None,
) -> str | None:
    """An EPC QR code (SEPA credit transfer) for `minor` units, as inline SVG; None when the
    invoice is not in EUR or the amount is outside what the standard allows.

    Each code is kept in `cache` under the hash of what it encodes and how it is drawn (the code,
    zxing-cpp's version), and drawn again only when that changes."""
    amount = money.to_major(minor, state.currency)
    if state.currency != "EUR" or not epc.MIN_AMOUNT <= amount <= epc.MAX_AMOUNT:
        return None
    data = epc.payload(name[:70], iban, amount, reference or state.invoice.number, bic)
    drawn = _DRAWN.get((data, title))
    if drawn is not None:
        return drawn
    what = hashlib.sha256(data + b"\0" + title.encode() + _drawing_version())
    cached = cache / f"{what.hexdigest()}.svg" if cache else None
    if cached is not None and cached.is_file():
        os.utime(cached)  # used: see prune_cache
        svg = cached.read_text(encoding="utf-8")
    else:
        svg = epc.svg(*epc.modules(data), title)
        if cached is not None:
            write_atomically(cached, svg.encode("utf-8"))
    _DRAWN[data, title] = svg
    return svg


# The codes drawn in this build, by payload and title (see `new_build`): an invoice's page and its
# PDF often ask for the same code. (zxing-cpp's own SVG writer took 0.77 ms a code against
# 0.44 ms for `epc.svg`, and writes a prolog and a DOCTYPE an inline code cannot have.)
_DRAWN: dict[tuple[bytes, str], str] = {}


def new_build() -> None:
    """Forget the codes drawn by an earlier build in this process (its cache may be another)."""
    _DRAWN.clear()


@cache
def _drawing_version() -> bytes:
    """What draws a QR code: the notifier's code and zxing-cpp's version (read without importing
    it: a QR code's key holds it)."""
    return code_digest() + metadata.version("zxing-cpp").encode()
