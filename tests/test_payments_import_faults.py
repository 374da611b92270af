"""`notifier reconcile` given what a careless user (or a cut download) gives it: a truncated
export. Through the command line, on a copy of the example books."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifier.cli import cli
from notifier.payments import exports

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
CUT_SHORT = "the file may have been cut short; export it again from Stripe"


def example_books(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "content", root / "content")
    return root


def run(root: Path, *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def records(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "data/records").iterdir()}


# A truncated export ------------------------------------------------------------------------------


@pytest.mark.parametrize("helper", [False, True], ids=["read here", "read by the helper process"])
def test_an_export_cut_inside_a_quoted_value_imports_nothing(tmp_path, monkeypatch, helper):
    if helper:
        monkeypatch.setattr(exports, "HELPER_BYTES", 0)
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
