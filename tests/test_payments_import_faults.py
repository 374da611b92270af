"""`notifier reconcile` given what a careless user (or a cut download) gives it: a truncated
export, refunds larger than their payment, a payment seen again for another amount, a payment of
a draft invoice, and Balance history whose refunds name the payment they take money back from.
Each through the command line, on a copy of the example books."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.cli import cli
from notifier.ledger.state import Status, ledger
from notifier.payments import exports

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
WEEK1 = FIXTURES / "balance-history-week1.csv"
WEEK2 = FIXTURES / "balance-history-week2.csv"
TODAY = date(2026, 11, 23)
PAYMENTS_HEADER = next(
    csv.reader(io.StringIO((FIXTURES / "payments-default.csv").read_text(encoding="utf-8-sig")))
)
BALANCE_HEADER = next(csv.reader(io.StringIO(WEEK1.read_text(encoding="utf-8"))))
CUT_SHORT = "the file may have been cut short; export it again from Stripe"


def example_books(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "content", root / "content")
    return root


def run(root: Path, *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def loaded(root: Path) -> Books:
    books, problems = check_books(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    return books


def records(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "data/records").iterdir()}


def added_lines(root: Path, before: dict[str, bytes]) -> list[str]:
    """The lines of payments.yaml added since `before`."""
    now = (root / "data/records/payments.yaml").read_bytes()
    old = before["payments.yaml"]
    assert now.startswith(old)
    return now[len(old) :].decode("utf-8").splitlines()


def payments_export(path: Path, *rows: dict[str, str]) -> Path:
    """A Payments export in Stripe's default layout; each row's other columns as Stripe leaves
    them for a card payment."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PAYMENTS_HEADER)
    for values in rows:
        row = {
            "Created date (UTC)": "2026-11-20 10:15:02",
            "Amount Refunded": "0.00",
            "Currency": "gbp",
            "Captured": "true",
            "Statement Descriptor": "HARBOURPINE",
            "Status": "Paid",
            "Seller Message": "Payment complete.",
            "Taxes On Fee": "0.00",
            **values,
        }
        writer.writerow([row.get(name, "") for name in PAYMENTS_HEADER])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def balance_export(path: Path, *rows: dict[str, str]) -> Path:
    """A Balance history export, in Stripe's layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BALANCE_HEADER)
    for values in rows:
        row = {"Fee": "0.00", "Currency": "gbp", **values}
        row.setdefault("Net", row["Amount"])
        row.setdefault("Available On (UTC)", row["Created (UTC)"])
        writer.writerow([row.get(name, "") for name in BALANCE_HEADER])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def summary(out: str) -> str:
    return out.splitlines()[0].split(": ", 1)[1]


# A truncated export ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [None, 100], ids=["read whole", "read in small chunks"])
def test_an_export_cut_inside_a_quoted_value_imports_nothing(tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(exports, "CHUNK", chunk)
    root = example_books(tmp_path)
    before = records(root)
    text = (FIXTURES / "payments-default.csv").read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(text[: text.index(b'"Invoice HP-2026-029, instalment') + 20])

    code, out, err = run(root, "reconcile", cut)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{cut}:3:1: a quoted value runs on to the end of the file: {CUT_SHORT}",
        "1 problem in the exports; nothing was imported",
    ]
    assert records(root) == before  # not even the complete row before it


def test_a_row_with_more_or_fewer_fields_than_the_header_imports_nothing(tmp_path):
    root = example_books(tmp_path)
    before = records(root)
    lines = (FIXTURES / "payments-default.csv").read_text(encoding="utf-8-sig").splitlines()
    # A comma typed into a value that is not quoted, and a last row cut after its Status.
    lines[1] = lines[1].replace("Invoice HP-2026-033 from", "Invoice HP-2026-033, from")
    lines[-1] = lines[-1][: lines[-1].index(",Paid,") + 6]
    payments = tmp_path / "payments.csv"
    payments.write_text("\r\n".join(lines), encoding="utf-8")
    history = (FIXTURES / "balance-history.csv").read_text(encoding="utf-8")
    balance = tmp_path / "balance.csv"
    balance.write_text(history[: history.index(",Invoice HP-2026-033")], encoding="utf-8")

    code, out, err = run(root, "reconcile", payments, balance)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{payments}:2:26: the row has 26 fields, the header 25: {CUT_SHORT}",
        f"{payments}:10:17: the row has 16 fields, the header 25: {CUT_SHORT}",
        f"{balance}:2:12: the row has 11 fields, the header 17: {CUT_SHORT}",
        "3 problems in the exports; nothing was imported",
    ]
    assert records(root) == before


# A refund larger than its payment -----------------------------------------------------------------


def test_a_refund_larger_than_its_payment_waits_for_review_and_check_still_passes(tmp_path):
    root = example_books(tmp_path)
    first = payments_export(
        tmp_path / "first.csv",
        {"id": "ch_big", "Amount": "500.00", "Amount Refunded": "600.00", "Status": "Refunded",
         "Refunded date (UTC)": "2026-11-21 09:00:00", "invoice (metadata)": "HP-2026-027"},
        {"id": "ch_part", "Amount": "1000.00", "Amount Refunded": "300.00",
         "Refunded date (UTC)": "2026-11-21 09:00:00", "invoice (metadata)": "HP-2026-026"},
        {"id": "ch_small", "Amount": "200.00", "invoice (metadata)": "HP-2026-027"},
    )  # fmt: skip
    before = records(root)
    code, out, err = run(root, "reconcile", first)
    assert (code, err) == (0, "")
    assert out.splitlines()[:5] == [
        "3 rows read from first.csv: 2 applied, 1 waiting for review, 0 ignored, "
        "0 already recorded",
        "  applied: HP-2026-026 paid 1000.00 GBP on 2026-11-20 [ch_part]",
        "  applied: HP-2026-026 refunded 300.00 GBP on 2026-11-21 [ch_part/refunded-300.00]",
        "  applied: HP-2026-027 paid 200.00 GBP on 2026-11-20 [ch_small]",
        f"  review: {first}:2: ch_big 600.00 GBP: it would take back 600.00 GBP in all from "
        "payment ch_big, which brought in 500.00 GBP; check it in Stripe",
    ]
    assert [line.split(",")[0] for line in added_lines(root, before)] == [
        "- {id: ch_part",
        "- {id: ch_part/refunded-300.00",
        "- {id: ch_small",
    ]

    # Money back from Balance history: a chargeback on top of the refund, and a refund larger
    # than its payment.
    before = records(root)
    later = balance_export(
        tmp_path / "later.csv",
        {"id": "txn_cb", "Type": "adjustment", "Source": "ch_part", "Amount": "-800.00",
         "Created (UTC)": "2026-11-22 08:00", "Description": "Chargeback withdrawal for ch_part"},
        {"id": "txn_re", "Type": "refund", "Source": "ch_small", "Amount": "-250.00",
         "Created (UTC)": "2026-11-22 09:00", "Description": "REFUND FOR CHARGE"},
    )  # fmt: skip
    code, out, err = run(root, "reconcile", later)
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        "2 rows read from later.csv: 0 applied, 2 waiting for review, 0 ignored, "
        "0 already recorded",
        f"  review: {later}:2: ch_part/txn_cb 800.00 GBP: it would take back 1100.00 GBP in all "
        "from payment ch_part, which brought in 1000.00 GBP; check it in Stripe",
        f"  review: {later}:3: ch_small/txn_re 250.00 GBP: it would take back 250.00 GBP in all "
        "from payment ch_small, which brought in 200.00 GBP; check it in Stripe",
    ]
    assert added_lines(root, before) == []
    assert run(root, "check") == (
        0,
        "books OK: 7 clients, 18 invoices, 9 payments, 19 messages\n",
        "",
    )


# The same payment seen again for another amount; a payment of a draft invoice ---------------------


def test_a_payment_seen_again_for_another_amount_waits_for_review(tmp_path):
    root = example_books(tmp_path)
    assert run(root, "reconcile", FIXTURES / "demo-payments.csv")[0] == 0
    assert run(root, "reconcile", WEEK1)[0] == 0
    before = records(root)
    again = payments_export(
        tmp_path / "again.csv",
        {"id": "ch_3DEMO0tanaka022", "Amount": "1200000", "Currency": "jpy",
         "invoice (metadata)": "HP-2026-022"},
        {"id": "ch_3TEST0wk1b", "Amount": "3488.40", "invoice (metadata)": "HP-2026-026"},
    )  # fmt: skip
    history = balance_export(
        tmp_path / "history.csv",
        {"id": "txn_3TEST0wk1a", "Type": "charge", "Source": "ch_3TEST0wk1a", "Amount": "2800.00",
         "Created (UTC)": "2026-11-10 09:12", "Description": "Invoice HP-2026-027"},
    )  # fmt: skip

    code, out, err = run(root, "reconcile", again, history)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "3 rows read from again.csv, history.csv: 0 applied, 2 waiting for review, 0 ignored, "
        "1 already recorded",
        f"  review: {again}:2: ch_3DEMO0tanaka022 1200000 JPY: the books have payment "
        "ch_3DEMO0tanaka022 as 1250000 JPY, but this export says 1200000 JPY; check which is "
        "right in Stripe",
        f"  review: {history}:2: ch_3TEST0wk1a 2800.00 GBP: the books have payment ch_3TEST0wk1a "
        "as 2880.00 GBP, but this export says 2800.00 GBP; check which is right in Stripe",
    ]
    assert records(root)["payments.yaml"] == before["payments.yaml"]


def test_a_payment_of_a_draft_or_void_invoice_is_recorded_with_a_warning(tmp_path):
    root = example_books(tmp_path)
    export = payments_export(
        tmp_path / "odd.csv",
        {"id": "ch_draft", "Amount": "1440.00", "invoice (metadata)": "HP-2026-031"},
        {"id": "ch_void", "Amount": "3200.00", "Currency": "eur",
         "invoice (metadata)": "HP-2026-021"},
    )  # fmt: skip
    code, out, err = run(root, "reconcile", export)
    assert code == 0
    assert summary(out) == "2 applied, 0 waiting for review, 0 ignored, 0 already recorded"
    assert err.splitlines() == [
        f"{export}:2: warning: ch_draft: invoice HP-2026-031 is a draft; issue it, or refund "
        "this payment",
        f"{export}:3: warning: ch_void: invoice HP-2026-021 is void; refund this payment",
    ]
    code, _, err = run(root, "check")
    assert code == 0
    assert err.splitlines() == [
        "data/records/payments.yaml:9: warning: invoice: invoice HP-2026-031 is a draft; issue "
        "it, or refund this payment",
        "data/records/payments.yaml:10: warning: invoice: invoice HP-2026-021 is void; refund "
        "this payment",
    ]


# Balance history: refunds name the payment they take money back from ------------------------------

WEEK1_ADDED = [
    "- {id: py_3TEST0wk1c, invoice: HP-2026-033, date: 2026-11-12, amount: 1293.60, "
    "currency: GBP, kind: payment, method: stripe}",
    "- {id: ch_3TEST0wk1b, invoice: HP-2026-026, date: 2026-11-11, amount: 3488.40, "
    "currency: GBP, kind: payment, method: stripe}",
    "- {id: ch_3TEST0wk1a, invoice: HP-2026-027, date: 2026-11-10, amount: 2880.00, "
    "currency: GBP, kind: payment, method: stripe}",
]
WEEK2_ADDED = [
    "- {id: py_3TEST0wk1c/txn_3TEST0wk2c, invoice: HP-2026-033, date: 2026-11-20, "
    "amount: 1293.60, currency: GBP, kind: refund, method: stripe}",
    "- {id: ch_3TEST0wk1b/txn_3TEST0wk2b, invoice: HP-2026-026, date: 2026-11-19, "
    "amount: 3488.40, currency: GBP, kind: chargeback, method: stripe, note: dispute}",
    "- {id: ch_3TEST0wk1a/txn_3TEST0wk2a, invoice: HP-2026-027, date: 2026-11-18, "
    "amount: 480.00, currency: GBP, kind: refund, method: stripe}",
]


def test_a_refund_in_the_next_weeks_balance_history_takes_the_money_back_once(tmp_path):
    root = example_books(tmp_path)
    before = records(root)
    code, out, err = run(root, "reconcile", WEEK1)
    assert (code, err) == (0, "")
    assert summary(out) == "3 applied, 0 waiting for review, 1 ignored, 0 already recorded"
    assert added_lines(root, before) == WEEK1_ADDED
    states = ledger(loaded(root), TODAY)
    assert [states[n].status for n in ("HP-2026-026", "HP-2026-027", "HP-2026-033")] == [
        Status.PAID
    ] * 3

    # The next week's export: each refund's Source is the payment it takes money back from.
    code, out, err = run(root, "reconcile", WEEK2)
    assert (code, err) == (0, "")
    assert out.splitlines()[:5] == [
        "4 rows read from balance-history-week2.csv: 3 applied, 0 waiting for review, 1 ignored, "
        "0 already recorded",
        "  applied: HP-2026-033 refunded 1293.60 GBP on 2026-11-20 [py_3TEST0wk1c/txn_3TEST0wk2c]",
        "  applied: HP-2026-026 taken back (dispute) 3488.40 GBP on 2026-11-19 "
        "[ch_3TEST0wk1b/txn_3TEST0wk2b]",
        "  applied: HP-2026-027 refunded 480.00 GBP on 2026-11-18 [ch_3TEST0wk1a/txn_3TEST0wk2a]",
        "  ignored: 1 × Balance history `payout` entries (not a client's payment)",
    ]
    assert added_lines(root, before) == WEEK1_ADDED + WEEK2_ADDED
    states = ledger(loaded(root), TODAY)
    assert (states["HP-2026-027"].status, states["HP-2026-027"].paid) == (Status.OVERDUE, 240000)
    assert states["HP-2026-026"].status is Status.OVERDUE
    assert (states["HP-2026-033"].status, states["HP-2026-033"].paid) == (Status.OPEN, 0)

    # Both again, in either order: nothing is recorded twice.
    written = records(root)["payments.yaml"]
    for files in ((WEEK1, WEEK2), (WEEK2, WEEK1)):
        code, out, _ = run(root, "reconcile", *files)
        assert code == 0
        assert summary(out) == "0 applied, 0 waiting for review, 2 ignored, 6 already recorded"
        assert records(root)["payments.yaml"] == written
    assert run(root, "check")[0] == 0


def test_a_refund_imported_before_its_payment_names_it_and_waits_until_it_comes(tmp_path):
    root = example_books(tmp_path)
    before = records(root)
    code, out, err = run(root, "reconcile", WEEK2)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "4 rows read from balance-history-week2.csv: 0 applied, 3 waiting for review, 1 ignored, "
        "0 already recorded",
        *[
            f"  review: {WEEK2}:{line}: {payment}/{entry} {amount} GBP: this `{kind}` takes money "
            f"back from `{payment}`, which is not a payment in the books: import the export that "
            "has that payment, then this one again"
            for line, kind, payment, entry, amount in [
                (3, "payment_refund", "py_3TEST0wk1c", "txn_3TEST0wk2c", "1293.60"),
                (4, "adjustment", "ch_3TEST0wk1b", "txn_3TEST0wk2b", "3488.40"),
                (5, "refund", "ch_3TEST0wk1a", "txn_3TEST0wk2a", "480.00"),
            ]
        ],
        "  ignored: 1 × Balance history `payout` entries (not a client's payment)",
    ]
    assert added_lines(root, before) == []

    # Both in one import, the refunds' export first: each payment, then each refund.
    code, out, _ = run(root, "reconcile", WEEK2, WEEK1)
    assert code == 0
    assert summary(out) == "6 applied, 0 waiting for review, 2 ignored, 0 already recorded"
    assert added_lines(root, before) == WEEK1_ADDED + WEEK2_ADDED


def test_a_refund_in_both_exports_is_recorded_once(tmp_path):
    """The Payments export states each payment's refunds in all; Balance history each refund."""
    refunded = {"id": "ch_3TEST0wk1a", "Created date (UTC)": "2026-11-10 09:12:40",
                "Amount": "2880.00", "Amount Refunded": "480.00",
                "Refunded date (UTC)": "2026-11-18 16:05:00",
                "Description": "Invoice HP-2026-027 from Harbour & Pine Studio"}  # fmt: skip

    # Balance history first: the Payments export adds nothing more.
    root = example_books(tmp_path / "one")
    assert run(root, "reconcile", WEEK1, WEEK2)[0] == 0
    written = records(root)["payments.yaml"]
    export = payments_export(tmp_path / "payments.csv", refunded)
    code, out, _ = run(root, "reconcile", export)
    assert (code, summary(out)) == (
        0,
        "0 applied, 0 waiting for review, 0 ignored, 1 already recorded",
    )
    assert records(root)["payments.yaml"] == written

    # The Payments export first: the refund of Balance history may be part of what it stated.
    root = example_books(tmp_path / "two")
    assert run(root, "reconcile", export)[0] == 0
    before = records(root)
    code, out, _ = run(root, "reconcile", WEEK1, WEEK2)
    assert code == 0
    assert summary(out) == "4 applied, 1 waiting for review, 2 ignored, 1 already recorded"
    assert [line for line in out.splitlines() if "review:" in line] == [
        f"  review: {WEEK2}:5: ch_3TEST0wk1a/txn_3TEST0wk2a 480.00 GBP: payment ch_3TEST0wk1a "
        "has 480.00 GBP refunded in the books already, as a Payments export stated; if this "
        "`refund` is not part of that, record it by hand under the id shown"
    ]
    assert [line.split(",")[0] for line in added_lines(root, before)] == [
        "- {id: py_3TEST0wk1c",
        "- {id: ch_3TEST0wk1b",
        "- {id: py_3TEST0wk1c/txn_3TEST0wk2c",
        "- {id: ch_3TEST0wk1b/txn_3TEST0wk2b",
    ]
