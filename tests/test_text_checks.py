"""`check` looks at the words in content/ (notifier.reminders.text_checks): each text a run can
reach, in each language read, filled in with a sample message that has exactly the placeholders a
real one has. The broken texts and their messages are in tests/broken/ (`text-*`, `terms-*`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier.addresses import Secret
from notifier.books.checks import check_books
from notifier.books.load import Books
from notifier.problems import errors
from notifier.reminders import compose, deliver, render, sample, tasks
from notifier.reminders.notice import notice_request
from notifier.reminders.plan import plan_run
from notifier.reminders.preview import run_moment
from notifier.reminders.text_checks import check_texts, reached
from notifier.reminders.texts import TextError, parse_text
from tests.scratch import example_books


@pytest.fixture
def books(tmp_path: Path) -> Books:
    root = example_books(tmp_path)
    found, problems = check_books(root)
    assert not errors(problems), problems
    return found


def _shape(value: Any) -> Any:
    """What a text can read of `value`: a list's entries' shape, an object's placeholders."""
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, dict):
        return {key: _shape(entry) for key, entry in value.items()}
    if isinstance(value, str | bool | int | render.Dual):
        return type(value).__name__
    return {name: _shape(getattr(value, name)) for name in dir(value) if not name.startswith("_")}


def _real_contexts(books: Books, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The placeholders of every email, task sheet and notice letter a run composes on two days of
    the example books."""
    found: list[dict[str, Any]] = []

    def keeping(real: Any) -> Any:
        def fill(text: Any, context: dict[str, Any]) -> Any:
            found.append(context)
            return real(text, context)

        return fill

    monkeypatch.setattr(compose, "render_source", keeping(render.render_source))
    monkeypatch.setattr(tasks, "render_text", keeping(render.render_text))
    secret = Secret(b"k", demo=False)
    for day in (date(2026, 11, 23), date(2026, 12, 14)):
        plan = plan_run(books, day, run_moment(books, day))
        report = deliver.compose_all(books, plan, run_moment(books, day), secret, with_notice=False)
        assert not report.problems
        finals = [e for e in plan.emails if e.stage and e.stage.deadline_days]
        for email in finals:
            monkeypatch.setattr("notifier.reminders.notice.render", keeping(render.render))
            notice_request(books, email, day, secret)
    return found


def test_the_sample_has_the_placeholders_a_real_message_has(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the composer to give a text a new placeholder, or drop one, the sample (and so
    `check`) would say a sound text is broken, or a broken one sound: this says so first."""
    real = _real_contexts(books, monkeypatch)
    assert settings_of(books).reminders.thanks_within_days
    kinds = {("phone" in c, "deadline" in c, bool(c["received"])) for c in real}
    assert kinds >= {(True, False, False), (False, False, False), (False, True, False)}
    stages = {
        s.deadline_days is not None: s for p in settings_of(books).policies.values() for s in p
    }
    for context in real:
        task = "phone" in context
        use = sample.Use("task" if task else "email", stages["deadline" in context], "en_GB")
        made = sample.contexts(books, use)["full"]
        assert sorted(made) == sorted(context)
        for name, value in context.items():
            if value and made[name]:  # an empty list says nothing of its entries
                assert _fits(_shape(made[name]), _shape(value)), name


def _fits(made: Any, real: Any) -> bool:
    """The same shape, where an empty list (here or deeper) says nothing of its entries."""
    if isinstance(made, list) and isinstance(real, list):
        return not made or not real or _fits(made[0], real[0])
    if isinstance(made, dict) and isinstance(real, dict):
        return made.keys() == real.keys() and all(_fits(made[k], real[k]) for k in made)
    return bool(made == real)


def settings_of(books: Books) -> Any:
    assert books.settings is not None
    return books.settings


def test_the_example_texts_are_sound_and_each_is_reached_in_each_language(books: Books) -> None:
    assert check_texts(books) == []
    on_disk = {
        tuple(p.name.removesuffix(".md").split("."))
        for p in (books.root / "content" / "reminders").glob("*.md")
    }
    found = reached(settings_of(books), books.clients, {language for _, language in on_disk})
    assert set(found) == on_disk


def test_a_text_only_a_clients_language_reads_is_checked(books: Books) -> None:
    """atelier-morel reads French; its friendly reminder is checked, in French formats."""
    text = books.root / "content" / "reminders" / "friendly.fr.md"
    text.write_text(text.read_text(encoding="utf-8") + "\n{{ invoices[0].totl }}\n", "utf-8")
    line = len(text.read_text(encoding="utf-8").splitlines())
    assert [str(p) for p in check_texts(books)] == [
        f"content/reminders/friendly.fr.md:{line}: unknown placeholder `invoices[0].totl`; did you mean `invoices[0].total`?"
    ]


def test_each_text_is_filled_in_once_a_language_however_many_clients_read_it(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(real: Any) -> Any:
        def fill(text: Any, context: dict[str, Any]) -> Any:
            calls.append(text.path)
            return real(text, context)

        return fill

    monkeypatch.setattr(
        "notifier.reminders.text_checks.render_source", counting(render.render_source)
    )
    monkeypatch.setattr("notifier.reminders.text_checks.render_text", counting(render.render_text))
    check_texts(books)
    few = sorted(calls)
    clients = books.root / "data" / "clients.yaml"
    more = [
        {
            "id": f"client-{n}-{locale.lower()}",
            "name": f"Client {n}",
            "locale": locale,
            "contacts": [{"email": f"ap-{n}@client.example"}],
        }
        for n in range(40)
        for locale in ("de_DE", "fr_FR", "en_US")
    ]
    with clients.open("a", encoding="utf-8") as stream:
        stream.write(yaml.safe_dump(more))
    many, problems = check_books(books.root)
    assert not errors(problems), problems
    calls.clear()
    check_texts(many)
    assert sorted(calls) == few
    # Twice each (a full and a lean sample message) for each way a run fills it in.
    written = {name.split(".")[-2] for name in books.content_files if name.startswith("reminders/")}
    assert len(few) == 2 * sum(
        len(uses) for uses in reached(settings_of(books), books.clients, written).values()
    )


def test_a_text_that_cannot_be_filled_in_names_its_line_in_remind_too() -> None:
    source = "---\ntitle: Notice\n---\n\n\nDear {{ client.name }},\n\n{{ clientname }}\n"
    text = parse_text("content/reminders/notice.en.md", "en", source)
    with pytest.raises(TextError) as caught:
        render.render_source(text, {"client": {"name": "Acme"}})
    assert str(caught.value) == (
        "content/reminders/notice.en.md:8: unknown placeholder: 'clientname' is undefined"
    )


def test_the_owners_email_text_is_checked(books: Books) -> None:
    """The owner's email after a run is filled in like any text: a misspelt placeholder is a
    problem `check` names, not a run that fails on the first day it has a call to report."""
    text = books.root / "content" / "reminders" / "owner.en.md"
    text.write_text(text.read_text(encoding="utf-8") + "\n{{ calls[0].phon }}\n", "utf-8")
    line = len(text.read_text(encoding="utf-8").splitlines())
    assert [str(p) for p in check_texts(books)] == [
        f"content/reminders/owner.en.md:{line}: unknown placeholder `calls[0].phon`; did you mean `calls[0].phone`?"
    ]


def _notifier(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "notifier", "--root", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NOTIFIER_SECRET": "x" * 32},
    )


def test_a_texts_problems_are_the_same_from_one_check_to_the_next(tmp_path: Path) -> None:
    """The second check compiles nothing (the texts' templates are kept in .cache/texts), the
    third has lost what the books' cache kept: each says the same problems."""
    root = example_books(tmp_path)
    texts = root / "content" / "reminders"
    friendly, courtesy = texts / "friendly.en.md", texts / "courtesy.en.md"
    friendly.write_text(friendly.read_text().replace("{{ client.contact }}", "{{ client.nme }}"))
    courtesy.write_text(courtesy.read_text().replace("}},", " + 1 }},", 1))
    wanted = [
        "content/reminders/courtesy.en.md:4: cannot be filled in: can only concatenate str (not "
        '"int") to str',
        "content/reminders/friendly.en.md:4: unknown placeholder `client.nme`; did you mean "
        "`client.name`?",
        "2 problems in the books",
    ]
    for _ in range(2):
        done = _notifier(root, "check")
        assert (done.returncode, done.stderr.splitlines()) == (1, wanted)
    assert any((root / ".cache" / "texts").iterdir())
    shutil.rmtree(root / ".cache" / "books")
    done = _notifier(root, "check")
    assert (done.returncode, done.stderr.splitlines()) == (1, wanted)


def test_a_text_edited_between_two_runs_is_used_at_once(tmp_path: Path) -> None:
    root = example_books(tmp_path)
    text = root / "content" / "reminders" / "courtesy.fr.md"
    remind = ("remind", "--as-of", "2026-11-23", "--outbox")
    assert _notifier(root, *remind, str(tmp_path / "first")).returncode == 0
    (email,) = (tmp_path / "first").glob("*.eml")
    assert "Bien à vous et à bientôt" not in email.read_text()
    text.write_text(text.read_text().rstrip("\n") + "\n\nBien à vous et à bientôt.\n")
    assert _notifier(root, *remind, str(tmp_path / "second")).returncode == 0
    (email,) = (tmp_path / "second").glob("*.eml")
    assert "Bien =C3=A0 vous et =C3=A0 bient=C3=B4t." in email.read_text()
    # A mistake made since is said at once, and so is its fix.
    text.write_text(text.read_text().replace("Bien à vous", "{{ client.nickname }}"))
    done = _notifier(root, "check")
    assert done.returncode == 1
    assert "unknown placeholder `client.nickname`" in done.stderr
    text.write_text(text.read_text().replace("{{ client.nickname }}", "Bien à vous"))
    assert _notifier(root, "check").returncode == 0
