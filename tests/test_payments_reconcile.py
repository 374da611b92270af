"""`notifier reconcile`: Stripe exports into the example books, once, nothing guessed."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.books.schema import Payment
from notifier.cli import cli
from notifier.ledger.state import Status, ledger
from notifier.payments.apply import reconcile
from notifier.payments.exports import read_export

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 23)


def example_books(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "content", root / "content")
    return root


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def loaded(root: Path) -> Books:
    books, problems = check_books(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    return books


def test_a_payments_export_brings_an_overdue_example_invoice_to_paid_once(tmp_path):
    root = example_books(tmp_path)
    export = str(FIXTURES / "demo-payments.csv")
    assert ledger(loaded(root), TODAY)["HP-2026-022"].status is Status.OVERDUE

    code, out, err = run(root, "reconcile", export)
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        "1 row read from demo-payments.csv: 1 applied, 0 waiting for review, 0 ignored, "
        "0 already recorded",
        "  applied: HP-2026-022 paid 1250000 JPY on 2026-11-20 [ch_3DEMO0tanaka022]",
    ]
    assert "  HP-2026-022: overdue → paid" in out.splitlines()
    assert ledger(loaded(root), TODAY)["HP-2026-022"].status is Status.PAID
    payments = (root / "data/records/payments.yaml").read_bytes()
    assert payments.endswith(
        b"- {id: ch_3DEMO0tanaka022, invoice: HP-2026-022, date: 2026-11-20, amount: 1250000, "
        b"currency: JPY, kind: payment, method: stripe}\n"
    )

    code, out, _ = run(root, "reconcile", export)
    assert code == 0
    assert out == (
        "1 row read from demo-payments.csv: 0 applied, 0 waiting for review, 0 ignored, "
        "1 already recorded\n"
    )
    assert (root / "data/records/payments.yaml").read_bytes() == payments
    imports = loaded(root).imports
    assert [(i.source, i.newest, i.rows, i.applied) for i in imports[-2:]] == [
        ("demo-payments.csv", date(2026, 11, 20), 1, 1),
        ("demo-payments.csv", date(2026, 11, 20), 1, 0),
    ]


def test_every_export_together_applies_matches_and_lists_the_rest(tmp_path):
    root = example_books(tmp_path)
    names = [
        "payments-default.csv",
        "payments-all-columns.csv",
        "payments-older.csv",
        "balance-history.csv",
    ]
    code, out, err = run(root, "reconcile", *(str(FIXTURES / name) for name in names))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "19 rows read from payments-default.csv, payments-all-columns.csv, payments-older.csv, "
        "balance-history.csv: 11 applied, 2 waiting for review, 5 ignored, 1 already recorded"
    )
    added = loaded(root).payments[-14:]
    assert [(p.id, p.invoice, p.kind, str(p.amount), p.plan, p.instalment) for p in added] == [
        ("ch_3TEST0default01", "HP-2026-033", "payment", "1320.00", None, None),
        ("ch_3TEST0default02", "HP-2026-029", "payment", "3000.00", "three-monthly", 2),
        ("ch_3TEST0default05", "HP-2026-022", "payment", "1250000", None, None),
        ("ch_3TEST0default06", "HP-2026-026", "payment", "500.00", None, None),
        ("ch_3TEST0default06/refunded-500.00", "HP-2026-026", "refund", "500.00", None, None),
        ("ch_3TEST0default07", "HP-2026-026", "payment", "1000.00", None, None),
        ("ch_3TEST0default07/refunded-250.00", "HP-2026-026", "refund", "250.00", None, None),
        ("ch_3TEST0all01", "HP-2026-028", "payment", "4250.00", None, None),
        ("ch_3TEST0all02", "HP-2026-030", "payment", "3650.00", None, None),
        ("ch_3TEST0all03", "HP-2026-025", "payment", "1680.00", None, None),
        ("ch_3TEST0all03/dispute", "HP-2026-025", "chargeback", "1680.00", None, None),
        ("ch_3TEST0old01", "HP-2026-024", "payment", "6800.00", None, None),
        ("ch_3TEST0bal02", "HP-2026-032", "payment", "1900.00", None, None),
        # Balance history's refund, by its own id, of the payment its Source names.
        ("ch_3TEST0default01/txn_3TEST0bal03", "HP-2026-033", "refund", "250.00", None, None),
    ]
    review = [line for line in lines if line.startswith("  review:")]
    assert [line.split(": ", 2)[2] for line in review] == [
        "ch_3TEST0default08 99.00 GBP: nothing names an invoice (no metadata, known Payment Link, "
        "Client Reference ID or invoice number in the description)",
        "ch_3TEST0all04 120.00 GBP: its metadata names invoice `HP-2026-099`, which the books do not have",
    ]
    assert [line for line in lines if line.startswith("  ignored:")] == [
        "  ignored: 1 × Balance history `payout` entries (not a client's payment)",
        "  ignored: 1 × Balance history `stripe_fee` entries (not a client's payment)",
        "  ignored: 1 × Failed (no money moved)",
        "  ignored: 1 × Pending (a bank debit still settling; imported once Stripe says Paid)",
        "  ignored: 1 × rows with no id (attempts that never became a payment)",
    ]
    states = ledger(loaded(root), TODAY)
    assert states["HP-2026-025"].status is Status.PROMISED  # the dispute took the money back
    assert states["HP-2026-029"].next_instalment is not None
    assert states["HP-2026-029"].next_instalment.number == 3

    before = (root / "data/records/payments.yaml").read_bytes()
    code, out, _ = run(root, "reconcile", *(str(FIXTURES / name) for name in names))
    assert code == 0
    assert out.splitlines()[0].endswith(
        ": 0 applied, 2 waiting for review, 5 ignored, 12 already recorded"
    )
    assert (root / "data/records/payments.yaml").read_bytes() == before


def test_a_malformed_export_imports_nothing_and_lists_every_problem(tmp_path):
    root = example_books(tmp_path)
    before = {p: p.read_bytes() for p in (root / "data/records").iterdir()}
    export = FIXTURES / "malformed-amount.csv"
    code, out, err = run(root, "reconcile", str(export))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{export}:3:3: Amount: `1.320,00` is not an amount (major units with a `.` decimal point, as 1250.00)",
        f"{export}:4:3: Amount: 1250000.5 is finer than JPY allows (no decimal places)",
        "2 problems in the exports; nothing was imported",
    ]
    assert {p: p.read_bytes() for p in (root / "data/records").iterdir()} == before


def test_reconcile_usage_errors_exit_2(tmp_path, monkeypatch):
    root = example_books(tmp_path)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    assert run(root, "reconcile")[0] == 2
    assert (
        run(root, "reconcile", "--since", "2026-11-01", str(FIXTURES / "demo-payments.csv"))[0] == 2
    )
    assert run(root, "reconcile", str(tmp_path / "missing.csv"))[0] == 2
    code, _, err = run(root, "reconcile", "--from-stripe")
    assert (code, err) == (2, "notifier: set STRIPE_API_KEY to reach Stripe\n")


def test_a_payment_for_another_plan_than_the_chosen_one_waits_for_review(tmp_path):
    root = example_books(tmp_path)
    export = tmp_path / "other-plan.csv"
    export.write_text(
        "id,Created date (UTC),Amount,Currency,Status,invoice (metadata),instalment (metadata)\n"
        "ch_1,2026-11-21 10:00:00,1500.00,eur,Paid,HP-2026-029,six-monthly#2\n"
        "ch_2,2026-11-21 10:00:00,1500.00,usd,Paid,HP-2026-029,\n"
        "ch_3,2026-11-21 10:00:00,1500.00,eur,Paid,HP-2026-029,weekly#1\n"
        "ch_4,2026-11-21 10:00:00,1500.00,eur,Paid,HP-2026-029,three-monthly#4\n",
        encoding="utf-8",
    )
    code, out, _ = run(root, "reconcile", str(export))
    assert code == 0
    assert [line.split(": ", 2)[2] for line in out.splitlines() if "review:" in line] == [
        "ch_1 1500.00 EUR: it pays plan `six-monthly`, but invoice HP-2026-029 is already on plan `three-monthly`",
        "ch_2 1500.00 USD: paid in USD, but invoice HP-2026-029 is in EUR",
        "ch_3 1500.00 EUR: its metadata names plan `weekly`, which invoice HP-2026-029 does not offer",
        "ch_4 1500.00 EUR: plan `three-monthly` has 3 instalments, not 4",
    ]


# Any order of overlapping exports ----------------------------------------------------------------

CHARGES = [
    # id, invoice named in the description, amount, states it may be seen in: (status, refunded)
    ("ch_a", "HP-2026-026", "1000.00", [("Pending", "0"), ("Paid", "0"), ("Paid", "100.00")]),
    ("ch_b", "HP-2026-026", "500.00", [("Paid", "0"), ("Refunded", "500.00")]),
    ("ch_c", "HP-2026-033", "1320.00", [("Paid", "0")]),
    ("ch_d", "HP-2026-027", "960.00", [("Failed", "0")]),
    ("ch_e", "", "75.00", [("Paid", "0")]),
]
HEADER = (
    "id,Created date (UTC),Amount,Amount Refunded,Currency,Description,Refunded date (UTC),Status\n"
)


def _export_rows(picks: list[tuple[int, int]]) -> list[str]:
    """Each pick (charge, state) as a CSV line; a later state only ever has more refunded."""
    lines = []
    for charge, state in picks:
        ident, invoice, amount, states = CHARGES[charge]
        status, refunded = states[min(state, len(states) - 1)]
        lines.append(
            f"{ident},2026-11-20 10:00:00,{amount},{refunded},gbp,Invoice {invoice},"
            f"{'2026-11-21 09:00:00' if refunded != '0' else ''},{status}\n"
        )
    return lines


def _net(payments: list[Payment]) -> dict[tuple[str, str, str], Decimal]:
    """What the books say per charge and kind, however the refunds were split between imports."""
    found: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for payment in payments:
        found[(payment.id.split("/")[0], payment.invoice, payment.kind)] += payment.amount
    return dict(found)


def _import(books: Books, lines: list[str], tmp: Path, name: str) -> list[Payment]:
    export = tmp / name
    export.write_text(HEADER + "".join(lines), encoding="utf-8")
    outcome = reconcile(books, read_export(export, name, LONDON), name, TODAY)
    assert outcome.problems == []
    books.payments.extend(outcome.applied)
    return outcome.applied


exports_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, len(CHARGES) - 1), st.integers(0, 2)), max_size=6),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(exports=exports_strategy, order=st.randoms(use_true_random=False))
def test_overlapping_imports_in_any_order_equal_one_import_of_their_union(tmp_path, exports, order):
    base, _ = check_books(REPO)
    started = len(base.payments)
    one_by_one = Books(**{**base.__dict__, "payments": list(base.payments)})
    shuffled = list(exports)
    order.shuffle(shuffled)
    for index, picks in enumerate(shuffled):
        _import(one_by_one, _export_rows(picks), tmp_path, f"part-{index}.csv")
        # Importing the same export again changes nothing.
        assert _import(one_by_one, _export_rows(picks), tmp_path, f"part-{index}.csv") == []
    union = Books(**{**base.__dict__, "payments": list(base.payments)})
    _import(union, [line for picks in exports for line in _export_rows(picks)], tmp_path, "all.csv")
    assert _net(one_by_one.payments[started:]) == _net(union.payments[started:])
    assert {p.id for p in one_by_one.payments if "/" not in p.id} == {
        p.id for p in union.payments if "/" not in p.id
    }
    assert ledger(one_by_one, TODAY) == ledger(union, TODAY)


def test_check_reports_a_recorded_link_for_an_unknown_invoice_or_in_another_currency(tmp_path):
    root = example_books(tmp_path)
    with (root / "data/records/payment-links.yaml").open("a", encoding="utf-8") as records:
        records.write(
            "- {invoice: HP-2026-098, target: full, id: plink_x, url: 'https://buy.stripe.com/x', "
            "amount: 10.00, currency: GBP, at: '2026-11-20T09:00:00Z'}\n"
            "- {invoice: HP-2026-033, target: full, id: plink_y, url: 'https://buy.stripe.com/y', "
            "amount: 10.00, currency: EUR, at: '2026-11-20T09:00:00Z'}\n"
            "- {target: 'statement:brightwatr:GBP', id: plink_z, url: 'https://buy.stripe.com/z', "
            "amount: 10.00, currency: GBP, at: '2026-11-20T09:00:00Z'}\n"
            "- {target: 'statement:brightwater:EUR', id: plink_v, url: 'https://buy.stripe.com/v', "
            "amount: 10.00, currency: GBP, at: '2026-11-20T09:00:00Z'}\n"
            "- {target: full, id: plink_w, url: 'https://buy.stripe.com/w', "
            "amount: 10.00, currency: GBP, at: '2026-11-20T09:00:00Z'}\n"
        )
    code, _, err = run(root, "check")
    assert code == 1
    assert err.splitlines() == [
        "data/records/payment-links.yaml:22: invoice: unknown invoice `HP-2026-098`; did you mean `HP-2026-029`?",
        "data/records/payment-links.yaml:23: currency: invoice HP-2026-033 is in GBP, not EUR",
        "data/records/payment-links.yaml:24: target: unknown client `brightwatr`; did you mean `brightwater`?",
        "data/records/payment-links.yaml:25: the target is for EUR, but `currency` is GBP",
        "data/records/payment-links.yaml:26: give the `invoice` the link pays (only a `statement:` target has none)",
        "5 problems in the books",
    ]
