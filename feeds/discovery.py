"""Feed discovery: from a site's address to the feeds it publishes.

People paste the address of a blog, a podcast page or a YouTube channel, not
its feed. Discovery reads that page through the safe fetcher and finds the
feeds it announces in ``<link rel="alternate">`` (RSS, Atom, JSON Feed); if
the address is itself a feed, that is the answer; if the page announces
nothing, the usual feed paths (/feed, /rss.xml, /index.xml, ...) are tried.

Every candidate is fetched and parsed before it is offered: pages announce
things that are not feeds (WordPress links its JSON API with
``type="application/json"``), and a 404 behind a link helps nobody.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

import feedparser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feeds.fetch import BadURL, FetchError, FetchResult, check_url, fetch, normalize_url

# Media types announced in <link rel="alternate" type="..."> and the kind of
# feed they promise. The kind reported in a Candidate is what the content
# turned out to be.
FEED_MEDIA_TYPES = {
    "application/rss+xml": "rss",
    "application/rdf+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
}
FALLBACK_PATHS = ("/feed", "/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml")
MAX_LINKED_CANDIDATES = 10
PAGE_ACCEPT = (
    "text/html, application/xhtml+xml;q=0.9, application/rss+xml;q=0.8, "
    "application/atom+xml;q=0.8, application/feed+json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class Candidate:
    """A feed found for a page: where it is, what it is called, what format it is."""

    url: str
    title: str
    kind: str  # "rss", "atom" or "json"


class NoFeedFound(FetchError):
    default_message = gettext_lazy(
        "We couldn't find a feed on that page. If the site has an RSS or Atom link, paste it directly."
    )


def discover(url: str, *, allowed_networks=None, verify=None) -> list[Candidate]:
    """The feeds published by the page at ``url``, each one checked to parse.

    Raises :class:`NoFeedFound` when there is none, and the fetcher's
    :class:`~feeds.fetch.FetchError` subclasses when the page itself cannot
    be fetched (refused address, timeout, ...).
    """
    page = fetch(url, accept=PAGE_ACCEPT, allowed_networks=allowed_networks, verify=verify)
    page_ok = 200 <= page.status < 300
    if page_ok:
        itself = _parse_feed(page)
        if itself is not None:
            kind, title = itself
            return [Candidate(url=page.permanent_url, title=title or page.permanent_url, kind=kind)]
        linked = _announced_feeds(page)
    else:
        linked = []

    found = _checked(linked, allowed_networks=allowed_networks, verify=verify)
    if found:
        return found
    for fallback_url in _fallback_urls(page.url):
        found = _checked([(fallback_url, "")], allowed_networks=allowed_networks, verify=verify)
        if found:
            return found
    if not page_ok:
        raise NoFeedFound(
            _(
                "The site answered with an error (HTTP %(status)d), and we couldn't find a feed there. "
                "Check the address, or paste the feed's address directly."
            )
            % {"status": page.status},
            url=url,
        )
    raise NoFeedFound(url=url)


def _checked(links: Iterable[tuple[str, str]], *, allowed_networks, verify) -> list[Candidate]:
    """Fetch each (url, title) and keep those that are feeds, without duplicates."""
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for link_url, link_title in links:
        key = normalize_url(link_url)
        if key in seen:
            continue
        seen.add(key)
        try:
            result = fetch(link_url, allowed_networks=allowed_networks, verify=verify)
        except FetchError:
            continue  # one broken link must not hide the others
        if not 200 <= result.status < 300:
            continue
        parsed = _parse_feed(result)
        if parsed is None:
            continue
        kind, feed_title = parsed
        final_key = normalize_url(result.permanent_url)
        if final_key != key and final_key in seen:
            continue
        seen.add(final_key)
        candidates.append(
            Candidate(url=result.permanent_url, title=link_title or feed_title or result.permanent_url, kind=kind)
        )
    return candidates


def _parse_feed(result: FetchResult) -> tuple[str, str] | None:
    """(kind, title) if the body is an RSS, Atom or JSON feed, else None."""
    content = result.content
    start = content.lstrip().removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if start in (b"{", b"["):
        try:
            data = json.loads(content)
        except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
            return None
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, str) and version.startswith("https://jsonfeed.org/version/"):
            title = data.get("title")
            return "json", title.strip() if isinstance(title, str) else ""
        return None
    # Bytes, never str: feedparser then honours the XML encoding declaration.
    headers = {"content-type": result.headers["content-type"]} if "content-type" in result.headers else {}
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    version = parsed.get("version") or ""
    if not version:
        return None
    return ("atom" if version.startswith("atom") else "rss"), (parsed.feed.get("title") or "").strip()


class _FeedLinkParser(HTMLParser):
    """Collects <base href> and <link rel="alternate" type="(feed type)"> from a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.links: list[tuple[str, str]] = []  # (href, title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: (value or "") for name, value in attrs}
        if tag == "base" and self.base_href is None and attributes.get("href", "").strip():
            self.base_href = attributes["href"].strip()
        elif tag == "link":
            rels = attributes.get("rel", "").lower().split()
            media_type = attributes.get("type", "").split(";")[0].strip().lower()
            href = attributes.get("href", "").strip()
            if "alternate" in rels and media_type in FEED_MEDIA_TYPES and href:
                self.links.append((href, " ".join(attributes.get("title", "").split())))


def _announced_feeds(page: FetchResult) -> list[tuple[str, str]]:
    """The feed links a page announces, as absolute (url, title) pairs."""
    parser = _FeedLinkParser()
    parser.feed(_decode_html(page))
    parser.close()
    base = urllib.parse.urljoin(page.url, parser.base_href) if parser.base_href else page.url
    links = []
    for href, title in parser.links:
        absolute = urllib.parse.urljoin(base, href)
        try:
            check_url(absolute)
        except BadURL:
            continue  # javascript:, data:, garbage
        links.append((absolute, title))
    return links[:MAX_LINKED_CANDIDATES]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def _decode_html(page: FetchResult) -> str:
    content = page.content
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    declared = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", page.headers.get("content-type", ""), re.IGNORECASE)
    meta = _META_CHARSET.search(content[:4096])
    for name in (declared.group(1) if declared else None, meta.group(1).decode("ascii") if meta else None):
        if name:
            try:
                return content.decode(codecs.lookup(name).name, errors="replace")
            except LookupError:
                continue
    return content.decode("utf-8", errors="replace")


def _fallback_urls(page_url: str) -> list[str]:
    """The usual feed paths, next to the page first (a /blog/ section), then at the root."""
    parts = urllib.parse.urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}"
    directory = parts.path if parts.path.endswith("/") else parts.path.rsplit("/", 1)[0] + "/"
    urls = []
    if directory != "/":
        urls += [root + directory.rstrip("/") + path for path in FALLBACK_PATHS]
    urls += [root + path for path in FALLBACK_PATHS]
    return urls
