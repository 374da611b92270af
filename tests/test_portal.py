"""The built portal, checked as files a static host would serve and a client would open."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from html import unescape
from pathlib import Path

import icalendar
import pypdf
import pytest

from notifier import addresses
from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.portal.site import build_site
from tests.qr import read_svg
from tests.scratch import example_books

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATE = date(2026, 11, 23)
SECRET_TEXT = "test-secret-do-not-publish-0123456789"
SECRET = Secret(SECRET_TEXT.encode(), demo=False)


def token(client_id: str, rotation: int = 0) -> str:
    return addresses.client_token(SECRET, client_id, rotation)


def cli_build(
    root: Path, out: Path, *extra: str, secret: str | None = SECRET_TEXT, cache: Path | None = None
):
    env = {k: v for k, v in os.environ.items() if k != "NOTIFIER_SECRET"}
    if secret is not None:
        env["NOTIFIER_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "build", "--out", str(out),
         "--as-of", DEMO_DATE.isoformat(), "--cache", str(cache or out.parent / "cache"), *extra],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PDF cache for the module: printing is the slow part, and its output is deterministic."""
    return tmp_path_factory.mktemp("pdf-cache")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> Path:
    out = tmp_path_factory.mktemp("site") / "public"
    result = cli_build(ROOT, out, cache=cache)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Built 26 pages for 7 clients as of 2026-11-23: 65 files written, 0 removed, 0 unchanged.\n"
    )
    return out


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def html_pages(site: Path) -> dict[str, str]:
    return {name: data.decode() for name, data in files(site).items() if name.endswith(".html")}


def page(site: Path, client_id: str, name: str = "index.html") -> str:
    return (site / "p" / token(client_id) / name).read_text(encoding="utf-8")


