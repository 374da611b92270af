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

# The texts `remind` reads besides the stages' (notifier.reminders: notice.NOTICE_TEXT, plan.THANKS).
NOTICE_TEXT = "notice"
THANKS_TEXT = "thanks"


def language_problems(books: Books) -> Iterator[Problem]:
    """A warning per language some client reads that the theme, the terms or the texts of the
    emails those clients would get lack."""
    settings = books.settings
    if settings is None:
        return
    business = settings.business.locale
    speaks = languages.theme_languages(books.root / "site")
    has_pages = (books.root / "site" / "templates").is_dir()  # books without a theme build none
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
        missing, instead = [], []
        if has_pages and language not in speaks:
            missing.append(f"the theme has no {language} translation (site/locale/{language}/)")
            instead.append("their pages")
        if terms and language not in terms:
            missing.append(f"content/pages/terms.{language}.md is missing")
            if language in speaks:
                instead.append("their payment terms")
        texts = _texts_for(settings, clients)
        absent = [t for t in texts if f"reminders/{t}.{language}.md" not in books.content_files]
        if absent:
            missing.append(f"content/reminders/ has no {language} text for {_listed(absent)}")
            instead.append("their emails" if len(absent) == len(texts) else "those emails")
        if missing:
            yield books.origin(clients[0]).problem(
                f"{_named(clients)} {language}: {_listed(missing, 'and')}; "
                f"{_listed(instead, 'and')} are in {business}",
                "locale",
                warning=True,
            )


def _texts_for(settings: schema.Settings, clients: list[schema.Client]) -> list[str]:
    """The texts of the emails `clients` can get: their policies' email stages, the thank-you and
    the notice letter (when one of their policies has a final notice)."""
    names: list[str] = []
    for policy in dict.fromkeys(c.policy or settings.reminders.policy for c in clients):
        for stage in settings.policies.get(policy, []):
            if stage.channel == "email":
                names.append(stage.text)
                if stage.deadline_days:
                    names.append(NOTICE_TEXT)
    if settings.reminders.thanks_within_days:
        names.append(THANKS_TEXT)
    return list(dict.fromkeys(names))


def _listed(items: list[str], last: str = "or") -> str:
    """`a`, `a and b`, `a, b and c` (or `or`)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _named(clients: list[schema.Client], most: int = 3) -> str:
    """`client `a` reads`, `clients `a` and `b` read`, `clients `a`, `b`, `c` and 2 more read`."""
    named = [f"`{client.id}`" for client in clients[:most]]
    if len(clients) > most:
        named.append(f"{len(clients) - most} more")
    if len(named) == 1:
        return f"client {named[0]} reads"
    return f"clients {', '.join(named[:-1])} and {named[-1]} read"
