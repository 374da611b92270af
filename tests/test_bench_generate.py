"""The benchmark's book generator (bench/generate.py): the same seed gives the same bytes, the books
pass `check` with the example's mix of states, and its Stripe export reconciles to its invoices."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from bench import generate
from notifier.books.checks import check_books
from notifier.cli import cli
from notifier.ledger.state import Status, ledger
from notifier.payments import apply as payments_apply
from notifier.payments.exports import read_export, recognise
from notifier.problems import errors

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe"
AS_OF = date(2026, 11, 23)


def _generate(out: Path, *extra: str) -> Path:
    assert generate.main([str(out), "--invoices", "400", "--clients", "80", *extra]) == 0
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a", "--seed", "7", "--payments", "50")
    second = _generate(tmp_path / "b", "--seed", "7", "--payments", "50")
    third = _generate(tmp_path / "c", "--seed", "8")
    assert _files(first) == _files(second)
    assert len(list((first / "data" / "invoices").glob("*.yaml"))) == 1
    assert (first / "data" / "clients.yaml").read_bytes() != (
        third / "data" / "clients.yaml"
    ).read_bytes()
    for part in ("content", "site"):
        assert (first / part).is_dir()


def test_the_books_pass_check_with_every_state(tmp_path: Path) -> None:
    root = _generate(tmp_path / "books")
    result = CliRunner().invoke(cli, ["--root", str(root), "check"])
    assert result.exit_code == 0, result.output
    books, problems = check_books(root)
    assert not errors(problems)
    assert len(books.invoices) == 400
    assert len(books.clients) == 80
    states = ledger(books, AS_OF)
    seen = Counter(state.status for state in states.values())
    # Settled (credit notes, write-offs) is not among the bench's kinds of invoice yet.
    assert set(seen) == set(Status) - {Status.SETTLED}, seen
    assert any(state.active_plan is not None for state in states.values())
    assert any(
        state.active_plan is None and state.status is Status.PAID and state.overpaid == 0
        for state in states.values()
    )
    currencies = {state.currency for state in states.values()}
    assert currencies == {"GBP", "EUR", "USD", "JPY"}
    locales = {client.locale for client in books.clients.values()}
    assert {"en_GB", "de_DE", "fr_FR", "en"} <= locales
    assert any(client.pause is not None for client in books.clients.values())
    assert books.messages
    assert books.payments


def test_the_export_has_the_default_columns_and_reconciles(tmp_path: Path) -> None:
    root = _generate(tmp_path / "books", "--payments", "300")
    export = root / "stripe-payments.csv"
    with export.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
        rows = sum(1 for _ in handle)
    with (FIXTURES / "payments-default.csv").open(encoding="utf-8-sig", newline="") as handle:
        expected = next(csv.reader(handle))
    assert header == expected
    layout = recognise(header)
    assert not isinstance(layout, str)
    assert layout.export == "payments"
    assert rows == 300

    books, _ = check_books(root)
    assert books.settings is not None
    zone = ZoneInfo(books.settings.business.timezone)
    outcome = payments_apply.reconcile(books, read_export(export, "export", zone), "export", AS_OF)
    assert not outcome.problems
    assert outcome.rows == 300
    assert outcome.review_count == 0, outcome.review[:3]
    assert len(outcome.applied) > 200
    assert {payment.invoice for payment in outcome.applied} <= set(books.invoices)

    result = CliRunner().invoke(cli, ["--root", str(root), "reconcile", str(export)])
    assert result.exit_code == 0, result.output
    assert "0 waiting for review" in result.output
    again = CliRunner().invoke(cli, ["--root", str(root), "check"])
    assert again.exit_code == 0, again.output
