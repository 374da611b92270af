"""Words written in Markdown (a reminder's letter, the payment terms) as blocks a Typst template
lays out: paragraphs of runs of text (bold or not), lists and tables. The Markdown is first made
HTML, sanitised, by the same converter as the emails and pages; Python's HTML parser reads that
HTML back here, so a document shows what the email shows."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

Block = dict[str, Any]


def html_blocks(html: str) -> list[Block]:
    """`html` (paragraphs, lists, tables; bold and line breaks in them) as blocks:
    `{"kind": "paragraph", "runs": [{"text", "strong"}...]}`, `{"kind": "list", "items": [...]}`,
    `{"kind": "table", "header": [...], "rows": [[...]...]}`."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.end_paragraph()
    return reader.blocks


def plain_text(blocks: list[Block]) -> list[str]:
    """Each paragraph of `blocks` as plain text (lists and tables left out)."""
    return [
        "".join(run["text"] for run in block["runs"]).strip()
        for block in blocks
        if block["kind"] == "paragraph"
    ]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._runs: list[dict[str, Any]] = []
        self._strong = 0
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._table: Block | None = None
        self._list: Block | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("strong", "b"):
            self._strong += 1
        elif tag == "br":
            self._text("\n")
        elif tag == "table":
            self.end_paragraph()
            self._table = {"kind": "table", "header": [], "rows": []}
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("ul", "ol"):
            self.end_paragraph()
            self._list = {"kind": "list", "items": []}
        elif tag in ("p", "li", "h1", "h2", "h3", "div"):
            self.end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "b"):
            self._strong = max(0, self._strong - 1)
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if not self._table["header"]:
                self._table["header"] = self._row
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.blocks.append(self._table)
            self._table = None
        elif tag == "li" and self._list is not None:
            self._list["items"].append("".join(r["text"] for r in self._runs).strip())
            self._runs = []
        elif tag in ("ul", "ol") and self._list is not None:
            self.blocks.append(self._list)
            self._list = None
        elif tag in ("p", "h1", "h2", "h3", "div"):
            self.end_paragraph()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif data.strip() or self._runs:
            self._text(" ".join(data.split("\n")) if data.strip() else data)

    def _text(self, text: str) -> None:
        strong = self._strong > 0
        if self._runs and self._runs[-1]["strong"] == strong:
            self._runs[-1]["text"] += text
        else:
            self._runs.append({"text": text, "strong": strong})

    def end_paragraph(self) -> None:
        if self._list is not None:
            return
        runs = [r for r in self._runs if r["text"]]
        if runs and "".join(r["text"] for r in runs).strip():
            runs[0]["text"] = runs[0]["text"].lstrip()
            runs[-1]["text"] = runs[-1]["text"].rstrip()
            self.blocks.append({"kind": "paragraph", "runs": runs})
        self._runs = []
