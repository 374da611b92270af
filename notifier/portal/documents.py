"""Files beside each invoice page: its PDF, a calendar of its due dates, and an EPC QR code."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import icalendar
import segno
from segno import helpers as segno_helpers

from notifier import money
from notifier.files import write_atomically
from notifier.ledger.state import InvoiceState
from notifier.portal.printer import Printer, print_pdf

EPC_MAX = Decimal("999999999.99")
QR_DAYS = 7  # a cached QR code unused this long is removed


def pdf_key(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def pdf_from_html(
    html: str, base_url: str, cache: Path | None, printer: Printer | None = None
) -> bytes:
    """`html` printed to PDF with WeasyPrint (by `printer` when given). Printing is slow (about
    0.2 s a page), so a PDF is kept in `cache` under the hash of its HTML and reused until the HTML
    changes."""
    cached = cache / f"{pdf_key(html)}.pdf" if cache is not None else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    data = printer.print(html, base_url) if printer is not None else print_pdf(html, base_url)
    if cached is not None:
        write_atomically(cached, data)
    return data


def prune_cache(cache: Path, keep: set[str], now: float | None = None) -> int:
    """Remove cached PDFs other than `keep` (keys): what the latest build did not use; and QR codes
    no build has used for QR_DAYS (a code's use is its file's modification time)."""
    removed = 0
    for path in cache.glob("*.pdf") if cache.is_dir() else ():
        if path.stem not in keep:
            path.unlink()
            removed += 1
    oldest = (time.time() if now is None else now) - QR_DAYS * 86400
    for path in cache.glob("*.svg") if cache.is_dir() else ():
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def due_dates_calendar(state: InvoiceState, business: str, host: str, summary: str) -> bytes:
    """An iCalendar file with one all-day event per date the client must pay by (each instalment
    of the chosen plan, or the due date). Stamped with the issue date so builds are reproducible."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//notifier//invoice due dates//EN")
    calendar.add("version", "2.0")
    schedule = state.active_plan.instalments if state.active_plan else state.plans[0].instalments
    stamp = datetime(
        state.invoice.issue_date.year,
        state.invoice.issue_date.month,
        state.invoice.issue_date.day,
        tzinfo=UTC,
    )
    for instalment in schedule:
        event = icalendar.Event()
        event.add("uid", f"{state.invoice.number}-{instalment.number}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", instalment.due_date)
        amount = money.format_plain(instalment.amount, state.currency)
        event.add(
            "summary", summary.format(number=state.invoice.number, amount=amount, business=business)
        )
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
