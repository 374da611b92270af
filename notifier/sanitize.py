"""The one sanitiser of HTML made from words people wrote (the terms and notes on the pages, the
texts of the emails): a small set of tags, links to http(s) and mailto only, no scripts, styles or
external resources, and links that send no referrer."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "a", "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "hr",
    "h1", "h2", "h3", "h4", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "code", "pre", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"class"},
    "th": {"class"},
    "table": {"class"},
}


def clean(html: str) -> str:
    """`html` with everything else taken out."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
