"""`make bench`: time notifier on generated books and print one Markdown table (also written to
bench/RESULTS.md with the machine it ran on).

Every command goes through the real command line (`python -m notifier --root DIR ...`) in a fresh
process, with NOTIFIER_SECRET set and `--as-of 2026-11-23`. Each figure is the median of several
runs (BENCH_RUNS, default 3; one for 100,000 invoices, and one when a first run takes over a minute)
and the peak resident memory of the process (`/usr/bin/time -f %M`, else getrusage). A command
that one of the issue's ratios measures runs between two runs of its yardstick, and its ratio is
the median of its runs' ratios to the yardstick runs beside them. The books and sites are written
in memory (/dev/shm, or BENCH_TMP): see `work_folder`.

BENCH_SIZES=1000,10000 limits the sizes (default 1000,10000,100000); BENCH_PARTS=books,send runs
only those parts (of books, reconcile, floors, send, pdf) and prints the table without keeping it.
The floors (bench/floors.py) are the steps under each ratio that its command cannot skip, timed
alone beside the yardstick.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from bench import generate  # noqa: E402

AS_OF = "2026-11-23"
NEXT_DAY = "2026-11-24"
SECRET = "bench secret, not a real one"
EXPORT_ROWS = 1_000_000
SEND_CLIENTS = 1000
TIME = Path("/usr/bin/time")
SLOW = 60.0  # a first run slower than this is not repeated
PARTS = ("books", "reconcile", "floors", "send", "pdf")


@dataclass
class Row:
    command: str
    size: str
    seconds: float
    mib: float
    runs: int
    target: str
    verdict: str
    note: str = ""
    cpu: float = float("nan")  # median CPU seconds (user + system, children included)
    pdfs: int = 0  # PDFs the build printed (or, stubbed, would have)
    ratio: float = float("nan")  # median CPU ratio to the yardstick runs beside each run
    wall_ratio: float = float("nan")  # the same, of wall seconds
    yardstick_cpu: float = float("nan")  # median CPU seconds of the yardstick runs beside


def row(
    command: str, size: str, result: Measured, note: str, target: str = "", ok: str = ""
) -> Row:
    """A row of the table from one measurement."""
    return Row(
        command,
        size,
        result.seconds,
        result.mib,
        result.runs,
        target,
        ok,
        note,
        result.cpu,
        ratio=result.ratio,
        wall_ratio=result.wall_ratio,
        yardstick_cpu=result.yardstick_cpu,
    )


def cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "notifier", "--root", str(root), *args]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MiB of one run of `argv` (which must succeed)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = used.ru_utime + used.ru_stime
    if TIME.exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            start = time.perf_counter()
            done = subprocess.run(
                [str(TIME), "-f", "%M", "-o", report.name, *argv],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - start
            kib = int(report.read().strip().splitlines()[-1])
    else:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        # RUSAGE_CHILDREN keeps the largest child so far: exact only while runs grow.
        kib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, peak)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - before  # every process the run waited for
    if done.returncode != 0:
        raise SystemExit(
            f"bench: {' '.join(argv[2:])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return seconds, cpu, kib / 1024


@dataclass(frozen=True)
class Beside:
    """A yardstick run before and after each run of a command: `argv`, and `before` to prepare
    each of its runs."""

    argv: list[str]
    before: Callable[[int], None] | None = None


@dataclass(frozen=True)
class Measured:
    """Median wall seconds, peak MiB, the number of runs, median CPU seconds; with a yardstick
    beside, the median of each run's ratio to the yardstick runs just before and after it (CPU,
    then wall)."""

    seconds: float
    mib: float
    runs: int
    cpu: float
    ratio: float = float("nan")
    wall_ratio: float = float("nan")
    yardstick_cpu: float = float("nan")  # the median of the yardstick runs beside


def measure(
    argv: list[str],
    env: dict[str, str],
    runs: int,
    before: Callable[[int], None] | None = None,
    beside: Beside | None = None,
) -> Measured:
    """Run `argv` `runs` times (fewer if one is slower than `SLOW`); `before(i)` prepares run i.
    With `beside`, the yardstick runs before the first run and after each: the machine's speed
    swings threefold within minutes, so a run is read against the yardstick runs next to it, not
    against one measured minutes before."""
    times, cpus, peaks, ratios, walls, yards = [], [], [], [], [], []
    last: tuple[float, float] | None = None
    if beside is not None:
        last = _yardstick(beside, env, 0)
        yards.append(last[1])
    for index in range(runs):
        if before is not None:
            before(index)
        seconds, cpu, mib = run_once(argv, env)
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(mib)
        line = f"    {' '.join(argv[5:]) or Path(argv[1]).name}: {seconds:.2f} s, {cpu:.2f} s CPU"
        if beside is not None and last is not None:
            after = _yardstick(beside, env, index + 1)
            yards.append(after[1])
            wall, yard = (last[0] + after[0]) / 2, (last[1] + after[1]) / 2
            ratios.append(cpu / yard)
            walls.append(seconds / wall)
            line += f" (÷ {yard:.2f} s CPU beside: {cpu / yard:.2f})"
            last = after
        print(f"{line}, {mib:.0f} MiB", flush=True)
        if seconds > SLOW:
            break
    nan = float("nan")
    return Measured(
        statistics.median(times),
        max(peaks),
        len(times),
        statistics.median(cpus),
        statistics.median(ratios) if ratios else nan,
        statistics.median(walls) if walls else nan,
        statistics.median(yards) if yards else nan,
    )


def _yardstick(beside: Beside, env: dict[str, str], index: int) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the yardstick."""
    if beside.before is not None:
        beside.before(index)
    seconds, cpu, _ = run_once(beside.argv, env)
    return seconds, cpu


