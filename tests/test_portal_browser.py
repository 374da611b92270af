"""The portal in a real browser: Debian's Chromium, driven by Playwright, against the built site
served on 127.0.0.1 by `notifier serve`'s own server."""

from __future__ import annotations

import io
import queue
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from notifier import addresses
from notifier.account.references import grouped, invoice_reference
from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.portal.serve import fingerprint, start_server, watch
from notifier.portal.site import build_site

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
SECRET = Secret(b"browser-test-secret", demo=False)
# What the closed network here and a fresh profile need to start quietly and fast.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def url(base: str, client_id: str, name: str = "") -> str:
    if client_id == "the business":
        return base + addresses.dashboard_page(addresses.dashboard_token(SECRET))
    return base + addresses.client_page(addresses.client_token(SECRET, client_id)) + name


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example books (with their demo Payment Links), built and served on 127.0.0.1."""
    root = ROOT
    out = tmp_path_factory.mktemp("site")
    books, problems = check_books(root)
    assert [p for p in problems if p.severity == "error"] == []
    build_site(root, books, date(2026, 11, 23), SECRET, out, tmp_path_factory.mktemp("cache"))
    server = start_server(out)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Browser]:
    """Chromium, started once the site is built: the build forks its workers, and a process
    forked while Playwright's threads run may hang on a lock one of them held."""
    assert CHROMIUM.exists(), (
        "Debian's chromium is missing: .ci/run installs it (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def requests_seen() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, requests_seen: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    opened = context.new_page()
    opened.on("request", lambda request: requests_seen.append(request.url))
    yield opened
    context.close()


def test_a_client_finds_what_they_owe_and_how_to_pay(page, base, requests_seen):
    page.goto(url(base, "brightwater"))
    assert page.locator(".amount-owed").all_inner_texts() == ["£4,878.40"]  # 026 and 033
    page.get_by_role("link", name="HP-2026-026").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Invoice HP-2026-026"
    assert page.locator(".summary .amount-owed").inner_text() == "£3,558.40"
    # Late: its plans' first instalments have passed, so only paying in full is offered.
    options = page.locator(".pay .option h3").all_inner_texts()
    assert options == ["Pay in full", "Bank transfer"]
    card = page.get_by_role("link", name="Pay £3,558.40 by card")  # fees included, as asked
    assert card.get_attribute("href") == (
        "https://buy.stripe.com/test_DEMO_HP-2026-026_full"
        "?client_reference_id=HP-2026-026&prefilled_email=priya%40brightwater.example.com"
    )
    page.go_back()
    page.get_by_role("link", name="HP-2026-033").click()
    options = page.locator(".pay .option h3").all_inner_texts()
    assert options == ["Pay in full", "3 monthly instalments", "Bank transfer"]
    assert page.get_by_role("link", name="Pay £1,293.60 by card").count() == 1  # discount taken
    plan = page.get_by_role("link", name="Pay the first instalment by card")
    assert plan.get_attribute("href", timeout=1000).startswith(
        "https://buy.stripe.com/test_DEMO_HP-2026-033_three-monthly-1?client_reference_id=HP-2026-033"
    )
    assert page.locator(".schedule").first.inner_text().split() == [
        "#", "Due", "Amount",
        "1", "18", "Dec", "2026", "£440.00",
        "2", "18", "Jan", "2027", "£440.00",
        "3", "18", "Feb", "2027", "£440.00",
    ]  # fmt: skip
    assert all(seen.startswith(base) for seen in requests_seen), requests_seen


def test_a_german_client_reads_german(page, base, requests_seen):
    page.goto(url(base, "kessler", "HP-2026-029.html"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Zahlungswege").is_visible()
    assert page.locator(".summary .amount-owed").inner_text() == "3.000,00\xa0€"
    assert page.locator(".summary .as-of").inner_text() == (
        "Rate 2, fällig am 30. November 2026. Insgesamt noch 6.000,00\xa0€ offen."
    )
    # The structured creditor reference (ISO 11649) the bank carries back, in groups of four.
    reference = grouped(invoice_reference("HP-2026-029"))
    assert reference == "RF07 HP20 2602 9"
    assert f"Verwendungszweck\n{reference}" in page.locator(".bank dl").inner_text()
    assert page.locator("svg.qr title").text_content() == "EPC-QR-Code für eine SEPA-Überweisung"
    # The code as Chromium draws it, read as a banking app would: the instalment due.
    drawn = Image.open(io.BytesIO(page.locator("svg.qr").screenshot()))
    found = zxingcpp.read_barcode(drawn)
    assert found is not None
    # The RF reference in the structured-reference field, the same the page shows.
    assert found.bytes.split(b"\n")[5:] == [
        b"Harbour & Pine Studio Ltd", b"DE89370400440532013000", b"EUR3000", b"",
        reference.replace(" ", "").encode(),
    ]  # fmt: skip
    assert page.locator("svg.qr").bounding_box()["width"] == 160  # its whole box: 10rem
    assert all(seen.startswith(base) for seen in requests_seen), requests_seen


def test_every_page_loads_only_from_this_site(page, base, requests_seen):
    for client_id in ("brightwater", "kessler", "tanaka", "atelier-morel"):
        page.goto(url(base, client_id))
        for link in page.locator("table.invoices a, ul.settled a").all():
            href = link.get_attribute("href")
            assert href is not None
            page.goto(url(base, client_id, href))
            page.go_back()
    assert len(requests_seen) > 10
    assert all(seen.startswith(base) for seen in requests_seen), [
        seen for seen in requests_seen if not seen.startswith(base)
    ]


PAGES = [
    ("home", None, ""),
    ("client-en", "brightwater", ""),
    ("invoice-overdue-en", "brightwater", "HP-2026-026.html"),
    ("invoice-discount-en", "brightwater", "HP-2026-033.html"),
    ("invoice-plan-de", "kessler", "HP-2026-029.html"),
    ("invoice-fr", "atelier-morel", "HP-2026-030.html"),
    ("invoice-paid-jpy", "tanaka", "HP-2026-018.html"),
    ("dashboard", "the business", ""),
]


@pytest.mark.parametrize(("name", "client_id", "file"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_pass_an_accessibility_audit(browser, base, name, client_id, file):
    # The audit is a script; the pages' own policy forbids scripts, so this context sets it aside.
    context = browser.new_context(bypass_csp=True)
    audited = context.new_page()
    audited.goto(url(base, client_id, file) if client_id else base)
    audited.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = audited.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
    )
    context.close()
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(("name", "client_id", "file"), PAGES[1:5], ids=[p[0] for p in PAGES[1:5]])
def test_screenshots(browser, base, width, name, client_id, file):
    """Pictures of the pages at phone and desktop width, kept as test artifacts for a person."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    shown = context.new_page()
    shown.goto(url(base, client_id, file))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture = ARTIFACTS / f"{name}-{width}.png"
    shown.screenshot(path=str(picture), full_page=True)
    overflow = shown.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert picture.stat().st_size > 10_000
    assert overflow <= 0, f"{name} is wider than a {width}px screen"


def _read_lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def test_serve_rebuilds_for_an_edit_made_before_it_started_watching(tmp_path):
    # `serve` takes the fingerprint before its first build; an edit made while that build ran, or
    # before the watching began, must still be rebuilt (it once raced with the first poll).
    (tmp_path / "content").mkdir()
    words = tmp_path / "content" / "words.md"
    words.write_text("before\n", encoding="utf-8")
    seen = fingerprint(tmp_path)
    words.write_text("after, longer\n", encoding="utf-8")
    stop = threading.Event()
    rebuilt: list[bool] = []

    def rebuild() -> None:
        rebuilt.append(True)
        stop.set()

    watcher = threading.Thread(target=watch, args=(tmp_path, rebuild, stop, seen, 0.01))
    watcher.start()
    watcher.join(timeout=10)
    stop.set()
    assert rebuilt == [True]


def test_serve_rebuilds_when_the_words_change(tmp_path):
    """`notifier serve` as a person runs it: build, serve, edit a file, see the page change."""
    for part in ("data", "content", "site"):
        shutil.copytree(ROOT / part, tmp_path / part)
    server = subprocess.Popen(
        [sys.executable, "-m", "notifier", "--root", str(tmp_path), "serve", "--port", "0",
         "--as-of", "2026-11-23"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert server.stdout is not None
    threading.Thread(target=_read_lines, args=(server.stdout, lines), daemon=True).start()
    try:
        first = lines.get(timeout=60)
        assert first.startswith("Serving ")
        assert "in demo mode" in first
        pages = dict(lines.get(timeout=5).strip().split(": ", 1) for _ in range(7))
        address = pages["kessler"] + "HP-2026-028.html"
        assert address.startswith("http://127.0.0.1:")
        assert "Zahlungsbedingungen" in urllib.request.urlopen(address).read().decode()
        terms = tmp_path / "content" / "pages" / "terms.de.md"
        terms.write_text("Zahlbar sofort, ohne Abzug.\n", encoding="utf-8")
        assert lines.get(timeout=60).startswith("Rebuilt: ")
        assert "Zahlbar sofort, ohne Abzug." in urllib.request.urlopen(address).read().decode()
        with pytest.raises(urllib.error.HTTPError) as listing:
            urllib.request.urlopen(address.rsplit("/", 2)[0] + "/")  # the folder of all clients
        assert listing.value.code == 404
    finally:
        server.terminate()
        server.wait(timeout=10)


# Every amount a client must see on an invoice's page: what is owed, the totals of the invoice, what
# each way to pay asks, and what to send by bank transfer.
AMOUNTS = ".summary .amount-owed, table.lines td.num, table.lines tfoot td, .pay .option p, .amount-to-send"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(
    ("client_id", "file"),
    [("brightwater", "HP-2026-026.html"), ("brightwater", "HP-2026-033.html"),
     ("kessler", "HP-2026-029.html"), ("atelier-morel", "HP-2026-030.html")],
)  # fmt: skip
def test_every_amount_is_on_screen_without_scrolling_sideways(
    browser, base, width, client_id, file
):
    context = browser.new_context(viewport={"width": width, "height": 844})
    shown = context.new_page()
    shown.goto(url(base, client_id, file))
    sideways = shown.evaluate("document.scrollingElement.scrollWidth - innerWidth")
    boxes = shown.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map(e => {
             const box = e.getBoundingClientRect();
             return [e.innerText.trim().slice(0, 40), box.left, box.right];
           })""",
        AMOUNTS,
    )
    owed = shown.locator(".summary .amount-owed").bounding_box()
    button = shown.locator(".summary .pay-now .button").bounding_box()
    context.close()
    assert sideways <= 0, f"{file} scrolls sideways at {width}px"
    assert len(boxes) > 5
    outside = [(text, left, right) for text, left, right in boxes if left < 0 or right > width]
    assert outside == []
    assert owed is not None
    assert button is not None
    assert button["y"] + button["height"] <= 844, "the pay button is below the fold"
    assert button["y"] > owed["y"]  # under the amount it pays


def test_an_iban_wraps_between_its_groups_of_four(browser, base):
    context = browser.new_context(viewport={"width": 320, "height": 844})
    shown = context.new_page()
    shown.goto(url(base, "kessler", "HP-2026-029.html"))
    iban = shown.locator(".bank .iban").first
    assert iban.inner_text() == "DE89 3704 0044 0532 0130 00"
    lines = shown.evaluate(
        """() => [...document.querySelectorAll('.bank .iban .group')].map(g => {
             const rects = g.getClientRects();
             return rects.length;
           })"""
    )
    context.close()
    assert lines == [1] * 6  # no group is broken across two lines
