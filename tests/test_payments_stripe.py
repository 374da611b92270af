"""Stripe through the stripe package: the exact requests `notifier links` sends (recorded at the
package's own HTTP-client seam), Stripe's errors, and payments read from localstripe on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
import stripe
from click.testing import CliRunner

from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.books.payment_links import current_links
from notifier.cli import cli
from notifier.payments import stripe_api
from notifier.payments.apply import reconcile
from notifier.payments.links import carry_out, plan_links, record_links
from tests.localstripe_server import localstripe_address

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 23)
SECRET = Secret(b"a test secret for the payment links", demo=False)


class Recorder(stripe.HTTPClient):
    """Answers each request with the next canned (status, body), and keeps what was sent."""

    name = "recorder"

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.sent: list[tuple[str, str, dict[str, str], list[tuple[str, str]]]] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: Any = None,
    ) -> tuple[str, int, dict[str, str]]:
        form = parse_qsl(post_data or "", keep_blank_values=True)
        self.sent.append((method, url, dict(headers or {}), form))
        status, body = self.answers.pop(0)
        return json.dumps(body), status, {"request-id": "req_test"}

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _stripe_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests expect Stripe's own address, whatever STRIPE_API_BASE the shell has."""
    monkeypatch.delenv(stripe_api.BASE_VARIABLE, raising=False)


def books_without_links(tmp_path: Path) -> tuple[Path, Books]:
    root = tmp_path / "books"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "content", root / "content")
    (root / "data/records/payment-links.yaml").unlink()
    books, _ = check_books(root)
    return root, books


def link_answer(ident: str) -> tuple[int, dict[str, Any]]:
    return 200, {
        "id": ident,
        "object": "payment_link",
        "url": f"https://buy.stripe.com/test_{ident}",
    }


def test_a_payment_link_request_is_exactly_what_stripe_needs(tmp_path):
    _, books = books_without_links(tmp_path)
    plan = plan_links(books, TODAY, SECRET)
    request = next(
        r for r in plan.create if (r.invoice, r.target) == ("HP-2026-029", "three-monthly#2")
    )
    recorder = Recorder([link_answer("plink_1")])
    client = stripe_api.make_client("sk_test_123", http_client=recorder)
    assert stripe_api.StripeLinks(client).create_link(request) == (
        "plink_1",
        "https://buy.stripe.com/test_plink_1",
    )
    ((method, url, headers, form),) = recorder.sent
    assert (method, url) == ("post", "https://api.stripe.com/v1/payment_links")
    assert headers["Idempotency-Key"] == request.idempotency_key
    assert headers["Authorization"] == "Bearer sk_test_123"
    page = request.redirect
    assert page.startswith("https://pay.harbourpine.example.com/p/")
    assert page.endswith("/")
    assert form == [
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][product_data][name]", "Invoice HP-2026-029, instalment 2 of 3"),
        ("line_items[0][price_data][unit_amount]", "300000"),
        ("line_items[0][quantity]", "1"),
        ("metadata[invoice]", "HP-2026-029"),
        ("metadata[instalment]", "three-monthly#2"),
        (
            "payment_intent_data[description]",
            "Invoice HP-2026-029, instalment 2 of 3 from Harbour & Pine Studio",
        ),
        ("payment_intent_data[metadata][invoice]", "HP-2026-029"),
        ("payment_intent_data[metadata][instalment]", "three-monthly#2"),
        ("restrictions[completed_sessions][limit]", "1"),
        ("after_completion[type]", "redirect"),
        ("after_completion[redirect][url]", page),
    ]


def test_the_idempotency_key_is_stable_and_differs_per_link(tmp_path):
    _, books = books_without_links(tmp_path)
    first = plan_links(books, TODAY, SECRET).create
    again = plan_links(books, TODAY, SECRET).create
    assert [r.idempotency_key for r in first] == [r.idempotency_key for r in again]
    assert len({r.idempotency_key for r in first}) == len(first)