YARDSTICK = "yardstick: issue 7's minimal build"
CSV_YARDSTICK = "yardstick: the minimal streamed csv script"
COLD = "build, cold, HTML only (PDFs stubbed)"
COLD_PDF = "build, cold, with real PDFs"
NEXT = "build, the next day"
ONE = "build, one invoice changed, HTML only (PDF stubbed)"
CHECK_COLD = "check, cold (no .cache)"
REMIND = "remind --dry-run"
RECONCILE = f"reconcile {EXPORT_ROWS:,}-row Payments export"


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: `measure` ÷ `yardstick` at most `limit`. Both are CPU seconds
    (user and system, every process of the run): on this shared machine the same command's wall
    time varies twofold or more within minutes as other work comes and goes, its CPU time far less;
    the wall-time ratio is printed beside it."""

    words: str
    measure: str
    yardstick: str
    limit: float


TARGETS = (
    Target("cold build, HTML only ÷ yardstick", COLD, YARDSTICK, 1.5),
    Target("cold build with real PDFs ÷ yardstick", COLD_PDF, YARDSTICK, 20),
    Target("build the next day ÷ yardstick", NEXT, YARDSTICK, 1.0),
    Target("build after one invoice changed ÷ yardstick", ONE, YARDSTICK, 0.15),
    Target("check with no cache ÷ yardstick", CHECK_COLD, YARDSTICK, 0.5),
    Target("remind --dry-run ÷ yardstick", REMIND, YARDSTICK, 0.25),
    Target(
        f"reconcile {EXPORT_ROWS:,} rows ÷ the minimal streamed csv script",
        RECONCILE,
        CSV_YARDSTICK,
        0.5,
    ),
)
RATIO_SIZE = 10_000  # the issue's targets are at 10,000 invoices and 2,000 clients
MEMORY_LIMIT = 512  # MiB, reconcile's peak at 1,000,000 rows


def verdict(command: str, size: int, seconds: float, mib: float, at_10k: dict[str, float]) -> str:
    """At 100,000 invoices: peak under 2 GiB and no worse than linear from 10,000."""
    if size != 100_000:
        return ""
    base = at_10k.get(command)
    return "pass" if mib < 2048 and (base is None or seconds <= 10 * base * 1.1) else "FAIL"


def ratios(rows: list[Row]) -> tuple[str, bool]:
    """The issue's ratios, each with its target and PASS or FAIL, at 10,000 invoices (or at the
    largest size measured below it, for a quick look), and whether all that were measured pass."""
    by_size: dict[str, dict[str, Row]] = {}
    for each in rows:
        by_size.setdefault(each.size, {})[each.command] = each
    sizes = sorted(
        (int(size.replace(",", "")) for size in by_size if size.replace(",", "").isdigit()),
        key=lambda n: (n <= RATIO_SIZE, n if n <= RATIO_SIZE else -n),
    )
    size = f"{sizes[-1]:,}" if sizes else ""
    lines = [
        f"Ratios at {size} invoices (the issue's targets are at {RATIO_SIZE:,}):",
        "",
        "| ratio | CPU | target | result | wall | from (CPU s, wall s) |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    ok = True
    for target in TARGETS:
        measured = by_size.get(size, {}).get(target.measure)
        if measured is None:
            measured = next((r for r in rows if r.command == target.measure), None)
        if measured is None:
            continue
        pair = by_size.get(measured.size, {})
        yardstick = pair.get(target.yardstick) or next(
            (r for r in rows if r.command == target.yardstick), None
        )
        if yardstick is None:
            continue
        cpu, seconds = measured.cpu, measured.seconds
        beside = measured.yardstick_cpu
        ratio, wall = measured.ratio, measured.wall_ratio
        cold = by_size.get(size, {}).get(COLD)
        printed_at = measured.size.split(" ")[0]  # "10,000 (PDFs)": printed at 10,000
        if target.measure == COLD_PDF and printed_at != size and cold and measured.pdfs:
            # Printing measured on smaller books: the cold HTML build of these books, and as
            # many PDFs as it printed (stubbed), at the cost a PDF took there.
            yardstick = by_size.get(size, {}).get(YARDSTICK) or yardstick
            cpu = cold.cpu + cold.pdfs * measured.cpu / measured.pdfs
            seconds = cold.seconds + cold.pdfs * measured.seconds / measured.pdfs
            beside = cold.yardstick_cpu
            ratio = wall = float("nan")
        if math.isnan(beside):
            beside = yardstick.cpu
        if math.isnan(ratio):  # no yardstick run beside each run: the yardstick's own row
            ratio, wall = cpu / beside, seconds / yardstick.seconds
        passed = ratio <= target.limit
        source = f"{cpu:.2f} ÷ {beside:.2f}, {yardstick.size} invoices"
        if not math.isnan(measured.ratio) and cpu == measured.cpu:
            runs = (
                "one run's ratio"
                if measured.runs == 1
                else f"the median of {measured.runs} runs' ratios, each"
            )
            source = (
                f"{runs} to the yardstick runs just before and after it (CPU: {cpu:.2f} s, "
                f"the yardstick {beside:.2f} s), {printed_at} invoices"
            )
        if cpu != measured.cpu:
            source += f" (estimated: {measured.pdfs:,} PDFs printed at {measured.size})"
        if target.measure == RECONCILE:
            passed = passed and measured.mib < MEMORY_LIMIT
            source += f"; peak {measured.mib:.0f} MiB (< {MEMORY_LIMIT} MiB)"
        ok = ok and passed
        lines.append(
            f"| {target.words} | {ratio:.2f} | ≤ {target.limit:g} | "
            f"{'PASS' if passed else 'FAIL'} | {wall:.2f} | {source} |"
        )
    return "\n".join(lines), ok


def edit_one_invoice(root: Path, number: str, index: int) -> None:
    """Change the first unit price of invoice `number` (a different price each run)."""
    for path in sorted((root / "data" / "invoices").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        start = text.find(f"- number: {number}\n")
        if start < 0:
            continue
        found = re.compile(r"unit_price: ([0-9]+)").search(text, start)
        assert found is not None
        price = int(found[1]) + 1 + index
        path.write_text(text[: found.start(1)] + str(price) + text[found.end(1) :], "utf-8")
        return
    raise SystemExit(f"bench: invoice {number} not found")


def books_size(
    root: Path, size: int, rows: list[Row], env: dict[str, str], runs: int, at_10k: dict[str, float]
) -> list[generate.Invoice]:
    print(f"== {size:,} invoices, {size // 5:,} clients", flush=True)
    invoices = generate.write_books(root, size, size // 5, seed=1)
    stub_env = {**env, "PYTHONPATH": str(HERE / "stubs")}
    changed = next(i for i in invoices if i.kind == "overdue").number

    def clean(_: int) -> None:
        for folder in ("public", ".public.notifier", ".cache"):
            shutil.rmtree(root / folder, ignore_errors=True)

    def clean_books_cache(_: int) -> None:
        # What check keeps: the books read, and the reminder texts compiled.
        for kept in ("books", "texts"):
            shutil.rmtree(root / ".cache" / kept, ignore_errors=True)

    def add(command: str, result: Measured, note: str = "") -> None:
        if size == 10_000:
            at_10k[command] = result.seconds
        ok = verdict(command, size, result.seconds, result.mib, at_10k)
        target = "peak < 2 GiB; ≤ 10 × the 10,000 time" if size == 100_000 else ""
        rows.append(row(command, f"{size:,}", result, note, target, ok))

    pages = root.parent / f"yardstick-{size}"
    yardstick = Beside(
        [sys.executable, str(HERE / "yardstick.py"), str(root), str(pages)],
        lambda _: shutil.rmtree(pages, ignore_errors=True),
    )
    # The ratios' commands, each run between two of the yardstick's (not at 100,000 invoices,
    # where no ratio is read and the yardstick alone takes a minute).
    beside = yardstick if size <= RATIO_SIZE else None
    add(
        YARDSTICK,
        measure(yardstick.argv, env, runs, yardstick.before),
        "the machine's speed: C loader and one small Jinja page per invoice, 2 processes, "
        "nothing else (bench/yardstick.py); read the other rows against it",
    )
    shutil.rmtree(pages, ignore_errors=True)
    add(
        CHECK_COLD,
        measure(cli(root, "check"), env, runs, clean_books_cache, beside),
        "every YAML file read and validated (both cores)",
    )
    add("check", measure(cli(root, "check"), env, runs), "books from .cache/books")
    add(
        COLD,
        measure(cli(root, "build", "--as-of", AS_OF), stub_env, runs, clean, beside),
        "no public/, no .cache/ at all; Typst replaced by bench/stubs (18 KiB per PDF)",
    )
    add(
        "build, nothing changed",
        measure(cli(root, "build", "--as-of", AS_OF), env, runs),
        "the inputs' digest matches the last build: the books are not even loaded",
    )
    add(
        "build, one invoice changed",
        measure(
            cli(root, "build", "--as-of", AS_OF),
            env,
            runs,
            lambda i: edit_one_invoice(root, changed, i),
        ),
        f"one unit price of {changed} edited: its file read again, one client and the "
        "dashboard rendered; real Typst prints its one PDF",
    )
    add(
        ONE,
        measure(
            cli(root, "build", "--as-of", AS_OF),
            stub_env,
            runs,
            lambda i: edit_one_invoice(root, changed, runs + i),
            beside,
        ),
        "as above, with Typst replaced by bench/stubs: what the build itself costs",
    )
    pdfs = root / ".cache" / "pdf"
    before = {p.name for p in pdfs.glob("*.pdf")}
    for each in rows:
        if each.command == COLD and each.size == f"{size:,}":
            each.pdfs = len(before)  # what the cold build printed (stubbed)
    next_day = measure(cli(root, "build", "--as-of", NEXT_DAY), stub_env, 1, None, beside)
    after = {p.name for p in pdfs.glob("*.pdf")}
    add(
        NEXT,
        next_day,
        "the daily job: the pages of open invoices change (days overdue, interest); caches warm, "
        f"PDFs stubbed; {len(after - before):,} of {len(after):,} PDFs printed again",
    )
    remind = cli(root, "remind", "--dry-run", "--as-of", AS_OF)
    add(REMIND, measure(remind, env, runs, None, beside))
    return invoices


def reconcile_rows(
    root: Path, export: Path, rows: list[Row], env: dict[str, str], runs: int, count: int
) -> None:
    """Reconcile the export at `export` on a fresh copy of the books each run, the books' cache
    (`.cache/books`) copied with them: the daily workflow restores `.cache` (actions/cache in
    .github/workflows/daily.yml), so in real use reconcile reads the books from it. Reading them
    cold is the `check` with no cache row's measure."""
    work = root.parent / "reconcile-copy"
    books_cache = root / ".cache" / "books"
    if not books_cache.is_dir():
        subprocess.run(cli(root, "check"), env=env, capture_output=True, check=True)

    def fresh(_: int) -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(root / "data", work / "data")
        shutil.copytree(books_cache, work / ".cache" / "books")
        for part in ("content", "site"):
            (work / part).symlink_to(root / part)

    beside = None
    if count == EXPORT_ROWS:
        beside = Beside([sys.executable, str(HERE / "csv_yardstick.py"), str(export)])
        rows.append(
            row(
                CSV_YARDSTICK,
                "10,000",
                measure(beside.argv, env, runs),
                f"the export's {count:,} rows read with the csv module, Decimal amounts, a dict "
                "match, nothing else (bench/csv_yardstick.py)",
            )
        )
    result = measure(cli(work, "reconcile", str(export)), env, runs, fresh, beside)
    shutil.rmtree(work, ignore_errors=True)
    rows.append(
        row(
            RECONCILE if count == EXPORT_ROWS else f"reconcile {count:,}-row Payments export",
            "10,000",
            result,
            "on a fresh copy of the 10,000-invoice books each run, their .cache/books with "
            "them (as the daily workflow restores it); the books read cold: the `check, cold` row",
            "" if count == EXPORT_ROWS else "(memory baseline: flat if the same)",
        )
    )


