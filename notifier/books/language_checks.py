"""`check`'s look at the languages clients read: a client whose language the theme has no
translation for, or no payment terms in, is told once, naming the clients and what is missing and
what they get instead (see `notifier.languages`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from notifier import formatting, languages
from notifier.books import schema
from notifier.books.load import Books
from notifier.problems import Problem


def language_problems(books: Books) -> Iterator[Problem]:
    """A warning per language some client reads that the theme or the terms lack."""
    settings = books.settings
    if settings is None:
        return
    business = settings.business.locale
    speaks = languages.theme_languages(books.root / "site")
    terms = {
        name.removeprefix("pages/terms.").removesuffix(".md")
        for name in books.content_files
        if name.startswith("pages/terms.")
    }
    readers: dict[str, list[schema.Client]] = defaultdict(list)
    for client in books.clients.values():
        if client.locale and formatting.language(client.locale) != formatting.language(business):
            readers[formatting.language(client.locale)].append(client)
    for language, clients in sorted(readers.items()):
        missing = []
        if language not in speaks:
            missing.append(f"the theme has no {language} translation (site/locale/{language}/)")
        if terms and language not in terms:
            missing.append(f"content/pages/terms.{language}.md is missing")
        if not missing:
            continue
        gets = (
            f"their pages are in {business}"
            if language not in speaks
            else f"their payment terms are in {business}"
        )
        first = clients[0]
        yield books.origin(first).problem(
            f"{_named(clients)} {language}: {' and '.join(missing)}; {gets}",
            "locale",
            warning=True,
        )


def _named(clients: list[schema.Client], most: int = 3) -> str:
    """`client `a` reads`, `clients `a` and `b` read`, `clients `a`, `b`, `c` and 2 more read`."""
    named = [f"`{client.id}`" for client in clients[:most]]
    if len(clients) > most:
        named.append(f"{len(clients) - most} more")
    if len(named) == 1:
        return f"client {named[0]} reads"
    return f"clients {', '.join(named[:-1])} and {named[-1]} read"
