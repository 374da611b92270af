"""The card link of a client's whole statement: `notifier links` keeps it as it keeps an invoice's
(created, replaced, turned off; Stripe a fake on 127.0.0.1 that records each request), the client's
page shows it only while it charges what paying everything asks that day, and `reconcile` spreads a
payment through it over the client's open invoices, oldest due first."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from notifier.cli import cli
from notifier.payments import stripe_api
from tests import test_payments_cli
from tests.test_payments_cli import KEY, SECRET, example_books

served = test_payments_cli.served  # Stripe faked on 127.0.0.1, recording each request

STATEMENT = "statement:brightwater:GBP"  # Brightwater's two open invoices in pounds


def links(root: Path, base: str, as_of: str = "2026-11-23") -> list[str]:
    env = {"STRIPE_API_KEY": KEY, "NOTIFIER_SECRET": SECRET, stripe_api.BASE_VARIABLE: base}
    result = CliRunner().invoke(cli, ["--root", str(root), "links", "--as-of", as_of], env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    return list(result.stdout.splitlines())


def write_off(root: Path, number: str) -> None:
    path = root / "data" / "invoices" / "2026.yaml"
    head = f"- number: {number}\n"
    text = path.read_text(encoding="utf-8")
    assert head in text
    off = "  write_off: {date: 2026-11-22, amount: rest, reason: Goodwill}\n"
    path.write_text(text.replace(head, head + off), encoding="utf-8")


def test_links_creates_the_statements_link_and_turns_it_off_when_one_invoice_is_left(
    tmp_path, served
):
    fake, base = served
    root = example_books(tmp_path)
    links_file = root / "data/records/payment-links.yaml"
    records = yaml.safe_load(links_file.read_text(encoding="utf-8"))
    for record in records:  # the example books' links, as Stripe would hold them
        fake.links[record["id"]] = {"id": record["id"], "object": "payment_link", "active": True}
    kept = [ln for ln in links_file.read_text(encoding="utf-8").splitlines() if STATEMENT not in ln]
    links_file.write_text("\n".join(kept) + "\n", encoding="utf-8")

    assert links(root, base) == [
        f"created: {STATEMENT} plink_test_1 https://buy.stripe.com/test_plink_test_1",
        "1 created, 0 turned off",
    ]
    ((sent),) = fake.sent
    form = dict(sent.form)
    # What paying both at once asks: 3,558.40 (what settles HP-2026-026 today) + 1,293.60
    # (HP-2026-033, less its early-payment discount)
    assert form["line_items[0][price_data][unit_amount]"] == "485200"
    assert form["line_items[0][price_data][currency]"] == "gbp"
    assert form["line_items[0][price_data][product_data][name]"] == (
        "Invoices HP-2026-026, HP-2026-033"
    )
    assert form["metadata[statement]"] == "brightwater"
    assert form["payment_intent_data[metadata][statement]"] == "brightwater"
    assert "metadata[invoice]" not in form
    last = yaml.safe_load(links_file.read_text(encoding="utf-8"))[-1]
    assert {k: last[k] for k in ("target", "id", "amount", "currency", "status")} == {
        "target": STATEMENT,
        "id": "plink_test_1",
        "amount": 4852.00,
        "currency": "GBP",
        "status": "active",
    }
    assert "invoice" not in last
    assert links(root, base) == ["0 created, 0 turned off"]

    write_off(root, "HP-2026-026")  # one invoice left open: its own link pays it
    out = links(root, base)
    assert f"turned off: {STATEMENT} plink_test_1" in out
    assert fake.links["plink_test_1"]["active"] is False
    assert links(root, base) == ["0 created, 0 turned off"]


def client_page(root: Path, as_of: str) -> str:
    out = root / f"public-{as_of}"
    result = CliRunner().invoke(
        cli, ["--root", str(root), "build", "--demo", "--out", str(out), "--as-of", as_of]
    )
    assert result.exit_code == 0, result.output
    return next(
        text
        for page in out.rglob("index.html")
        if "<h1>Brightwater" in (text := page.read_text(encoding="utf-8"))
    )


BUTTON = re.compile(r'<a class="button" href="([^"]+)">Pay everything by card: ([^<]+)</a>')


def test_the_page_shows_the_statements_card_link_only_while_it_charges_what_is_asked(tmp_path):
    root = example_books(tmp_path)
    ((url, amount),) = BUTTON.findall(client_page(root, "2026-11-23"))
    assert url.startswith("https://buy.stripe.com/test_DEMO_statement_brightwater_GBP")
    assert amount == "£4,852.00"
    # From 29 November HP-2026-033's early-payment discount is over: the link asks too little.
    assert BUTTON.findall(client_page(root, "2026-11-29")) == []


HEADER = (
    "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,"
    "Converted Amount Refunded,Converted Currency,Decline Reason,Description,Fee,"
    "Refunded date (UTC),Statement Descriptor,Status,Seller Message,Taxes On Fee,Card ID,"
    "Customer ID,Customer Description,Customer Email,Invoice ID,Transfer,statement (metadata)"
)


def test_a_payment_through_the_statements_link_waits_for_a_person_never_guessed(tmp_path):
    root = example_books(tmp_path)
    export = tmp_path / "payments.csv"
    export.write_text(
        HEADER + "\n"
        "ch_3STATEMENT1,2026-11-23 10:00:00,4852.00,0,gbp,true,4852.00,0.00,gbp,,"
        '"Invoices HP-2026-026, HP-2026-033 from Harbour & Pine Studio",70.55,,HARBOURPINE,'
        "Paid,Payment complete.,0.00,,,,accounts@brightwater.example.com,,,brightwater\n",
        encoding="utf-8",
    )
    payments = (root / "data/records/payments.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["--root", str(root), "reconcile", str(export)])
    assert result.exit_code == 0, result.output
    assert (
        f"{export}:2: ch_3STATEMENT1 4852.00 GBP: it pays client brightwater's statement "
        "(every open invoice at once): record its share of each invoice by hand"
    ) in result.output
    assert (root / "data/records/payments.yaml").read_text(encoding="utf-8") == payments