class _Mailbox:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 Accepted"


def send_row(base: Path, rows: list[Row], env: dict[str, str], runs: int) -> None:
    """Send one reminder to each of 1,000 clients through aiosmtpd on 127.0.0.1 (STARTTLS with a
    throwaway trustme certificate, login), as tests/test_remind_smtp.py does."""
    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    print(f"== sending {SEND_CLIENTS:,} reminders to aiosmtpd", flush=True)
    books = base / "send-books"
    generate.write_books(books, SEND_CLIENTS, SEND_CLIENTS, seed=2, one_reminder_each=True)
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = base / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))

    def login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bench", b"pw")
        return AuthResult(success=ok, handled=False)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = _Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=login,
        auth_require_tls=True,
    )
    controller.start()
    send_env = {
        **env,
        "SSL_CERT_FILE": str(ca_file),
        "NOTIFIER_SMTP_URL": f"smtp://bench:pw@127.0.0.1:{port}?timeout=30",
    }
    work = base / "send-copy"

    def fresh(_: int) -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(books / "data", work / "data")
        for part in ("content", "site"):
            (work / part).symlink_to(books / part)
        mailbox.count = 0

    try:
        result = measure(cli(work, "remind", "--as-of", AS_OF), send_env, runs, fresh)
    finally:
        controller.stop()
    if mailbox.count != SEND_CLIENTS:
        raise SystemExit(f"bench: the server received {mailbox.count} messages, not {SEND_CLIENTS}")
    rate = SEND_CLIENTS / result.seconds
    rows.append(
        row(
            f"remind: send {SEND_CLIENTS:,} emails over SMTP",
            f"{SEND_CLIENTS:,} clients",
            result,
            f"{rate:.0f} messages/s, one connection, STARTTLS + login",
            "≥ 50 messages/s",
            "pass" if rate >= 50 else "FAIL",
        )
    )


