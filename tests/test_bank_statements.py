"""Bank statements in `notifier reconcile`: CAMT.053/054, MT940, OFX 1.x and 2.x, a mapped CSV;
matched by RF reference or invoice number, each transaction once, bad files refused whole."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.ledger.state import Status, ledger
from tests.scratch import example_books

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
DEMO = "2026-11-23"
CSV_MAPPING = """
  bank_csv:
    columns: {date: Buchungstag, amount: Betrag, currency: Währung, counterparty: Auftraggeber,
              remittance: Verwendungszweck, id: Transaktions-ID}
    date_format: "%d.%m.%Y"
    decimal: ","
    delimiter: ";"
"""


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def payments(root: Path) -> list[dict[str, object]]:
    return yaml.safe_load((root / "data" / "records" / "payments.yaml").read_text()) or []


def imports(root: Path) -> list[dict[str, object]]:
    return yaml.safe_load((root / "data" / "records" / "imports.yaml").read_text()) or []


def statuses(root: Path, *numbers: str) -> list[str]:
    books, _ = check_books(root)
    states = ledger(books, __import__("datetime").date.fromisoformat(DEMO))
    return [states[n].status.value for n in numbers]


def with_csv_mapping(root: Path) -> None:
    path = root / "data" / "business.yaml"
    text = path.read_text()
    path.write_text(text + "\npayments:" + CSV_MAPPING)


def test_a_camt053_statement_pays_invoices_by_rf_reference_invoice_number_and_statement(tmp_path):
    root = example_books(tmp_path)
    code, out, err = run(root, "reconcile", str(FIXTURES / "camt053-demo.xml"))
    assert (code, err) == (0, "")
    source = str(FIXTURES / "camt053-demo.xml")
    assert out.splitlines() == [
        f"5 transactions read from {source}: 3 applied, 1 waiting for review, 1 ignored, "
        "0 already recorded",
        "  applied: HP-2026-030 paid 3650.00 EUR on 2026-11-23 [2026112300417829], by the "
        "reference RF77HP2026030",
        "  applied: HP-2026-028 paid 4290.00 EUR on 2026-11-23 [2026112300418204], by the "
        "invoice number",
        "  applied: HP-2026-032 paid 3800.00 EUR on 2026-11-23 [2026112300419377], by the "
        "statement reference RF91VANDERMEER",
        f"  review: {source}: /Document/BkToCstmrStmt/Stmt[1]/Ntry[4]: 2026112300420015 40.00 "
        "EUR: nothing in its remittance names an invoice (no RF reference or invoice number)",
        "  ignored: 1 × debits and reversals (money out)",
    ]
    assert statuses(root, "HP-2026-030", "HP-2026-028", "HP-2026-032") == ["paid"] * 3
    last = imports(root)[-1]
    assert (last["via"], last["applied"], last["review"]) == ("bank", 3, 1)
    added = [p for p in payments(root) if p["method"] == "bank" and str(p["id"]).startswith("2026")]
    assert [(p["id"], p["invoice"], p["reference"]) for p in added] == [
        ("2026112300417829", "HP-2026-030", "RF77HP2026030"),
        ("2026112300418204", "HP-2026-028", "HP-2026-028"),
        ("2026112300419377", "HP-2026-032", "RF91VANDERMEER"),
    ]


def test_the_same_or_an_overlapping_statement_again_changes_nothing(tmp_path):
    root = example_books(tmp_path)
    run(root, "reconcile", str(FIXTURES / "camt053-demo.xml"))
    before = payments(root)
    # The CAMT.054 notification of one of the same transfers, and the statement again.
    code, out, _ = run(
        root, "reconcile", str(FIXTURES / "camt054-v08.xml"), str(FIXTURES / "camt053-demo.xml")
    )
    assert code == 0
    assert payments(root) == before
    assert ": 0 applied, 1 waiting for review, 1 ignored, 4 already recorded" in out


def only_entry(tmp_path: Path, keep: int, reference: str) -> Path:
    """The demo CAMT.053 with only its entry `keep` (1-based), whose bank reference is `reference`."""
    text = (FIXTURES / "camt053-demo.xml").read_text()
    head, *entries = re.split(r"(?=      <Ntry>)", text)
    tail = entries[-1][entries[-1].index("</Ntry>") + len("</Ntry>\n") :]
    entries[-1] = entries[-1][: len(entries[-1]) - len(tail)]
    entry = re.sub(
        r"<AcctSvcrRef>\d+</AcctSvcrRef>",
        f"<AcctSvcrRef>{reference}</AcctSvcrRef>",
        entries[keep - 1],
    )
    path = tmp_path / f"entry-{keep}.xml"
    path.write_text(head + entry + tail)
    return path


def test_a_bank_reference_that_says_there_is_none_is_no_id(tmp_path):
    # Banks write NOTPROVIDED (or NONREF) where the schema wants a reference and they have none:
    # taken for an id, the second day's transfer would look already recorded and be lost.
    root = example_books(tmp_path)
    first, second = only_entry(tmp_path, 1, "NOTPROVIDED"), only_entry(tmp_path, 2, "NOTPROVIDED")
    assert run(root, "reconcile", str(first))[0] == 0
    code, out, _ = run(root, "reconcile", str(second))
    assert code == 0
    assert ": 1 applied, 0 waiting for review, 0 ignored, 0 already recorded" in out
    assert statuses(root, "HP-2026-030", "HP-2026-028") == ["paid", "paid"]
    # Each is still recorded once when its statement comes again.
    code, out, _ = run(root, "reconcile", str(first), str(second))
    assert ": 0 applied, 0 waiting for review, 0 ignored, 2 already recorded" in out


def test_mt940_ofx_and_a_mapped_csv_are_recognised_by_their_content(tmp_path):
    root = example_books(tmp_path)
    with_csv_mapping(root)
    renamed = tmp_path / "statement.txt"  # no telling name: the content says what it is
    shutil.copy(FIXTURES / "mt940-demo.sta", renamed)
    files = [renamed, FIXTURES / "ofx1-demo.ofx", FIXTURES / "ofx2-demo.ofx"]
    code, out, err = run(root, "reconcile", *map(str, files), str(FIXTURES / "bank-demo.csv"))
    assert (code, err) == (0, ""), out
    applied = [line for line in out.splitlines() if line.startswith("  applied")]
    assert applied == [
        "  applied: HP-2026-024 paid 4350.00 USD on 2026-11-20 [8310012345:2026112000001], by "
        "the invoice number: partial payment: 4350.00 USD of 6881.20 USD owed",
        "  applied: HP-2026-030 paid 3650.00 EUR on 2026-11-23 "
        "[37040044-0532013000:2026112300417829], by the reference RF77HP2026030",
        "  applied: HP-2026-028 paid 4290.00 EUR on 2026-11-23 "
        "[37040044-0532013000:2026112300418204], by the invoice number",
        "  applied: HP-2026-033 paid 1293.60 GBP on 2026-11-23 [TX-88213], by the reference "
        "RF93HP2026033",
    ]
    # The OFX 1.x and 2.x files hold the same transaction (FITID): it is applied once.
    assert "9 transactions read" in out
    assert "1 already recorded" in out
    assert "  ignored: 4 × debits and reversals (money out)" in out
    # The early-payment discount within its window settles the GBP invoice.
    assert statuses(root, "HP-2026-033", "HP-2026-024") == ["paid", "overdue"]  # still late


def test_a_plan_instalment_reference_chooses_the_plan(tmp_path):
    from notifier.account import references

    root = example_books(tmp_path)
    reference = references.instalment_reference("HP-2026-033", 1, 1)  # three-monthly, first
    statement = tmp_path / "camt.xml"
    text = (FIXTURES / "camt054-v08.xml").read_text()
    text = text.replace("RF77HP2026030", reference).replace("3650.00", "440.00")
    text = text.replace("DE89370400440532013000", "GB82WEST12345698765432").replace(
        '"EUR"', '"GBP"'
    )
    text = text.replace("<Ccy>EUR</Ccy>", "<Ccy>GBP</Ccy>")
    statement.write_text(text)
    code, out, _ = run(root, "reconcile", str(statement))
    assert code == 0, out
    assert "(plan three-monthly, instalment 1)" in out
    books, _ = check_books(root)
    state = ledger(books, __import__("datetime").date(2026, 11, 23))["HP-2026-033"]
    assert state.active_plan is not None
    assert state.active_plan.id == "three-monthly"


def test_a_transfer_naming_nothing_waits_for_review_with_the_invoices_of_its_amount(tmp_path):
    root = example_books(tmp_path)
    statement = tmp_path / "camt.xml"
    text = (FIXTURES / "camt054-v08.xml").read_text()
    text = text.replace(
        "<Strd>\n                <CdtrRefInf>\n                  <Tp>\n                    <CdOrPrtry>\n"
        "                      <Cd>SCOR</Cd>\n                    </CdOrPrtry>\n                  "
        "</Tp>\n                  <Ref>RF77HP2026030</Ref>\n                </CdtrRefInf>\n"
        "              </Strd>",
        "<Ustrd>Facture novembre</Ustrd>",
    )
    statement.write_text(text)
    before = payments(root)
    code, out, _ = run(root, "reconcile", str(statement))
    assert code == 0
    assert out.splitlines()[1].endswith(
        "nothing in its remittance names an invoice (no RF reference or invoice number); "
        "perhaps HP-2026-030"
    )
    assert payments(root) == before


def test_a_truncated_xml_statement_imports_nothing_and_says_where(tmp_path):
    root = example_books(tmp_path)
    cut = tmp_path / "cut.xml"
    cut.write_text((FIXTURES / "camt053-demo.xml").read_text()[:3000])
    before = payments(root), imports(root)
    code, _, err = run(root, "reconcile", str(cut))
    assert code == 1
    assert re.fullmatch(
        rf"{re.escape(str(cut))}:\d+: column \d+: the XML cannot be read \([a-z ]+\): is the "
        r"file cut short\?\n1 problem in the statements; nothing was imported\n",
        err,
    ), err
    assert (payments(root), imports(root)) == before


def test_a_zero_or_negative_credit_and_the_wrong_currency_are_problems(tmp_path):
    root = example_books(tmp_path)
    text = (FIXTURES / "camt053-demo.xml").read_text()
    bad = tmp_path / "bad.xml"
    bad.write_text(
        text.replace('<Amt Ccy="EUR">40.00</Amt>', '<Amt Ccy="EUR">0.00</Amt>')
        .replace('<Amt Ccy="EUR">4290.00</Amt>', '<Amt Ccy="USD">4290.00</Amt>')
        .replace('<Amt Ccy="EUR">3800.00</Amt>', '<Amt Ccy="EUR">-3800.00</Amt>')
    )
    code, _, err = run(root, "reconcile", str(bad))
    at = f"{bad}: /Document/BkToCstmrStmt/Stmt[1]"
    assert code == 1
    assert err.splitlines() == [
        f"{at}/Ntry[2]/Amt: an amount in USD on an account kept in EUR: the wrong currency",
        f"{at}/Ntry[3]/Amt: a credit of -3800.00 EUR: a credit is more than zero",
        f"{at}/Ntry[4]/Amt: a credit of 0.00 EUR: a credit is more than zero",
        "3 problems in the statements; nothing was imported",
    ]


def test_a_statement_of_the_euro_account_in_pounds_is_the_wrong_currency(tmp_path):
    root = example_books(tmp_path)
    text = (FIXTURES / "ofx2-demo.ofx").read_text()
    wrong = tmp_path / "wrong.ofx"  # the EUR account's number, but a statement in USD
    wrong.write_text(text.replace("8310012345", "DE89370400440532013000"))
    code, _, err = run(root, "reconcile", str(wrong))
    assert code == 1
    assert err.splitlines()[0] == (
        f"{wrong}:35: a credit in USD on account DE89370400440532013000, which business.yaml "
        "keeps in EUR: a statement in the wrong currency"
    )


def test_an_mt940_with_a_broken_balance_line_imports_nothing(tmp_path):
    root = example_books(tmp_path)
    text = (FIXTURES / "mt940-demo.sta").read_text()
    broken = tmp_path / "broken.sta"
    broken.write_text(text.replace(":60F:C261122EUR18250,00", ":60F:C2611EUR18250,00"))
    unbalanced = tmp_path / "unbalanced.sta"
    unbalanced.write_text(text.replace(":62F:C261123EUR26177,50", ":62F:C261123EUR26000,00"))
    code, _, err = run(root, "reconcile", str(broken), str(unbalanced))
    assert code == 1
    assert err.splitlines() == [
        f"{broken}:4: the final opening balance (:60F:) cannot be read: `C2611EUR18250,00`",
        f"{unbalanced}:12: the closing balance 26000.00 EUR is not the opening balance 18250.00 "
        "and the entries (+7927.50): a line is missing or broken",
        "2 problems in the statements; nothing was imported",
    ]


def test_a_bank_import_counts_for_the_freshness_of_bank_payments(tmp_path):
    from notifier.payments.freshness import stale_reason

    root = example_books(tmp_path)
    path = root / "data" / "business.yaml"
    path.write_text(path.read_text() + "\npayments:\n  sources: [bank]\n")
    books, _ = check_books(root)
    today = __import__("datetime").date.today()
    assert "payments have never been imported" in (stale_reason(books, today) or "")
    run(root, "reconcile", str(FIXTURES / "camt053-demo.xml"))
    books, _ = check_books(root)
    assert stale_reason(books, today) is None


def test_run_imports_a_statement_dropped_in_the_inbox(tmp_path, monkeypatch):
    root = example_books(tmp_path)
    inbox = root / "data" / "inbox"
    inbox.mkdir()
    shutil.copy(FIXTURES / "camt053-demo.xml", inbox / "download (3).xml")
    monkeypatch.setenv("NOTIFIER_SECRET", "a-secret-for-the-run-test")
    monkeypatch.setenv("NOTIFIER_SMTP_URL", "smtp://127.0.0.1:9")  # not reached: dry books
    result = CliRunner().invoke(
        cli, ["--root", str(root), "run", "--as-of", DEMO, "--allow-stale-payments"]
    )
    assert "3 applied, 1 waiting for review" in result.stdout
    assert list(inbox.iterdir()) == []
    assert statuses(root, "HP-2026-030")[0] == Status.PAID.value


def test_each_file_is_told_by_its_content_and_a_stripe_export_loads_no_statement_reader():
    """Telling a Stripe export from a statement reads its first bytes only: the statement readers
    (ofxtools, mt-940: a second to load) are loaded only to read a statement of their format."""
    import subprocess
    import sys

    stripe = Path(__file__).parent / "fixtures" / "stripe" / "demo-payments.csv"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from notifier.payments.statements import is_statement\n"
        "print([is_statement(Path(p), None) for p in sys.argv[1:]],"
        " sorted(m for m in ('ofxtools', 'mt940') if m in sys.modules))\n"
    )
    files = [stripe, *(FIXTURES / name for name in ("camt053-demo.xml", "mt940-demo.sta"))]
    files += [FIXTURES / "ofx1-demo.ofx", FIXTURES / "ofx2-demo.ofx", FIXTURES / "bank-demo.csv"]
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "[False, True, True, True, True, False] []\n"