def text(html: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_without_a_secret_nothing_is_built_unless_demo_is_asked_for(tmp_path, cache):
    result = cli_build(ROOT, tmp_path / "public", secret=None, cache=cache)
    assert result.returncode == 2
    assert "NOTIFIER_SECRET is not set" in result.stderr
    assert not (tmp_path / "public").exists()
    demo = cli_build(ROOT, tmp_path / "public", "--demo", secret=None, cache=cache)
    assert demo.returncode == 0, demo.stderr
    assert "(demo mode: addresses are public)" in demo.stdout
    pages = html_pages(tmp_path / "public")
    assert all('<p class="demo" role="note">' in html for html in pages.values())
    home = text(pages["index.html"])
    assert "Demo: these pages were built without a secret key" in home


def test_the_real_site_says_nothing_of_demo_mode(site):
    assert not any('class="demo"' in html for html in html_pages(site).values())


def test_each_client_has_one_folder_at_an_unguessable_address(site):
    books, _ = check_books(ROOT)
    folders = sorted(p.name for p in (site / "p").iterdir())
    expected = sorted(token(c) for c in books.clients)
    assert folders == expected
    assert all(re.fullmatch(r"[a-z2-7]{32}", name) for name in folders)  # 160 bits
    assert not (site / "p" / "index.html").exists()


def test_no_page_lists_the_clients(site):
    books, _ = check_books(ROOT)
    home = (site / "index.html").read_text()
    for client in books.clients.values():
        assert client.name not in home
        assert token(client.id) not in home
    assert (site / "robots.txt").read_text() == "User-agent: *\nDisallow: /\n"


def test_every_page_keeps_itself_private(site):
    for name, html in html_pages(site).items():
        html = unescape(html)
        assert '<meta name="robots" content="noindex, nofollow, noarchive">' in html, name
        assert '<meta name="referrer" content="no-referrer">' in html, name
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in html, (
            name
        )
        assert "<script" not in html, name
    headers = (site / "_headers").read_text()
    assert "Referrer-Policy: no-referrer" in headers
    assert "X-Robots-Tag: noindex" in headers


def test_no_page_loads_anything_from_another_host(site):
    for name, html in html_pages(site).items():
        for attribute, url in re.findall(r'\b(src|href)="([^"]+)"', html):
            if url.startswith(("mailto:", "https://buy.stripe.com/")) and attribute == "href":
                continue  # a link the client may follow, not something the page loads
            assert not re.match(r"^[a-z]+:|^//", url), f"{name} refers to {url}"


def test_nothing_of_another_client_is_in_a_client_folder(site):
    books, _ = check_books(ROOT)
    for client in books.clients.values():
        own = site / "p" / token(client.id)
        own_text = "".join(
            data.decode() for name, data in files(own).items() if not name.endswith(".pdf")
        )
        for other in books.clients.values():
            if other.id == client.id:
                continue
            assert other.name not in own_text
            for contact in other.contacts:
                assert not contact.email or contact.email not in own_text
            for invoice in books.invoices.values():
                if invoice.client == other.id:
                    assert invoice.number not in own_text


def test_the_secret_is_nowhere_in_the_output(site):
    for name, data in files(site).items():
        assert SECRET_TEXT.encode() not in data, name


def test_the_site_holds_no_hidden_file(site):
    """Static hosts publish hidden files too (GitHub Pages' artifact does): what the build keeps
    for itself, such as the manifest naming every client's address, lives beside the site."""
    assert [p.name for p in site.rglob(".*")] == []
    manifest = (site.parent / ".public.notifier" / "manifest").read_text(encoding="utf-8")
    assert f"p/{token('kessler')}/index.html" in manifest.split()


def test_the_same_books_give_byte_identical_sites(tmp_path, site):
    again = cli_build(ROOT, tmp_path / "public")  # its own, empty PDF cache
    assert again.returncode == 0, again.stderr
    assert files(tmp_path / "public") == files(site)


def test_a_build_with_nothing_changed_writes_nothing(tmp_path, cache):
    books, _ = check_books(ROOT)
    out = tmp_path / "public"
    first = build_site(ROOT, books, DEMO_DATE, SECRET, out, cache)
    assert len(first.changed) == first.written
    times = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    second = build_site(ROOT, books, DEMO_DATE, SECRET, out, cache)
    assert (second.changed, second.removed, second.rendered) == ((), (), 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == times
    later = build_site(ROOT, books, date(2026, 11, 24), SECRET, out, cache)
    assert 0 < len(later.changed) < later.written  # interest moved on; paid invoices did not


def test_rotating_one_client_moves_only_that_client(tmp_path, cache):
    root = example_books(tmp_path)
    out = tmp_path / "public"
    books, _ = check_books(root)
    build_site(root, books, DEMO_DATE, SECRET, out, cache)
    clients = root / "data" / "clients.yaml"
    clients.write_text(
        clients.read_text().replace("- id: tanaka\n", "- id: tanaka\n  page_rotation: 1\n")
    )
    books, problems = check_books(root)
    assert problems == []
    result = build_site(root, books, DEMO_DATE, SECRET, out, cache)
    assert not (out / "p" / token("tanaka")).exists()
    assert (out / "p" / token("tanaka", 1) / "index.html").is_file()
    assert (out / "p" / token("kessler") / "index.html").is_file()
    assert all(token("tanaka") in name for name in result.removed)
    assert (
        len(result.removed) == 11
    )  # the client page, 3 invoice pages, 3 PDFs, 2 receipts, 2 calendars


def test_a_german_client_reads_german_with_german_amounts_and_dates(site):
    seen = text(page(site, "kessler", "HP-2026-029.html"))
    assert '<html lang="de">' in page(site, "kessler", "HP-2026-029.html")
    assert "Rechnung HP-2026-029" in seen
    assert (
        "3.000,00 € Rate 2, fällig am 30. November 2026. Insgesamt noch 6.000,00 € offen." in seen
    )
    assert "Zahlungswege" in seen
    assert "Verwendungszweck RF07 HP20 2602 9" in seen  # the RF reference, in groups of four


def test_a_french_client_reads_french(site):
    seen = text(page(site, "atelier-morel", "HP-2026-030.html"))
    assert "Facture HP-2026-030" in seen
    assert "3 650,00 €" in seen.replace("\u202f", " ").replace("\xa0", " ")
    assert "Nous vous enverrons un rappel par e-mail." in seen


def test_the_client_page_shows_what_is_owed_and_a_statement(site):
    seen = text(page(site, "tanaka"))
    assert "What you owe today ¥1,610,712" in seen  # HP-2026-022 with fees, and HP-2026-034's rest
    # Late since when (the due date), never for how many days: the page reads the same each day.
    assert "HP-2026-022 Sep 14, 2026 Overdue ¥1,270,712" in seen
    assert "days late" not in seen
    assert "Opening balance ¥0" in seen
    assert "Closing balance ¥1,590,000" in seen  # 450,000 + 1,250,000 + 640,000 − 450,000 − 300,000
    assert "Paid and closed invoices HP-2026-018 · Paid · ¥450,000" in seen


def test_an_overdue_invoice_shows_fees_interest_and_what_happens_next(site):
    seen = text(page(site, "brightwater", "HP-2026-026.html"))
    assert "Overdue £3,558.40 Owed today; overdue since 4 November 2026." in seen
    assert "Late-payment fee £70.00" in seen
    # Interest is claimed a month after the due date: until then what is owed holds.
    assert "Late-payment interest" not in seen
    assert "Including £70.00 of late-payment fees and interest." in seen
    assert "Interest at 12% a year is added on 3 December 2026 if it is still unpaid." in seen
    assert "24 November 2026 · Follow-up reminder: We will send you a reminder by email." in seen
    assert "3 December 2026 · Phone call: We will call you to talk it over." in seen
    assert (
        "18 December 2026 · Final notice: We will send a formal final notice, giving you until "
        "1 January 2027 to pay." in seen
    )


def test_the_early_payment_discount_is_offered_while_it_lasts(site):
    seen = text(page(site, "brightwater", "HP-2026-033.html"))
    assert "Pay £1,293.60 by 28 November 2026 and save £26.40." in seen
    assert "Amount £1,293.60" in seen  # a bank transfer of what settles the invoice today


def test_plans_are_offered_with_their_schedules_while_these_lie_ahead(site):
    seen = text(page(site, "brightwater", "HP-2026-033.html"))
    assert "3 monthly instalments" in seen
    assert "1 18 Dec 2026 £440.00 2 18 Jan 2027 £440.00 3 18 Feb 2027 £440.00" in seen
    late = text(page(site, "kessler", "HP-2026-028.html"))  # due 18 November: its plans have begun
    assert "6 monthly instalments" not in late
    assert "Wählen Sie diesen Plan" not in late


def test_bank_transfer_and_epc_qr_code_for_euro_invoices(site):
    html = page(site, "kessler", "HP-2026-029.html")
    drawn = re.search(r'<svg [^>]*class="qr">.*?</svg>', html)
    assert drawn is not None
    assert "<title>EPC-QR-Code für eine SEPA-Überweisung</title>" in drawn[0]
    assert read_svg(drawn[0]).bytes == (
        b"BCD\n002\n2\nSCT\nCOBADEFFXXX\nHarbour & Pine Studio Ltd\nDE89370400440532013000\n"
        b"EUR3000\n\nRF07HP2026029"
    )  # the instalment due, and the invoice's RF reference: what the banking app fills in
    assert "<svg" not in page(site, "brightwater", "HP-2026-026.html")  # GBP: no SEPA code


def test_mail_links_name_the_invoice(site):
    html = page(site, "northfield", "HP-2026-024.html")
    assert (
        'href="mailto:sam@harbourpine.example.com?subject=Question%20about%20invoice%20HP-2026-024"'
        in html
    )
    assert "subject=Dispute%20of%20invoice%20HP-2026-024" in html
    assert "subject=Invoice%20HP-2026-024%3A%20I%20will%20pay%20by" in html


def test_the_pdf_is_the_printable_invoice(site):
    pdf = pypdf.PdfReader(site / "p" / token("tanaka") / "HP-2026-022.pdf")
    content = " ".join(p.extract_text() for p in pdf.pages)
    assert "Invoice HP-2026-022" in content
    assert "Tanaka Shoten K.K." in content
    assert "Ways to pay" not in content  # the print stylesheet leaves out what cannot be clicked
    # A document the client keeps: what is owed on it, as the page says (interest is claimed monthly,
    # so it holds until the next claim day), not the days late nor the reminders to come.
    assert "Owed ¥1,270,712" in content
    assert "¥1,270,712" in text(page(site, "tanaka", "HP-2026-022.html"))
    assert "days ago" not in content
    assert "Interest at 8% a year is added on December 14, 2026 if it is still unpaid." in " ".join(
        content.split()
    )
    assert "What happens next" not in content


def test_every_open_invoices_pdf_says_what_its_page_says_is_owed(site):
    """The printed PDFs themselves, read back: what is owed agrees with the page to the unit."""
    checked = 0
    for folder in (site / "p").iterdir():
        for pdf_path in folder.glob("*.pdf"):
            if "-R" in pdf_path.stem:  # a receipt
                continue
            html = (folder / f"{pdf_path.stem}.html").read_text(encoding="utf-8")
            rows = re.findall(r'<tr class="total">.*?<td class="num">(.*?)</td>', html, re.S)
            if len(rows) < 2:  # paid, void: nothing owed
                continue
            owed = re.sub(r"\s|&nbsp;", "", rows[-1])  # as printed, spaces aside
            content = " ".join(p.extract_text() for p in pypdf.PdfReader(pdf_path).pages)
            assert owed in re.sub(r"\s", "", content), (pdf_path.name, owed)
            checked += 1
    assert checked >= 10


def test_the_calendar_holds_each_date_to_pay_by(site):
    calendar = icalendar.Calendar.from_ical(
        (site / "p" / token("kessler") / "HP-2026-029.ics").read_bytes()
    )
    events = [(e.get("dtstart").dt, str(e.get("summary"))) for e in calendar.walk("VEVENT")]
    assert events == [
        (
            date(2026, 10, 30),
            "Rechnung HP-2026-029 von Harbour & Pine Studio bezahlen: 3000.00 EUR",
        ),
        (
            date(2026, 11, 30),
            "Rechnung HP-2026-029 von Harbour & Pine Studio bezahlen: 3000.00 EUR",
        ),
        (
            date(2026, 12, 30),
            "Rechnung HP-2026-029 von Harbour & Pine Studio bezahlen: 3000.00 EUR",
        ),
    ]


def test_words_from_the_books_are_sanitised(tmp_path, cache):
    root = example_books(tmp_path)
    invoices = root / "data" / "invoices" / "2026.yaml"
    hostile = (
        "  notes: |\n"
        "    Thanks! <script>alert(1)</script> [click](javascript:alert(1))\n"
        "    <img src=https://tracker.example/pixel.png>\n"
    )
    invoices.write_text(
        invoices.read_text().replace(
            "- number: HP-2026-024\n  client: northfield\n",
            "- number: HP-2026-024\n  client: northfield\n" + hostile,
        )
    )
    books, problems = check_books(root)
    assert problems == []
    build_site(root, books, DEMO_DATE, SECRET, tmp_path / "public", cache)
    html = (tmp_path / "public" / "p" / token("northfield") / "HP-2026-024.html").read_text()
    assert "Thanks!" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "tracker.example" not in html


def test_the_business_has_its_own_private_dashboard(site):
    folder = addresses.dashboard_page(addresses.dashboard_token(SECRET))
    assert re.fullmatch(r"b/[a-z2-7]{32}/", folder)
    assert [p.name for p in (site / "b").iterdir()] == [folder.split("/")[1]]
    html = (site / folder / "index.html").read_text()
    seen = text(html)
    assert "Receivables as of 23 November 2026" in seen
    assert "In EUR €24,840.34" in seen
    assert "Days sales outstanding 78" in seen
    assert '<title id="aging-EUR-title">Owed by days overdue, in EUR</title>' in html
    assert (
        '<desc id="aging-EUR-desc">not due: €13,450.00; 1-30: €4,290.00; 31-60: €7,100.34;' in html
    )
    assert '<title id="collected-GBP-title">Collected per month, in GBP</title>' in html
    for other in html_pages(site).values():
        assert folder not in other or other == html  # nothing links to it
