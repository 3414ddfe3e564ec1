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
import math
import re
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser

import feedparser
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from feeds.fetch import BadURL, FetchError, FetchResult, FetchTimeout, check_url, fetch, normalize_url

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
# Announced feeds checked at the same time (they usually live on one server).
PARALLEL_CHECKS = 4
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


class DiscoveryTimedOut(FetchTimeout):
    """Discovery's time budget ran out before every candidate was checked.

    ``found`` holds the feeds checked in time and ``unchecked`` the addresses
    that were not; the message lists both, so the member can paste one. The
    caller saves nothing: picking among half the candidates is the member's
    call, not ours.
    """

    def __init__(
        self,
        *,
        url: str,
        budget_seconds: float,
        found: Sequence[Candidate] = (),
        unchecked: Sequence[str] = (),
    ) -> None:
        self.found = list(found)
        self.unchecked = list(unchecked)
        seconds = {"seconds": f"{budget_seconds:g}"}
        if not self.unchecked:  # the page itself did not answer in time
            message = (
                ngettext(
                    "The site took longer than %(seconds)s second to answer, so plnorg stopped waiting and "
                    "saved nothing. Try again later, or paste the address of the feed itself.",
                    "The site took longer than %(seconds)s seconds to answer, so plnorg stopped waiting and "
                    "saved nothing. Try again later, or paste the address of the feed itself.",
                    math.ceil(budget_seconds),
                )
                % seconds
            )
        else:
            message = ngettext(
                "The site answers slowly: plnorg stopped looking for its feeds after %(seconds)s second "
                "and saved nothing. Feeds found: %(found)s. Not checked in time: %(unchecked)s. "
                "To add one of them, paste its address.",
                "The site answers slowly: plnorg stopped looking for its feeds after %(seconds)s seconds "
                "and saved nothing. Feeds found: %(found)s. Not checked in time: %(unchecked)s. "
                "To add one of them, paste its address.",
                math.ceil(budget_seconds),
            ) % {
                **seconds,
                "found": "; ".join(
                    f"{feed.title} ({feed.url})" if feed.title != feed.url else feed.url for feed in self.found
                )
                or _("none"),
                "unchecked": ", ".join(self.unchecked),
            }
        super().__init__(message, url=url)


def discover(url: str, *, allowed_networks=None, verify=None, deadline_seconds: float | None = None) -> list[Candidate]:
    """The feeds published by the page at ``url``, each one checked to parse.

    Everything, the page and every candidate, happens within one budget
    (``deadline_seconds``, by default the ``DISCOVERY_DEADLINE_SECONDS``
    setting): discovery runs inside a web request, and a site that announces
    ten feeds answering slowly must not hold the web worker until the server
    kills it. Every fetch gets that budget's end as its deadline, and the
    announced feeds are checked a few at a time, in parallel.

    Raises :class:`NoFeedFound` when there is none,
    :class:`DiscoveryTimedOut` (listing what was found and what was not
    checked) when the budget ran out first, and the fetcher's
    :class:`~feeds.fetch.FetchError` subclasses when the page itself cannot
    be fetched (refused address, ...).
    """
    budget = settings.DISCOVERY_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    deadline = time.monotonic() + budget
    options = {"deadline": deadline, "allowed_networks": allowed_networks, "verify": verify}
    try:
        page = fetch(url, accept=PAGE_ACCEPT, deadline_at=deadline, allowed_networks=allowed_networks, verify=verify)
    except FetchTimeout:
        raise DiscoveryTimedOut(url=url, budget_seconds=budget) from None
    page_ok = 200 <= page.status < 300
    if page_ok:
        itself = _parse_feed(page)
        if itself is not None:
            kind, title = itself
            return [Candidate(url=page.permanent_url, title=title or page.permanent_url, kind=kind)]
        linked = _announced_feeds(page)
    else:
        linked = []

    found, unchecked = _checked(linked, **options)
    if unchecked:
        raise DiscoveryTimedOut(url=url, budget_seconds=budget, found=found, unchecked=unchecked)
    if found:
        return found
    fallbacks = _fallback_urls(page.url)
    for position, fallback_url in enumerate(fallbacks):
        found, unchecked = _checked([(fallback_url, "")], **options)
        if unchecked:
            raise DiscoveryTimedOut(url=url, budget_seconds=budget, unchecked=fallbacks[position:])
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


_NOT_CHECKED = object()  # a candidate the budget left no time for


def _checked(
    links: Iterable[tuple[str, str]], *, deadline: float, allowed_networks, verify
) -> tuple[list[Candidate], list[str]]:
    """Fetch each (url, title), in parallel and by ``deadline``; keep those that are feeds.

    Returns the feeds (in page order, without duplicates) and the URLs that
    could not be checked before the deadline.
    """
    unique: list[tuple[str, str, str]] = []  # (key, url, title)
    keys: set[str] = set()
    for link_url, link_title in links:
        key = normalize_url(link_url)
        if key not in keys:
            keys.add(key)
            unique.append((key, link_url, link_title))

    def check(link_url: str) -> FetchResult | object | None:
        try:
            result = fetch(link_url, deadline_at=deadline, allowed_networks=allowed_networks, verify=verify)
        except FetchTimeout:
            return _NOT_CHECKED
        except FetchError:
            return None  # one broken link must not hide the others
        return result if 200 <= result.status < 300 else None

    urls = [link_url for _key, link_url, _title in unique]
    if len(urls) <= 1:
        results = [check(link_url) for link_url in urls]
    else:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_CHECKS, len(urls)), thread_name_prefix="discovery") as pool:
            results = list(pool.map(check, urls))

    candidates: list[Candidate] = []
    unchecked: list[str] = []
    seen: set[str] = set()
    for (key, link_url, link_title), result in zip(unique, results, strict=True):
        if key in seen:  # an earlier link redirected here
            continue
        seen.add(key)
        if result is _NOT_CHECKED:
            unchecked.append(link_url)
            continue
        if result is None:
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
    return candidates, unchecked


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
