"""Helpers to read pages the way a person does: visible text, links, forms."""

import html
import re
from html.parser import HTMLParser

from django.test import Client

_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def text_of(response_or_html) -> str:
    """The visible text of a page, whitespace collapsed and entities decoded."""
    raw = response_or_html if isinstance(response_or_html, str) else response_or_html.content.decode("utf-8", "replace")
    return " ".join(html.unescape(_TAGS.sub(" ", raw)).split())


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.nav_links: list[str] = []
        self.forms: list[dict] = []
        self._nav_depth = 0
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav":
            self._nav_depth += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            if self._nav_depth:
                self.nav_links.append(a["href"])
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(), "fields": {}}
            self.forms.append(self._form)
        if self._form is not None and tag in ("input", "select", "textarea", "button") and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav_depth -= 1
        if tag == "form":
            self._form = None


def parse_page(response_or_html) -> _Collector:
    raw = response_or_html if isinstance(response_or_html, str) else response_or_html.content.decode("utf-8", "replace")
    collector = _Collector()
    collector.feed(raw)
    return collector


def client_for(who) -> Client:
    """A test client signed in as ``who`` (a user, or a member: its user)."""
    client = Client()
    client.force_login(getattr(who, "user", who))
    return client
