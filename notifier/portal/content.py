"""The business's own words from content/: Markdown, rendered and then sanitised.

The Markdown is written by people and may hold anything; only a small set of tags and no scripts,
styles or external resources reach the page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4",
    "blockquote", "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@lru_cache(maxsize=256)
def render_markdown(text: str) -> str:
    """Markdown as sanitised HTML: links keep only http(s) and mailto, and never send a referrer.
    The same text (the terms on every invoice, a note on a page and its PDF) is rendered once."""
    converter = _converter()
    try:
        html = converter.convert(text)
    finally:
        converter.reset()
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


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
