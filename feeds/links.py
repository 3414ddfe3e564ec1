"""Outbound links in entries, for the shared view's "what we are all reading".

Links are read from already-sanitized HTML (so only http/https survive) and
normalized so that the same article shared by two people counts once:
lower-case scheme and host, no default port, no fragment, and no tracking
parameters (``utm_*``, ``fbclid``, ``gclid`` ...).
"""

from __future__ import annotations

import functools
import html
import re
import urllib.parse

from .sanitize import clean_url

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
        "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ref_url", "s_cid", "oly_anon_id", "oly_enc_id",
        "vero_id", "wickedid", "__s", "ck_subscriber_id", "spm",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
MAX_LINKS_PER_ENTRY = 50

_HREF = re.compile(r'<a\b[^>]*?\bhref="([^"]+)"')
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


@functools.lru_cache(maxsize=4096)  # feeds repeat the same links in every entry
def normalize_link(url: str) -> str:
    """The canonical form of an outbound link, or "" if it is not http(s)."""
    url = clean_url(url)
    if not url:
        return ""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        return ""
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        kept = [(name, value) for name, value in pairs if not _is_tracking(name)]
        if len(kept) != len(pairs):
            query = urllib.parse.urlencode(kept)
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", query, ""))


@functools.lru_cache(maxsize=4096)
def link_domain(url: str) -> str:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def extract_links(sanitized_html: str, *, exclude_host: str = "") -> list[str]:
    """Normalized outbound links in sanitized HTML, in order, without repeats.

    Links to ``exclude_host`` (the entry's own site: tags, mentions, "read
    more") are not outbound and are left out.
    """
    if not sanitized_html or "href" not in sanitized_html:
        return []
    exclude = exclude_host.lower().removeprefix("www.")
    found: dict[str, None] = {}
    for raw in _HREF.findall(sanitized_html):
        link = normalize_link(html.unescape(raw))
        if not link or link in found:
            continue
        if exclude and link_domain(link) == exclude:
            continue
        found[link] = None
        if len(found) >= MAX_LINKS_PER_ENTRY:
            break
    return list(found)
