"""Which hub a fetched feed advertises, and under which topic (WebSub §4).

The HTTP ``Link`` header comes first (the spec: "subscribers MUST check for
HTTP Link headers first"), then the document's own links, which
`feeds.parse` collects (``<link rel="hub">``, ``<atom:link rel="hub">``,
JSON Feed ``hubs``). The topic is the ``rel="self"`` URL; without one, the
feed's own address. Of several hubs the first https one is taken (the spec's
security advice), else the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from feeds.parse import ParsedFeed
from feeds.sanitize import clean_url

URL_MAX_LENGTH = 1000  # the models' URL fields

# One link-value of RFC 8288: <target> followed by ;-separated parameters.
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,\"]*(?:\"(?:[^\"\\]|\\.)*\")?[^;,]*)*)")
_PARAMETER = re.compile(r";\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?")


@dataclass(frozen=True)
class Advertised:
    hub_url: str
    topic_url: str


def header_links(value: str, *, base: str) -> list[tuple[str, frozenset[str]]]:
    """(absolute URL, its rel values, lower-cased) for each link in a Link header."""
    links = []
    for match in _LINK_VALUE.finditer(value or ""):
        rels: set[str] = set()
        for name, raw in _PARAMETER.findall(match.group(2)):
            if name.lower() == "rel":
                text = raw[1:-1] if raw.startswith('"') and raw.endswith('"') and len(raw) > 1 else raw
                rels.update(rel.lower() for rel in text.split())
        url = clean_url(urljoin(base, match.group(1).strip()))
        if url:
            links.append((url, frozenset(rels)))
    return links


def advertised_hub(*, parsed: ParsedFeed, headers: dict[str, str], feed_url: str) -> Advertised | None:
    """The hub and topic to subscribe to, or None when the feed advertises no hub."""
    links = header_links(headers.get("link", ""), base=feed_url)
    header_hubs = [url for url, rels in links if "hub" in rels]
    header_self = next((url for url, rels in links if "self" in rels), "")
    hubs = header_hubs or parsed.hub_urls
    hubs = [url for url in hubs if len(url) <= URL_MAX_LENGTH]
    if not hubs:
        return None
    hub = next((url for url in hubs if url.lower().startswith("https://")), hubs[0])
    topic = next((url for url in (header_self, parsed.self_url) if url and len(url) <= URL_MAX_LENGTH), feed_url)
    return Advertised(hub_url=hub, topic_url=topic)
