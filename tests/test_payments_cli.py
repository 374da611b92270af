"""`notifier reconcile --from-stripe` and `notifier links` against a small stand-in for Stripe.

`FakeStripe` answers the calls notifier makes the way Stripe does (list objects with `has_more`
and `starting_after`, `created[gte]`, idempotency keys, error bodies) and keeps every request.
It is reached in-process through the stripe package's own HTTP-client seam, and through the real
command line by an HTTP server on 127.0.0.1 that STRIPE_API_BASE points at. Checkout Sessions are
tested here because localstripe answers 404 for them."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import stripe
import yaml
from click.testing import CliRunner

from notifier.addresses import Secret, absolute, client_page, client_token
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.books.payment_links import current_links
from notifier.cli import cli
from notifier.ledger.state import Status, ledger
from notifier.payments import stripe_api
from notifier.payments.apply import reconcile

REPO = Path(__file__).resolve().parents[1]
LONDON = ZoneInfo("Europe/London")
KEY = "sk_test_notifier_cli"
SECRET = "s3cret-for-the-cli-tests"


def at(day: int, hour: int = 10) -> int:
    """A Unix time in November 2026 (London is on UTC then)."""
    return int(datetime(2026, 11, day, hour, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: dict[str, str]
    form: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    """Just enough of Stripe for notifier: lists (newest first, `page` to a page), charges,
    disputes, and Payment Links with their idempotency keys."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    intents: list[dict[str, Any]] = field(default_factory=list)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    page: int = 2  # smaller than the `limit` asked, so that every list has several pages
    sent: list[Sent] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, method: str, url: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = parse_qsl(body, keep_blank_values=True)
        with self.lock:
            self.sent.append(Sent(method.lower(), parts.path, query, form, headers))
            if headers.get("Authorization") != f"Bearer {KEY}":
                return 401, _error(
                    "invalid_request_error", "Invalid API Key provided: sk_test_****"
                )
            return self._route(method.lower(), parts.path, query, form, headers)

    def requests(self, *paths: str) -> list[tuple[str, str, dict[str, str]]]:
        """The requests sent to `paths` (all if none): method, path and query."""
        return [(s.method, s.path, s.query) for s in self.sent if not paths or s.path in paths]

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        form: list[tuple[str, str]],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        if (method, path) == ("get", "/v1/checkout/sessions"):
            return 200, self._list(path, self.sessions, query)
        if (method, path) == ("get", "/v1/payment_intents"):
            return 200, self._list(path, self.intents, query)
        if method == "get" and path.startswith("/v1/charges/") and path[12:] in self.charges:
            return 200, self.charges[path[12:]]
        if method == "post" and path == "/v1/payment_links":
            key = headers.get("Idempotency-Key", "")
            if key in self.keys:  # Stripe answers a repeated key with the first answer
                return 200, self.keys[key]
            ident = f"plink_test_{len(self.keys) + 1}"  # one key per link made here
            link = {
                "id": ident,
                "object": "payment_link",
                "active": True,
                "livemode": False,
                "url": f"https://buy.stripe.com/test_{ident}",
                "metadata": {k[9:-1]: v for k, v in form if k.startswith("metadata[")},
            }
            self.links[ident] = link
            self.keys[key] = link
            return 200, link
        if method == "post" and path.startswith("/v1/payment_links/") and path[18:] in self.links:
            link = self.links[path[18:]]
            link.update({"active": dict(form)["active"] == "true"})
            return 200, link
        return 404, _error("invalid_request_error", f"Unrecognized request URL (GET: {path}).")

    def _list(
        self, path: str, objects: list[dict[str, Any]], query: dict[str, str]
    ) -> dict[str, Any]:
        since = int(query.get("created[gte]", "0"))
        found = sorted(
            (o for o in objects if o["created"] >= since), key=lambda o: -int(o["created"])
        )
        if "starting_after" in query:
            ids = [o["id"] for o in found]
            found = found[ids.index(query["starting_after"]) + 1 :]
        size = min(self.page, int(query.get("limit", "10")))
        return {
            "object": "list",
            "url": path,
            "has_more": len(found) > size,
            "data": found[:size],
        }

    # Building Stripe's objects ------------------------------------------------------------------

    def pay(
        self,
        n: int,
        amount: int,
        currency: str,
        created: int,
        *,
        metadata: dict[str, str] | None = None,
        description: str | None = None,
        session: dict[str, Any] | None = None,
    ) -> None:
        """A succeeded PaymentIntent `pi_n` with its charge `ch_n`, and, if `session` is given,
        the completed Checkout Session `cs_test_n` (with those fields) that created it."""
        self.intents.append(
            {
                "id": f"pi_{n}",
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": amount,
                "capture_method": "automatic_async",
                "created": created,
                "currency": currency,
                "description": description,
                "latest_charge": f"ch_{n}",
                "livemode": False,
                "metadata": metadata or {},
                "payment_method_types": ["card"],
                "status": "succeeded",
            }
        )
        self.charges[f"ch_{n}"] = {
            "id": f"ch_{n}",
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "captured": True,
            "created": created + 2,
            "currency": currency,
            "description": description,
            "disputed": False,
            "livemode": False,
            "metadata": metadata or {},
            "paid": True,
            "payment_intent": f"pi_{n}",
            "refunded": False,
            "status": "succeeded",
        }
        if session is not None:
            self.sessions.append(
                {
                    "id": f"cs_test_{n}",
                    "object": "checkout.session",
                    "amount_subtotal": amount,
                    "amount_total": amount,
                    "client_reference_id": None,
                    "created": created - 60,
                    "currency": currency,
                    "livemode": False,
                    "metadata": {},
                    "mode": "payment",
                    "payment_intent": f"pi_{n}",
                    "payment_link": None,
                    "payment_status": "paid",
                    "status": "complete",
                    **session,
                }
            )


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