def pdf_row(base: Path, rows: list[Row], env: dict[str, str], size: int) -> None:
    """A cold build with real PDFs, and the yardstick on the same books: what printing costs."""
    root = base / "pdf-books"
    generate.write_books(root, size, max(1, size // 5), seed=1)
    pages = base / "pdf-yardstick"
    beside = Beside(
        [sys.executable, str(HERE / "yardstick.py"), str(root), str(pages)],
        lambda _: shutil.rmtree(pages, ignore_errors=True),
    )
    result = measure(cli(root, "build", "--as-of", AS_OF), env, 1, None, beside)
    shutil.rmtree(pages, ignore_errors=True)
    label = f"{size:,} (PDFs)"
    yardstick = Measured(float("nan"), float("nan"), 2, result.yardstick_cpu)
    rows.append(row(YARDSTICK, label, yardstick, "the runs before and after the row below"))
    printed = len(list((root / ".cache").rglob("*.pdf")))
    note = f"{printed:,} PDFs printed: {result.cpu / max(printed, 1):.3f} s of CPU a PDF"
    rows.append(row(COLD_PDF, label, result, note))
    rows[-1].pdfs = printed
    shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Step:
    """One step of bench/floors.py: its median CPU seconds and the median of its ratio to the
    yardstick runs before and after each run."""

    cpu: float
    ratio: float


# The steps under each ratio that its command cannot skip, however the rest is done (the PDFs'
# floor is Typst's own time: the cold build with real PDFs less the one with PDFs stubbed).
FLOORS = (
    (CHECK_COLD, ("start", "parse", "validate")),
    (COLD, ("start", "parse", "validate", "account", "pages")),
    (NEXT, ("start", "books", "account")),
    (ONE, ("start", "books")),
    (REMIND, ("start", "books", "reminders")),
    (RECONCILE, ("start", "books", "export")),
)


def floor_steps(
    root: Path, export: Path, env: dict[str, str], runs: int, steps: dict[str, Step]
) -> None:
    """Run bench/floors.py `runs` times on the books at `root` (their cache warm) and `export`,
    each run between two of the yardstick's, into `steps`."""
    print("== floors: the steps no command can skip, each timed alone", flush=True)
    if not (root / ".cache" / "books").is_dir():
        subprocess.run(cli(root, "check"), env=env, capture_output=True, check=True)
    pages = root.parent / "floors-yardstick"
    yardstick = Beside(
        [sys.executable, str(HERE / "yardstick.py"), str(root), str(pages)],
        lambda _: shutil.rmtree(pages, ignore_errors=True),
    )
    argv = [sys.executable, str(HERE / "floors.py"), str(root), str(export), AS_OF]
    found: dict[str, list[tuple[float, float]]] = {}
    last = _yardstick(yardstick, env, 0)[1]
    for index in range(runs):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        after = _yardstick(yardstick, env, index + 1)[1]
        beside = (last + after) / 2
        spent: dict[str, float] = json.loads(done.stdout)
        for name, cpu in spent.items():
            found.setdefault(name, []).append((cpu, cpu / beside))
        print(
            "    floors: "
            + ", ".join(f"{name} {cpu:.2f} s" for name, cpu in spent.items())
            + f" (the yardstick beside: {beside:.2f} s CPU)",
            flush=True,
        )
        last = after
    shutil.rmtree(pages, ignore_errors=True)
    for name, pairs in found.items():
        steps[name] = Step(
            statistics.median(cpu for cpu, _ in pairs),
            statistics.median(ratio for _, ratio in pairs),
        )


def floors(rows: list[Row], steps: dict[str, Step]) -> str:
    """Each ratio's floor: the sum of its steps' ratios, against its target."""
    lines = [
        "Floors at 10,000 invoices: the steps under each ratio that its command cannot skip, "
        "each timed alone (bench/floors.py), as ratios to the yardstick runs beside them:",
        "",
        "| ratio | target | floor | the steps (CPU s) | the floor alone |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    csv_script = next((r for r in rows if r.command == CSV_YARDSTICK), None)
    for target in TARGETS:
        names = dict(FLOORS).get(target.measure)
        if names is None or any(name not in steps for name in names):
            continue
        cpu = sum(steps[name].cpu for name in names)
        floor = sum(steps[name].ratio for name in names)
        if target.measure == RECONCILE:
            if csv_script is None:
                continue
            floor = cpu / csv_script.cpu  # its yardstick is the csv script, not run beside
        parts = " + ".join(f"{name} {steps[name].cpu:.2f}" for name in names)
        lines.append(_floor_line(target, floor, f"{parts} = {cpu:.2f}"))
    pdf = next((r for r in rows if r.command == COLD_PDF and not math.isnan(r.ratio)), None)
    stubbed = next((r for r in rows if r.command == COLD and r.size == "10,000"), None)
    if pdf is not None and stubbed is not None and not math.isnan(stubbed.ratio):
        target = next(t for t in TARGETS if t.measure == COLD_PDF)
        typst = pdf.ratio - stubbed.ratio
        lines.append(
            _floor_line(
                target,
                typst,
                f"Typst printing {pdf.pdfs:,} PDFs: the ratio with real PDFs ({pdf.ratio:.2f}) "
                f"less the one with PDFs stubbed ({stubbed.ratio:.2f})",
            )
        )
    return "\n".join(lines)


def _floor_line(target: Target, floor: float, steps: str) -> str:
    verdict = "above the target: FAIL whatever the rest costs" if floor > target.limit else "under"
    return f"| {target.words} | ≤ {target.limit:g} | {floor:.2f} | {steps} | {verdict} |"


def guard(rows: list[Row], what: str, step: Callable[..., None], *args: Any) -> None:
    """Run one measurement; a failure is a row of the table, not the end of the benchmark."""
    try:
        step(*args)
    except (Exception, SystemExit) as error:
        print(f"bench: {what} failed: {error}", file=sys.stderr, flush=True)
        note = str(error).replace("\n", " ").replace("|", "/")[:300]
        rows.append(Row(what, "", float("nan"), float("nan"), 0, "", "ERROR", note))


def table(rows: list[Row]) -> str:
    lines = [
        "| command | size (invoices) | median s | CPU s | peak MiB | runs | target | result | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for each in rows:
        lines.append(
            f"| {each.command} | {each.size} | {each.seconds:.2f} | {each.cpu:.2f} | "
            f"{each.mib:.0f} | {each.runs} | {each.target} | {each.verdict} | {each.note} |"
        )
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def work_folder() -> str | None:
    """Where the books and sites are written: BENCH_TMP, else /dev/shm when it is a memory file
    system with room, else the system's temporary folder. On this project's machine, creating a
    small file on the disk cost 0.2 to 0.6 ms of system CPU, rising and falling from one minute
    to the next (10,000 files: 2.2 to 6.4 s), against 0.03 ms in memory: on the disk, the
    yardstick's CPU swung threefold with it, and every ratio with the yardstick."""
    chosen = os.environ.get("BENCH_TMP")
    if chosen:
        return chosen
    shm = Path("/dev/shm")
    try:
        room = shutil.disk_usage(shm).free
    except OSError:
        return None
    return str(shm) if room > 12 * 2**30 and os.access(shm, os.W_OK) else None


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s]
    parts = set(os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(","))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    env = {**os.environ, "NOTIFIER_SECRET": SECRET}
    env.pop("PYTHONPATH", None)
    # Bytecode is kept, as on a user's machine and in CI after the first command: without it every
    # run compiled notifier's 60 modules again (0.1 s of each).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    rows: list[Row] = []
    steps: dict[str, Step] = {}
    at_10k: dict[str, float] = {}
    base = Path(tempfile.mkdtemp(prefix="notifier-bench-", dir=work_folder()))
    print(f"bench: working in {base}", flush=True)
    started = time.perf_counter()
    try:
        for size in sorted(sizes):
            root = base / f"books-{size}"
            if "books" in parts:
                count = 1 if size >= 100_000 else runs
                invoices = books_size(root, size, rows, env, count, at_10k)
            elif size == 10_000 and parts & {"reconcile", "floors"}:
                invoices = generate.write_books(root, size, size // 5, seed=1)
            if size == 10_000 and parts & {"reconcile", "floors"}:
                print(f"== reconcile: writing a {EXPORT_ROWS:,}-row export", flush=True)
                export = base / "stripe-payments.csv"
                generate.write_export(export, invoices, EXPORT_ROWS, seed=1)
            if size == 10_000 and "floors" in parts:
                guard(rows, "floors", floor_steps, root, export, env, runs, steps)
            if size == 10_000 and "reconcile" in parts:
                small = base / "stripe-payments-100k.csv"
                generate.write_export(small, invoices, EXPORT_ROWS // 10, seed=1)
                guard(
                    rows,
                    "reconcile",
                    reconcile_rows,
                    root,
                    small,
                    rows,
                    env,
                    1,
                    EXPORT_ROWS // 10,
                )
                guard(
                    rows,
                    "reconcile",
                    reconcile_rows,
                    root,
                    export,
                    rows,
                    env,
                    runs,
                    EXPORT_ROWS,
                )
            if size != 100_000:
                shutil.rmtree(root, ignore_errors=True)
        if "send" in parts:
            guard(rows, "send", send_row, base, rows, env, runs)
        if "pdf" in parts:
            pdf_size = int(os.environ.get("BENCH_PDF_SIZE", "10000"))
            guard(rows, "build with PDFs", pdf_row, base, rows, env, pdf_size)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    body = table(rows)
    summary, _ = ratios(rows)
    if steps:
        summary += "\n\n" + floors(rows, steps)
    print()
    print(body)
    print()
    print(summary)
    minutes = (time.perf_counter() - started) / 60
    if parts != set(PARTS):
        return 0  # a part of the benchmark: printed, not kept
    results = HERE / "RESULTS.md"
    # What was written by hand after the tables (from the first `## ` heading) is kept.
    kept = results.read_text(encoding="utf-8") if results.exists() else ""
    kept = kept[kept.index("\n## ") :] if "\n## " in kept else ""
    results.write_text(
        "# Benchmark results\n\n"
        f"Machine: {machine()}. Sizes: {', '.join(f'{s:,}' for s in sorted(sizes))} invoices "
        f"(clients = invoices / 5); the whole run took {minutes:.0f} min. Produced by `make bench` "
        "(bench/run.py); the issue's targets are ratios at 10,000 invoices.\n\n"
        + summary
        + "\n\n"
        + body
        + "\n"
        + kept,
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
