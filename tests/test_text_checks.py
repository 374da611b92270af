"""The words in content/reminders/: a text that cannot be parsed or filled in names its file
and the line in it."""

from __future__ import annotations

import pytest

from notifier.reminders import render
from notifier.reminders.texts import TextError, parse_text


def test_a_text_that_cannot_be_filled_in_names_its_line_in_remind_too() -> None:
    source = "---\ntitle: Notice\n---\n\n\nDear {{ client.name }},\n\n{{ clientname }}\n"
    text = parse_text("content/reminders/notice.en.md", "en", source)
    with pytest.raises(TextError) as caught:
        render.render_source(text, {"client": {"name": "Acme"}})
    assert str(caught.value) == (
        "content/reminders/notice.en.md:8: unknown placeholder: 'clientname' is undefined"
    )