class Seam(stripe.HTTPClient):
    """The stripe package's HTTP-client seam, answered by a FakeStripe in-process."""

    name = "fake-stripe"

    def __init__(self, fake: FakeStripe) -> None:
        super().__init__()
        self.fake = fake

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        status, body = self.fake.answer(method, url, dict(headers or {}), post_data or "")
        return json.dumps(body), status, {"request-id": "req_test"}

    def close(self) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[FakeStripe, str]]:
    """A FakeStripe behind an HTTP server on 127.0.0.1, and the server's address."""
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            status, answer = fake.answer(self.command, self.path, dict(self.headers), body)
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_test")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(autouse=True)
def _no_stripe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPE_API_KEY", stripe_api.BASE_VARIABLE, "NOTIFIER_SECRET"):
        monkeypatch.delenv(name, raising=False)


def example_books(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    for folder in ("data", "content", "site"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def loaded(root: Path) -> Books:
    books, problems = check_books(root)
    assert [str(p) for p in problems if p.severity == "error"] == []
    return books


def today() -> date:
    return datetime.now(LONDON).date()


def checkout_payments(fake: FakeStripe) -> FakeStripe:
    """Add to `fake` payments through Checkout Sessions of Payment Links the example books record, whose
    PaymentIntents carry neither metadata nor a description: only the Session says which
    invoice each pays. Plus an abandoned session, an abandoned PaymentIntent and a payment
    nothing names."""
    fake.pay(1, 348840, "gbp", at(2), session={"payment_link": "plink_DEMO_HP-2026-026_full"})
    fake.pay(
        2,
        300000,
        "eur",
        at(5),
        session={"payment_link": "plink_DEMO_HP-2026-029_three-monthly-2"},
    )
    fake.pay(3, 132000, "gbp", at(9), session={"client_reference_id": "HP-2026-033"})
    fake.pay(5, 4200, "gbp", at(12), description="Coffee beans")
    fake.intents.append(
        {
            "id": "pi_4",
            "object": "payment_intent",
            "amount": 96000,
            "amount_received": 0,
            "created": at(11),
            "currency": "gbp",
            "description": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": {},
            "status": "requires_payment_method",
        }
    )
    fake.sessions.append(
        {
            "id": "cs_test_expired",
            "object": "checkout.session",
            "amount_total": 288000,
            "client_reference_id": None,
            "created": at(13),
            "currency": "gbp",
            "livemode": False,
            "metadata": {"invoice": "HP-2026-027"},
            "mode": "payment",
            "payment_intent": None,
            "payment_link": "plink_DEMO_HP-2026-027_full",
            "payment_status": "unpaid",
            "status": "expired",
        }
    )
    return fake


APPLIED = [
    "  applied: HP-2026-033 paid 1320.00 GBP on 2026-11-09 [ch_3]",
    "  applied: HP-2026-029 paid 3000.00 EUR on 2026-11-05 (plan three-monthly, instalment 2) [ch_2]",
    "  applied: HP-2026-026 paid 3488.40 GBP on 2026-11-02 [ch_1]",
]


# Checkout Sessions, through the stripe package's HTTP-client seam -------------------------------


def test_a_checkout_session_of_a_recorded_link_pays_its_invoice_once(tmp_path):
    fake = checkout_payments(FakeStripe())
    client = stripe_api.make_client(KEY, http_client=Seam(fake))
    books = loaded(example_books(tmp_path))
    rows = list(stripe_api.payment_rows(client, date(2026, 11, 1), LONDON))
    outcome = reconcile(books, rows, stripe_api.SOURCE, date(2026, 11, 23))

    assert outcome.problems == []
    assert [
        (p.id, p.invoice, p.kind, str(p.amount), p.currency, p.plan, p.instalment, p.reference)
        for p in outcome.applied
    ] == [
        ("ch_3", "HP-2026-033", "payment", "1320.00", "GBP", None, None, "pi_3"),
        ("ch_2", "HP-2026-029", "payment", "3000.00", "EUR", "three-monthly", 2, "pi_2"),
        ("ch_1", "HP-2026-026", "payment", "3488.40", "GBP", None, None, "pi_1"),
    ]
    assert [(r.id, r.reason) for r in outcome.review] == [
        (
            "ch_5",
            "nothing names an invoice (no metadata, known Payment Link, Client Reference ID or invoice number in the description)",
        )
    ]
    assert dict(outcome.ignored) == {"rows with no id (attempts that never became a payment)": 1}
    assert outcome.newest == date(2026, 11, 12)

    # 2026-11-01 00:00 in London is 00:00 UTC; each list asks for it on every page.
    # Checkout Sessions from the day before too: one opened then may be paid on the day.
    since = {"limit": "100", "created[gte]": str(at(1, 0))}
    opened = {"limit": "100", "created[gte]": str(at(1, 0) - 86400)}
    assert fake.requests("/v1/checkout/sessions", "/v1/payment_intents") == [
        ("get", "/v1/checkout/sessions", opened),
        ("get", "/v1/checkout/sessions", {**opened, "starting_after": "cs_test_3"}),
        ("get", "/v1/payment_intents", since),
        ("get", "/v1/payment_intents", {**since, "starting_after": "pi_4"}),
        ("get", "/v1/payment_intents", {**since, "starting_after": "pi_2"}),
    ]
    charges = [r for r in fake.requests() if r[1].startswith("/v1/charges/")]
    assert sorted(charges) == [("get", f"/v1/charges/ch_{n}", {}) for n in (1, 2, 3, 5)]
    assert len(fake.sent) == 5 + 4  # nothing else: no retries, no other objects

    # Read again, everything already in the books: nothing is applied a second time.
    books.payments.extend(outcome.applied)
    again = reconcile(
        books, stripe_api.payment_rows(client, None, LONDON), stripe_api.SOURCE, date(2026, 11, 23)
    )
    assert again.applied == []
    assert fake.requests()[9] == ("get", "/v1/checkout/sessions", {"limit": "100"})


def test_a_payment_named_by_both_its_metadata_and_its_session_is_applied_once(tmp_path):
    fake = FakeStripe()
    session = {
        "payment_link": "plink_DEMO_HP-2026-033_three-monthly-1",
        "metadata": {"invoice": "HP-2026-033", "instalment": "three-monthly#1"},
    }
    metadata = {"invoice": "HP-2026-033", "instalment": "three-monthly#1"}
    fake.pay(7, 44000, "gbp", at(20), metadata=metadata, session=session)
    # The same PaymentIntent named by a second, later session (paid twice is impossible: Stripe
    # keeps one PaymentIntent per session, but the list may show the session again).
    fake.sessions.append({**fake.sessions[0], "id": "cs_test_7b", "created": at(20, 11)})
    client = stripe_api.make_client(KEY, http_client=Seam(fake))
    books = loaded(example_books(tmp_path))
    outcome = reconcile(
        books, stripe_api.payment_rows(client, None, LONDON), "api", date(2026, 11, 23)
    )
    assert [(p.id, p.invoice, p.plan, p.instalment) for p in outcome.applied] == [
        ("ch_7", "HP-2026-033", "three-monthly", 1)
    ]
    assert outcome.review == []


def test_a_session_that_contradicts_the_metadata_waits_for_review(tmp_path):
    fake = FakeStripe()
    fake.pay(
        8,
        132000,
        "gbp",
        at(20),
        metadata={"invoice": "HP-2026-033"},
        session={"payment_link": "plink_DEMO_HP-2026-026_full"},
    )
    client = stripe_api.make_client(KEY, http_client=Seam(fake))
    outcome = reconcile(
        loaded(example_books(tmp_path)),
        stripe_api.payment_rows(client, None, LONDON),
        "api",
        date(2026, 11, 23),
    )
    assert outcome.applied == []
    assert [(r.id, r.reason) for r in outcome.review] == [
        ("ch_8", "its metadata says invoice HP-2026-033 but its Payment Link says HP-2026-026")
    ]


def test_a_session_opened_the_evening_before_since_still_names_its_invoice(tmp_path):
    # Opened at 23:50 on 31 October, paid at 00:05 on 1 November: the PaymentIntent is created
    # on payment, inside `--since 2026-11-01`; its Checkout Session is not, but must be read.
    fake = FakeStripe()
    paid = at(1, 0) + 5 * 60
    fake.pay(
        9,
        288000,
        "gbp",
        paid,
        session={"payment_link": "plink_DEMO_HP-2026-027_full", "created": at(1, 0) - 10 * 60},
    )
    client = stripe_api.make_client(KEY, http_client=Seam(fake))
    outcome = reconcile(
        loaded(example_books(tmp_path)),
        stripe_api.payment_rows(client, date(2026, 11, 1), LONDON),
        "api",
        date(2026, 11, 23),
    )
    assert [(p.id, p.invoice, str(p.amount)) for p in outcome.applied] == [
        ("ch_9", "HP-2026-027", "2880.00")
    ]
    # Checkout Sessions last at most 24 hours: those from the day before are enough.
    assert fake.requests("/v1/checkout/sessions") == [
        ("get", "/v1/checkout/sessions", {"limit": "100", "created[gte]": str(at(1, 0) - 86400)})
    ]


# `notifier reconcile --from-stripe` on the command line ----------------------------------------


def test_reconcile_from_stripe_on_the_command_line(tmp_path, served):
    fake, base = served
    checkout_payments(fake)
    root = example_books(tmp_path)
    payments = root / "data/records/payments.yaml"
    before = payments.read_text(encoding="utf-8")
    runner = CliRunner()
    env = {"STRIPE_API_KEY": KEY, stripe_api.BASE_VARIABLE: base}

    result = runner.invoke(
        cli, ["--root", str(root), "reconcile", "--from-stripe", "--since", "2026-11-01"], env=env
    )
    assert (result.exit_code, result.stderr) == (0, "")
    out = result.stdout.splitlines()
    assert out[: 3 + len(APPLIED)] == [
        "5 rows read from the Stripe API: 3 applied, 1 waiting for review, 1 ignored, "
        "0 already recorded",
        *APPLIED,
        "  review: the Stripe API:1: ch_5 42.00 GBP: nothing names an invoice (no metadata, known Payment Link, Client Reference ID or invoice number in the description)",
        "  ignored: 1 × rows with no id (attempts that never became a payment)",
    ]
    assert out[6] == f"As of {today()}:"
    # The early-payment discount was taken, the link charged the whole amount.
    assert "  HP-2026-033: open → paid, overpaid by 26.40 GBP" in out
    assert "  HP-2026-026: overdue → paid" in out
    assert fake.requests("/v1/checkout/sessions")[0] == (
        "get",
        "/v1/checkout/sessions",
        {"limit": "100", "created[gte]": str(at(1, 0) - 86400)},
    )
    assert fake.requests("/v1/payment_intents")[0][2] == {
        "limit": "100",
        "created[gte]": str(at(1, 0)),
    }

    written = payments.read_text(encoding="utf-8")
    assert written.startswith(before)
    added = yaml.safe_load(written[len(before) :])
    assert [(p["id"], p["invoice"], p.get("plan"), p.get("instalment")) for p in added] == [
        ("ch_3", "HP-2026-033", None, None),
        ("ch_2", "HP-2026-029", "three-monthly", 2),
        ("ch_1", "HP-2026-026", None, None),
    ]
    imports = yaml.safe_load((root / "data/records/imports.yaml").read_text(encoding="utf-8"))
    assert {k: imports[-1][k] for k in ("source", "newest", "rows", "applied", "review")} == {
        "source": "the Stripe API",
        "newest": date(2026, 11, 12),
        "rows": 5,
        "applied": 3,
        "review": 1,
    }
    books = loaded(root)
    assert ledger(books, today())["HP-2026-033"].status is Status.PAID

    # Again, without --since: everything is known, nothing is written but the import record.
    result = runner.invoke(cli, ["--root", str(root), "reconcile", "--from-stripe"], env=env)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        "5 rows read from the Stripe API: 0 applied, 1 waiting for review, 1 ignored, "
        "3 already recorded"
    )
    assert payments.read_text(encoding="utf-8") == written
    assert fake.requests("/v1/checkout/sessions")[-2][2] == {"limit": "100"}


def test_reconcile_from_stripe_needs_a_key_and_says_what_stripe_refused(tmp_path, served):
    fake, base = served
    root = example_books(tmp_path)
    records = root / "data/records"
    before = {p.name: p.read_bytes() for p in records.iterdir()}
    runner = CliRunner()

    result = runner.invoke(
        cli,
        ["--root", str(root), "reconcile", "--from-stripe"],
        env={stripe_api.BASE_VARIABLE: base},
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "notifier: set STRIPE_API_KEY to reach Stripe\n",
    )
    assert fake.sent == []

    result = runner.invoke(
        cli,
        ["--root", str(root), "reconcile", "--from-stripe"],
        env={"STRIPE_API_KEY": "sk_test_wrong", stripe_api.BASE_VARIABLE: base},
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "notifier reconcile: Stripe said (HTTP 401): Invalid API Key provided: sk_test_****; "
        "nothing was imported\n",
    )
    assert len(fake.sent) == 1  # a refusal is not retried
    assert {p.name: p.read_bytes() for p in records.iterdir()} == before


# `notifier links` on the command line ----------------------------------------------------------


def expected_form(root: Path, target: str, amount: int, of: int) -> list[tuple[str, str]]:
    """The form of the link for `target` of HP-2026-033 (GBP, client brightwater)."""
    books = loaded(root)
    client = books.clients["brightwater"]
    assert books.settings is not None
    page = client_page(
        client_token(Secret(SECRET.encode("utf-8"), demo=False), client.id, client.page_rotation)
    )
    redirect = absolute(str(books.settings.business.portal_url), page)
    assert redirect.startswith("https://pay.harbourpine.example.com/p/")
    number = target.partition("#")[2]
    name = "Invoice HP-2026-033" + (f", instalment {number} of {of}" if number else "")
    instalment = [("instalment", target)] if number else []
    return [
        ("line_items[0][price_data][currency]", "gbp"),
        ("line_items[0][price_data][product_data][name]", name),
        ("line_items[0][price_data][unit_amount]", str(amount)),
        ("line_items[0][quantity]", "1"),
        ("metadata[invoice]", "HP-2026-033"),
        *[(f"metadata[{k}]", v) for k, v in instalment],
        ("payment_intent_data[description]", f"{name} from Harbour & Pine Studio"),
        ("payment_intent_data[metadata][invoice]", "HP-2026-033"),
        *[(f"payment_intent_data[metadata][{k}]", v) for k, v in instalment],
        ("restrictions[completed_sessions][limit]", "1"),
        ("after_completion[type]", "redirect"),
        ("after_completion[redirect][url]", redirect),
    ]


def test_links_on_the_command_line_create_record_and_replace(tmp_path, served):
    fake, base = served
    # The example books' link for Brightwater's statement, as Stripe would hold it.
    demo = "plink_DEMO_statement_brightwater_GBP"
    fake.links[demo] = {"id": demo, "object": "payment_link", "active": True}
    root = example_books(tmp_path)
    links_file = root / "data/records/payment-links.yaml"
    kept = [
        line
        for line in links_file.read_text(encoding="utf-8").splitlines(keepends=True)
        if "invoice: HP-2026-033," not in line
    ]
    links_file.write_text("".join(kept), encoding="utf-8")
    runner = CliRunner()
    env = {"STRIPE_API_KEY": KEY, "NOTIFIER_SECRET": SECRET, stripe_api.BASE_VARIABLE: base}

    def links() -> list[str]:
        result = runner.invoke(
            cli, ["--root", str(root), "links", "--as-of", "2026-11-23"], env=env
        )
        assert (result.exit_code, result.stderr) == (0, "")
        return list(result.stdout.splitlines())

    # Pay in full (less the early-payment discount until 28 November) and the plan's first instalment.
    targets = ["full", "three-monthly#1"]
    assert links() == [
        *[
            f"created: HP-2026-033 {target} plink_test_{n} https://buy.stripe.com/test_plink_test_{n}"
            for n, target in enumerate(targets, start=1)
        ],
        "2 created, 0 turned off",
    ]
    first = list(fake.sent)
    assert [(s.method, s.path) for s in first] == [("post", "/v1/payment_links")] * 2
    assert [s.form for s in first] == [
        expected_form(root, target, amount, 3)
        for target, amount in zip(targets, [129360, 44000], strict=True)
    ]
    keys = [s.headers["Idempotency-Key"] for s in first]
    assert len(set(keys)) == 2
    assert all(key.startswith("notifier-link-") for key in keys)
    assert all(s.headers["Authorization"] == f"Bearer {KEY}" for s in first)

    recorded = yaml.load(links_file.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert [
        (r["invoice"], r["target"], r["id"], r["url"], str(r["amount"]), r["currency"], r["status"])
        for r in recorded
        if r.get("invoice") == "HP-2026-033"
    ] == [
        (
            "HP-2026-033",
            target,
            f"plink_test_{n}",
            f"https://buy.stripe.com/test_plink_test_{n}",
            amount,
            "GBP",
            "active",
        )
        for n, (target, amount) in enumerate(
            zip(targets, ["1293.60", "440.00"], strict=True), start=1
        )
    ]
    assert current_links(loaded(root))["HP-2026-033"]["full"].id == "plink_test_1"

    # A second run has nothing to do and asks Stripe nothing.
    assert links() == ["0 created, 0 turned off"]
    assert len(fake.sent) == 2

    # The invoice grows: each link is replaced, the new ones first, then the old turned off.
    invoices = root / "data/invoices/2026.yaml"
    text = invoices.read_text(encoding="utf-8")
    old = "    - {description: Loyalty card redesign, unit_price: 1100.00, tax_rate: 20%}"
    assert old in text
    invoices.write_text(text.replace(old, old.replace("1100.00", "1200.00")), encoding="utf-8")
    # The client's statement link (both its GBP invoices at once) is replaced with them.
    statement = "statement:brightwater:GBP"
    assert links() == [
        *[
            f"created: HP-2026-033 {target} plink_test_{n} https://buy.stripe.com/test_plink_test_{n}"
            for n, target in enumerate(targets, start=3)
        ],
        f"created: {statement} plink_test_5 https://buy.stripe.com/test_plink_test_5",
        *[
            f"turned off: HP-2026-033 {target} plink_test_{n}"
            for n, target in enumerate(targets, start=1)
        ],
        f"turned off: {statement} plink_DEMO_statement_brightwater_GBP",
        "3 created, 3 turned off",
    ]
    second = fake.sent[2:]
    assert [s.form for s in second[:2]] == [
        expected_form(root, target, amount, 3)
        for target, amount in zip(targets, [141120, 48000], strict=True)
    ]
    assert not {s.headers["Idempotency-Key"] for s in second[:3]} & set(keys)
    assert [(s.method, s.path, s.form, s.headers["Idempotency-Key"]) for s in second[3:]] == [
        (
            "post",
            f"/v1/payment_links/{ident}",
            [("active", "false")],
            f"notifier-deactivate-{ident}",
        )
        for ident in ("plink_test_1", "plink_test_2", "plink_DEMO_statement_brightwater_GBP")
    ]
    assert [fake.links[f"plink_test_{n}"]["active"] for n in range(1, 6)] == [False] * 2 + [
        True
    ] * 3
    recorded = yaml.safe_load(links_file.read_text(encoding="utf-8"))
    assert [(r["id"], r["status"]) for r in recorded if r.get("invoice") == "HP-2026-033"][2:] == [
        *[(f"plink_test_{n}", "deactivated") for n in range(1, 3)],
        *[(f"plink_test_{n}", "active") for n in range(3, 5)],
    ]
    links_now = current_links(loaded(root))["HP-2026-033"]
    assert {t: (link.id, link.amount) for t, link in links_now.items()} == {
        "full": ("plink_test_3", 141120),
        "three-monthly#1": ("plink_test_4", 48000),
    }
    assert links() == ["0 created, 0 turned off"]
    assert len(fake.sent) == 8
