"""The business's own words from content/: Markdown, rendered and then sanitised.

The Markdown is written by people and may hold anything; only a small set of tags and no scripts,
styles or external resources reach the page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import markdown

from notifier import sanitize


@lru_cache(maxsize=256)
def render_markdown(text: str) -> str:
    """Markdown as sanitised HTML: links keep only http(s) and mailto, and never send a referrer.
    The same text (the terms on every invoice, a note on a page and its PDF) is rendered once."""
    converter = _converter()
    try:
        html = converter.convert(text)
    finally:
        converter.reset()
    return sanitize.clean(html)


@lru_cache(maxsize=1)
def _converter() -> markdown.Markdown:
    # Building a converter costs more than most conversions; one is reused, reset after each.
    return markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")


def localised(content: Path, name: str, language: str, fallback: str) -> str | None:
    """The text of `content/NAME.LANG.md` in `language`, else in `fallback`, else None."""
    for lang in (language, fallback):
        path = content / f"{name}.{lang}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None
