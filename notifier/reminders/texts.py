"""The words of each stage: `content/reminders/TEXT.LANG.md`, YAML front matter with a `subject`
(or `title`, for the notice letter) over a Markdown body with Jinja placeholders."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from notifier.books.yamlfile import not_utf8, read_yaml


class TextError(ValueError):
    """A stage's words are missing or malformed; the message names the file (and, made by `at`,
    the line)."""

    path: str = ""
    line: int = 0  # 0: no line (the file is missing)
    field: str = ""  # `subject`, or "" for the file or the body
    reason: str = ""

    @classmethod
    def at(cls, path: str, line: int, reason: str, field: str = "") -> TextError:
        """The error at `path:line`, about `field` (its message reads like a `check` problem)."""
        error = cls(f"{path}:{line}: {field}: {reason}" if field else f"{path}:{line}: {reason}")
        error.path, error.line, error.field, error.reason = path, line, field, reason
        return error


OWNER_TEXT = "owner"  # the words of the owner's email after a run (notifier.reminders.owner)
_BRACE = "must be in quotes when it starts with `{` (YAML reads `{` as the start of a mapping)"


@dataclass(frozen=True)
class Text:
    path: str  # relative to the books' root, for messages
    language: str
    subject: str
    body: str
    subject_line: int = 1  # the file's line of the subject, and of the body's first line
    body_line: int = 1


def text_path(name: str, language: str) -> str:
    return f"content/reminders/{name}.{language}.md"


def load_text(root: Path, name: str, language: str, fallback: str) -> Text:
    """The words `name` in `language`, else in `fallback` (the business's language)."""
    for lang in dict.fromkeys((language, fallback)):
        path = text_path(name, lang)
        if (root / path).is_file():
            return parse_text(path, lang, read_text(root / path, path))
    raise TextError(f"{text_path(name, fallback)} is missing")


def read_text(file: Path, path: str) -> str:
    """The text of `file` (shown as `path`), with `\\n` line ends; TextError if it cannot be read
    or is not UTF-8."""
    try:
        raw = file.read_bytes().removeprefix(codecs.BOM_UTF8)
    except OSError as error:
        raise TextError.at(path, 1, f"cannot be read: {error.strerror or error}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = not_utf8(raw, error.start, path)
        raise TextError.at(path, problem.line, problem.message) from None
    return source.replace("\r\n", "\n").replace("\r", "\n")


@lru_cache(maxsize=256)
def parse_text(path: str, language: str, source: str) -> Text:
    """Split front matter from body; the front matter must give a `subject` (or `title`).
    Parsed once per source: a run asks for the same few texts for every client."""
    if not source.startswith("---\n"):
        raise TextError.at(path, 1, "expected front matter starting with `---` and a `subject:`")
    end = source.find("\n---\n", 4)
    if end < 0:
        raise TextError.at(path, 1, "the front matter has no closing `---`")
    # The front matter starts on the file's second line.
    for line, words in enumerate(source[4:end].split("\n"), 2):
        key, _, value = words.partition(":")
        if key in ("subject", "title") and value.strip().startswith("{"):
            raise TextError.at(path, line, _BRACE, key)
    front, problems = read_yaml(source[4 : end + 1].encode("utf-8"), path)
    if problems:
        raise TextError.at(path, problems[0].line + 1, f"front matter: {problems[0].message}")
    data = front.data if front is not None else None
    if front is None or not isinstance(data, dict) or not ({"subject", "title"} & set(data)):
        raise TextError.at(path, 1, "the front matter needs a `subject:`")
    key = "subject" if "subject" in data else "title"
    subject, subject_line = data[key], front.line((key,)) + 1
    if not isinstance(subject, str):
        raise TextError.at(path, subject_line, "must be text (quote it if it starts with `{`)", key)
    if not subject.strip():
        raise TextError.at(path, subject_line, "is empty", key)
    body = source[end + 5 :]
    # The closing `---` is on line count+2; the body starts after it, past any blank lines.
    body_line = source.count("\n", 0, end) + 3 + body[: len(body) - len(body.lstrip())].count("\n")
    return Text(path, language, subject.strip(), body.strip() + "\n", subject_line, body_line)