def test_payment_methods_and_zero_decimal_amounts_reach_the_request(tmp_path):
    root, _ = books_without_links(tmp_path)
    business = root / "data/business.yaml"
    business.write_text(
        business.read_text(encoding="utf-8")
        + "\npayments:\n  payment_methods: [card, bacs_debit]\n",
        encoding="utf-8",
    )
    books, problems = check_books(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    request = next(
        r
        for r in plan_links(books, TODAY, SECRET).create
        if (r.invoice, r.target) == ("HP-2026-022", "full")
    )
    params = stripe_api.link_params(request)
    assert params["payment_method_types"] == ["card", "bacs_debit"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == 1270712  # fees and interest
    assert params["line_items"][0]["price_data"]["currency"] == "jpy"


def test_links_are_recorded_and_a_changed_amount_replaces_the_link(tmp_path):
    root, books = books_without_links(tmp_path)
    plan = plan_links(books, TODAY, SECRET)
    recorder = Recorder([link_answer(f"plink_{i}") for i in range(len(plan.create))])
    run = carry_out(
        plan, stripe_api.StripeLinks(stripe_api.make_client("sk_test", http_client=recorder))
    )
    assert run.problem is None
    record_links(root, run.created, run.deactivated, datetime(2026, 11, 23, 9, tzinfo=UTC))
    books, _ = check_books(root)
    assert plan_links(books, TODAY, SECRET).empty
    full = current_links(books)["HP-2026-033"]["full"]
    assert (full.amount, full.currency) == (129360, "GBP")  # less the early-payment discount

    invoices = root / "data/invoices/2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    old = "    - {description: Loyalty card redesign, unit_price: 1100.00, tax_rate: 20%}"
    assert old in text
    invoices.write_text(text.replace(old, old.replace("1100.00", "1200.00")), encoding="utf-8")
    books, _ = check_books(root)
    plan = plan_links(books, TODAY, SECRET)
    assert [(r.invoice, r.target, r.amount) for r in plan.create] == [
        ("HP-2026-033", "full", 141120),
        ("HP-2026-033", "three-monthly#1", 48000),
        ("", "statement:brightwater:GBP", 496960),  # the client's statement, with it
    ]
    assert [(link.target, why) for link, why in plan.deactivate] == [
        ("full", "the amount changed from 1293.60 GBP to 1411.20 GBP"),
        ("three-monthly#1", "the amount changed from 440.00 GBP to 480.00 GBP"),
        ("statement:brightwater:GBP", "the amount changed from 4852.00 GBP to 4969.60 GBP"),
    ]
    recorder = Recorder([link_answer(f"plink_new_{i}") for i in range(3)] + [link_answer("x")] * 3)
    run = carry_out(
        plan, stripe_api.StripeLinks(stripe_api.make_client("sk_test", http_client=recorder))
    )
    assert [(method, url, form) for method, url, _, form in recorder.sent[3:]] == [
        ("post", f"https://api.stripe.com/v1/payment_links/{link.id}", [("active", "false")])
        for link, _ in plan.deactivate
    ]
    record_links(root, run.created, run.deactivated, datetime(2026, 11, 23, 10, tzinfo=UTC))
    books, _ = check_books(root)
    assert current_links(books)["HP-2026-033"]["full"].id == "plink_new_0"
    assert plan_links(books, TODAY, SECRET).empty


def test_a_stripe_error_stops_the_run_and_keeps_what_was_made(tmp_path):
    _, books = books_without_links(tmp_path)
    plan = plan_links(books, TODAY, SECRET)
    refusal = (
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "message": "The currency jpy is not supported for payment method bacs_debit.",
                "param": "payment_method_types",
            }
        },
    )
    recorder = Recorder([link_answer("plink_ok"), refusal])
    run = carry_out(
        plan, stripe_api.StripeLinks(stripe_api.make_client("sk_test", http_client=recorder))
    )
    assert [ident for _, ident, _ in run.created] == ["plink_ok"]
    assert run.problem == (
        "Stripe said (HTTP 400): The currency jpy is not supported for payment method bacs_debit."
    )
    assert len(recorder.sent) == 2


def test_links_needs_its_secret_and_key_and_dry_run_needs_neither(tmp_path, monkeypatch):
    root = tmp_path / "books"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "content", root / "content")
    monkeypatch.delenv("NOTIFIER_SECRET", raising=False)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    runner = CliRunner()
    dry_run = ["--root", str(root), "links", "--dry-run", "--as-of", "2026-11-23"]
    result = runner.invoke(cli, dry_run)
    assert result.exit_code == 0
    # The example books hold a link for each way to pay their pages offer on the demo date.
    assert result.stdout.splitlines()[-1] == "0 to create, 0 to turn off"
    result = runner.invoke(cli, ["--root", str(root), "links"])
    assert result.exit_code == 2
    monkeypatch.setenv("NOTIFIER_SECRET", "s3cret-for-tests")
    result = runner.invoke(cli, ["--root", str(root), "links"])
    assert (result.exit_code, result.stderr) == (
        2,
        "notifier: set STRIPE_API_KEY to reach Stripe\n",
    )


# localstripe on 127.0.0.1 -------------------------------------------------------------------------


@pytest.fixture
def localstripe_url() -> str:
    return localstripe_address()


@pytest.mark.filterwarnings("ignore:Bare functions are deprecated:DeprecationWarning")
def test_payments_read_from_the_api_reconcile_like_an_export(localstripe_url, tmp_path):
    client = stripe_api.make_client("sk_test_local", base=localstripe_url)
    card = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )

    def pay(amount: int, currency: str, invoice: str) -> str:
        intent = client.v1.payment_intents.create(
            {
                "amount": amount,
                "currency": currency,
                "payment_method": card.id,
                "metadata": {"invoice": invoice},
            }
        )
        return str(client.v1.payment_intents.confirm(intent.id).id)

    pay(132000, "gbp", "HP-2026-033")
    pay(1250000, "jpy", "HP-2026-022")
    refunded = pay(100000, "gbp", "HP-2026-026")
    charge = client.v1.payment_intents.retrieve(refunded).latest_charge
    client.v1.refunds.create({"charge": str(getattr(charge, "id", charge)), "amount": 2500})
    client.v1.payment_intents.create({"amount": 5000, "currency": "gbp"})  # never confirmed

    books, _ = check_books(REPO)
    zone = ZoneInfo("Europe/London")
    rows = list(stripe_api.payment_rows(client, None, zone, checkout_sessions=False))
    outcome = reconcile(books, rows, stripe_api.SOURCE, TODAY)
    assert outcome.problems == []
    applied = sorted((p.invoice, p.kind, str(p.amount), p.currency) for p in outcome.applied)
    assert applied == [
        ("HP-2026-022", "payment", "1250000", "JPY"),
        ("HP-2026-026", "payment", "1000.00", "GBP"),
        ("HP-2026-026", "refund", "25.00", "GBP"),
        ("HP-2026-033", "payment", "1320.00", "GBP"),
    ]
    assert sum(outcome.ignored.values()) == 1

    books.payments.extend(outcome.applied)
    again = reconcile(
        books, stripe_api.payment_rows(client, None, zone, checkout_sessions=False), "api", TODAY
    )
    assert again.applied == []
