import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from notifier.account import account_of
from notifier.books.checks import check_books
from notifier.report.receivables import build_report

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATE = date(2026, 11, 23)


def run(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), "report", "--as-of", "2026-11-23", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_aging_table_on_the_terminal():
    result = run()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "Receivables as of 2026-11-23"
    aging = lines[: next(i for i, line in enumerate(lines) if line.startswith("└"))]
    cells = [
        [c.strip() for c in line.strip("│ ").split("│")] for line in aging if line.startswith("│")
    ]
    rows = {row[0]: row[1:] for row in cells}
    assert rows["EUR"] == ["13450.00", "4290.00", "7100.34", "0.00", "0.00", "24840.34"]
    assert rows["JPY"] == ["340000", "0", "0", "1270712", "0", "1610712"]


def test_json_gives_exact_amounts_as_text():
    result = run("--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    eur = next(c for c in report["currencies"] if c["currency"] == "EUR")
    # HP-2026-023 is disputed, 44 days past due: aging counts the money, not the reminders.
    assert eur["aging"] == {"current": "13450.00", "1-30": "4290.00", "31-60": "7100.34", "61-90": "0.00", "90+": "0.00"}  # fmt: skip
    assert (
        eur["expected"] == "10450.00"
    )  # HP-2026-029's second instalment, HP-2026-030, HP-2026-032
    assert eur["collected"] == "3000.00"
    assert eur["dso_days"] == 78
    clients = {c["client"]: c for c in report["clients"]}
    assert clients["northfield"]["promises_due"] == ["HP-2026-025 by 2026-11-30"]
    assert clients["harbourside"]["paused_until"] == "2026-12-01"
    assert clients["vandermeer"]["disputes"] == ["HP-2026-023"]
    assert clients["tanaka"]["last_message"] == "2026-10-29 final-notice (sent)"
    assert clients["tanaka"]["rating"] == "often late"
    assert clients["atelier-morel"]["rating"] == "new"
    assert report["collected_by_month"]["GBP"]["2026-06"] == "6480.00"


def test_csv_has_a_row_per_issued_invoice():
    result = run("--csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "invoice,client,currency,status,issue_date,due_date,days_overdue,aging,total,paid,fees,"
        "interest,balance,credited,written_off,credit"
    )
    assert (
        "HP-2026-022,tanaka,JPY,overdue,2026-08-15,2026-09-14,70,61-90,1250000,0,4000,16712,1270712,"
        "0,0,0" in lines
    )
    assert len(lines) == 1 + 16  # 18 invoices, less the draft and the void one


def test_json_and_csv_at_once_is_a_usage_error():
    result = run("--json", "--csv")
    assert result.returncode == 2
    assert result.stderr == "notifier report: choose --json or --csv, not both\n"


def test_tasks_and_unconfirmed_messages_wait_for_a_person(tmp_path):
    for part in ("data", "content"):
        shutil.copytree(ROOT / part, tmp_path / part)
    with (tmp_path / "data" / "records" / "messages.yaml").open("a", encoding="utf-8") as out:
        out.write(
            "- {id: t-1, at: '2026-11-23T08:00:00Z', client: northfield, stage: call, channel: phone, items: [HP-2026-024], status: task}\n"
            "- {id: m-9, at: '2026-11-23T08:05:00Z', client: kessler, stage: follow-up-1, channel: email, items: [HP-2026-028], status: sending}\n"
            "- {id: m-8, at: '2026-11-23T08:06:00Z', client: kessler, stage: courtesy, channel: email, items: [HP-2026-029#2], status: sending}\n"
            "- {id: m-8, at: '2026-11-23T08:06:02Z', client: kessler, stage: courtesy, channel: email, items: [HP-2026-029#2], status: sent}\n"
        )  # fmt: skip
    books, problems = check_books(tmp_path)
    assert [p for p in problems if p.severity == "error"] == []
    tasks = build_report(account_of(books, DEMO_DATE)).tasks
    assert [(t.client, t.kind, t.stage, t.phone) for t in tasks] == [
        ("northfield", "task", "call", "+1 503 555 0142"),
        ("kessler", "check", "follow-up-1", "+49 711 123456"),
    ]
