"""The words of each stage: `content/reminders/TEXT.LANG.md`, YAML front matter with a `subject`
(or `title`, for the notice letter) over a Markdown body with Jinja placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


class TextError(ValueError):
    """A stage's words are missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Text:
    path: str  # relative to the books' root, for messages
    language: str
    subject: str
    body: str


def text_path(name: str, language: str) -> str:
    return f"content/reminders/{name}.{language}.md"


def load_text(root: Path, name: str, language: str, fallback: str) -> Text:
    """The words `name` in `language`, else in `fallback` (the business's language)."""
    for lang in dict.fromkeys((language, fallback)):
        path = text_path(name, lang)
        if (root / path).is_file():
            return parse_text(path, lang, (root / path).read_text(encoding="utf-8"))
    raise TextError(f"{text_path(name, fallback)} is missing")


@lru_cache(maxsize=256)
def parse_text(path: str, language: str, source: str) -> Text:
    """Split front matter from body; the front matter must give a `subject` (or `title`).
    Parsed once per source: a run asks for the same few texts for every client."""
    if not source.startswith("---\n"):
        raise TextError(f"{path}: expected front matter starting with `---` and a `subject:`")
    end = source.find("\n---\n", 4)
    if end < 0:
        raise TextError(f"{path}: the front matter has no closing `---`")
    try:
        front = yaml.safe_load(source[4:end])
    except yaml.YAMLError as error:
        raise TextError(f"{path}: the front matter is not YAML: {error}") from None
    subject = front.get("subject", front.get("title")) if isinstance(front, dict) else None
    if not isinstance(subject, str) or not subject.strip():
        raise TextError(f"{path}: the front matter needs a `subject:`")
    return Text(path, language, subject.strip(), source[end + 5 :].strip() + "\n")
