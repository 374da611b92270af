"""Credit notes, write-offs, the client's credit from an overpayment and the "not chased below"
threshold, through the real command line on a copy of the example books (as of 2026-11-23)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scratch import example_books

AS_OF = "2026-11-23"


def notifier(root: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), *args, "--as-of", AS_OF],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def status_of(root: Path, number: str) -> str:
    line = next(ln for ln in notifier(root, "status").splitlines() if ln.startswith(number))
    return re.sub(r"\s+", " ", line)


def add_to_invoice(root: Path, number: str, text: str) -> None:
    """`text` (YAML keys, two spaces in) written into invoice `number` of the example books."""
    path = root / "data" / "invoices" / "2026.yaml"
    books = path.read_text(encoding="utf-8")
    head = f"- number: {number}\n"
    assert head in books
    path.write_text(books.replace(head, head + text), encoding="utf-8")


def pay(root: Path, line: str) -> None:
    with (root / "data" / "records" / "payments.yaml").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return example_books(tmp_path)


def test_a_credit_note_lowers_what_is_asked_and_the_reminder_says_so(root):
    add_to_invoice(
        root,
        "HP-2026-030",
        "  credit_notes:\n"
        "    - {number: CN-2026-001, date: 2026-11-20, amount: 650.00, reason: Retouching}\n",
    )
    assert status_of(root, "HP-2026-030").startswith(
        "HP-2026-030 atelier-morel due 2026-11-26 3000.00 EUR courtesy (email) today"
    )
    assert "Prochaine échéance : 3\u202f000,00\xa0€" in notifier(root, "remind", "--dry-run")


def test_a_credit_note_for_the_whole_invoice_settles_it_and_stops_its_reminders(root):
    plan = notifier(root, "remind", "--dry-run")
    assert "atelier-morel  courtesy" in plan
    add_to_invoice(
        root,
        "HP-2026-030",
        "  credit_notes:\n"
        "    - number: CN-2026-001\n"
        "      date: 2026-11-20\n"
        "      lines: [{description: Print management, unit_price: 3650.00}]\n"
        "      reason: Job cancelled\n",
    )
    assert status_of(root, "HP-2026-030") == "HP-2026-030 atelier-morel settled 2026-11-26"
    assert "atelier-morel" not in notifier(root, "remind", "--dry-run")


def test_a_write_off_stops_the_reminders_and_the_report_shows_it(root):
    assert "northfield     call" in notifier(root, "remind", "--dry-run")
    add_to_invoice(
        root,
        "HP-2026-024",
        "  write_off: {date: 2026-11-20, amount: rest, reason: Client in administration}\n",
    )
    assert status_of(root, "HP-2026-024") == "HP-2026-024 northfield settled 2026-10-14"
    assert "HP-2026-024" not in notifier(root, "remind", "--dry-run")
    report = json.loads(notifier(root, "report", "--json"))
    usd = next(c for c in report["currencies"] if c["currency"] == "USD")
    assert usd["written_off"] == "6800.00"  # the invoice amount; its fees are no longer claimed
    northfield = next(c for c in report["clients"] if c["client"] == "northfield")
    assert northfield["written_off"] == ["HP-2026-024 6800.00 USD"]


def test_an_overpayment_is_credit_that_pays_the_next_invoices_first(root):
    # HP-2026-014 (6,480.00) paid 4,000.00 more: HP-2026-026 (3,488.40, the older) is paid from
    # its issue date, so with its early-payment discount of 69.77 and no fee or interest; the
    # 581.37 left goes to HP-2026-033 (1,320.00).
    pay(
        root,
        "- {id: bank-extra, invoice: HP-2026-014, date: 2026-07-01, amount: 4000.00, "
        "currency: GBP}",
    )
    assert status_of(root, "HP-2026-026") == "HP-2026-026 brightwater paid 2026-11-03"
    # 738.63 left; the early-payment discount (2% of 1,320.00) still on offer.
    assert status_of(root, "HP-2026-033").startswith(
        "HP-2026-033 brightwater open 2026-12-18 738.63 GBP 26.40 GBP off if paid by 2026-11-28"
    )
    assert "brightwater" not in notifier(root, "remind", "--dry-run")


def test_credit_no_invoice_needs_is_on_the_clients_page(root, tmp_path):
    pay(
        root,
        "- {id: bank-extra, invoice: HP-2026-014, date: 2026-07-01, amount: 5000.00, "
        "currency: GBP}",
    )
    add_to_invoice(
        root,
        "HP-2026-022",
        "  credit_notes:\n"
        "    - {number: CN-2026-002, date: 2026-11-01, amount: 250000, reason: Late delivery}\n",
    )
    assert status_of(root, "HP-2026-014") == (
        "HP-2026-014 brightwater paid 2026-07-01 287.77 GBP credit to use"
    )
    out = tmp_path / "public"
    notifier(root, "build", "--demo", "--out", str(out))
    pages = {p.parent.name + "/" + p.name: p.read_text() for p in out.rglob("*.html")}
    brightwater = next(t for t in pages.values() if "<h1>Brightwater" in t)
    # 5,000.00 - 3,418.63 (HP-2026-026) - 1,293.60 (HP-2026-033), both with their early-payment
    # discount (the credit was theirs from their issue dates) = 287.77
    assert "You have a credit of £287.77 with us" in brightwater
    invoice = next(t for t in pages.values() if "<h1>Invoice HP-2026-033</h1>" in t)
    assert "Your credit from invoice HP-2026-014" in invoice
    tanaka = next(t for t in pages.values() if "Credit note CN-2026-002 on HP-2026-022" in t)
    assert "−¥250,000" in tanaka or "-¥250,000" in tanaka


def test_a_remainder_under_the_threshold_is_shown_but_not_chased(root):
    pay(
        root,
        "- {id: bank-almost, invoice: HP-2026-030, date: 2026-11-22, amount: 3649.50, "
        "currency: EUR}",
    )
    assert "atelier-morel  courtesy" in notifier(root, "remind", "--dry-run")
    business = root / "data" / "business.yaml"
    text = business.read_text(encoding="utf-8")
    business.write_text(
        text.replace("terms:\n", "terms:\n  not_chased_below: {EUR: 1.00, GBP: 1.00}\n", 1),
        encoding="utf-8",
    )
    assert "atelier-morel  courtesy" not in notifier(root, "remind", "--dry-run")
    assert status_of(root, "HP-2026-030") == (
        "HP-2026-030 atelier-morel partially paid 2026-11-26 0.50 EUR "
        "not chased: below terms.not_chased_below"
    )
