"""Cleaning third-party HTML and URLs before plnorg stores or shows them.

Everything that comes from a feed (or any other site) is hostile until it has
been through here. `sanitize_html` keeps a small allowlist of formatting tags
(nh3, a Rust sanitizer: fast and strict), drops dangerous elements together
with their content, allows only http/https/mailto URLs, marks every link
`rel="noopener noreferrer nofollow"`, drops 1×1 tracking images and makes
relative URLs absolute. `clean_url` accepts only plain http(s) URLs.
`plain_text` turns a title that may carry markup into text.
"""

from __future__ import annotations

import html
import re
import urllib.parse

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "dfn", "div",
        "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
        "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var",
    }
)  # fmt: skip
# Dropped together with everything inside them: active content, forms,
# embedded documents, and markup languages with their own attack surface.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "form", "object", "embed", "applet", "svg", "math",
        "noscript", "template", "textarea", "select", "button", "canvas", "title", "head", "noembed", "xmp",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start", "reversed"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
MAX_URL_LENGTH = 2000

_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\s]")
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_IMG_ATTR = re.compile(r'\b(src|width|height)="([^"]*)"')
_TINY = re.compile(r"\s*[01](?:px)?\s*")


def _drop_tracking_images(cleaned: str) -> str:
    """Remove 1×1 (or 0×0) images and images whose URL was refused.

    Runs on nh3's output, where attributes are always double-quoted.
    """

    def keep(match: re.Match) -> str:
        attrs = dict(_IMG_ATTR.findall(match.group()))
        if not attrs.get("src"):
            return ""
        if _TINY.fullmatch(attrs.get("width", "")) and _TINY.fullmatch(attrs.get("height", "")):
            return ""
        return match.group()

    return _IMG_TAG.sub(keep, cleaned)


def _http_base(base_url: str | None) -> str | None:
    if not base_url:
        return None
    return base_url if clean_url(base_url) else None


def _nh3_clean(value: str, base: str | None) -> str:
    return nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        url_relative=("rewrite_with_base", base) if base else "deny",
    )


def sanitize_html(value: str | None, base_url: str | None = None) -> str:
    """Sanitized HTML for third-party markup (feed entries, profile bios ...).

    ``base_url`` (an http(s) URL, usually the entry's link) resolves relative
    links and images; without it relative URLs are removed.
    """
    if not value:
        return ""
    base = _http_base(base_url)
    try:
        cleaned = _nh3_clean(value, base)
    except ValueError:  # nh3 refuses a base it cannot parse (e.g. a hostile host name)
        cleaned = _nh3_clean(value, None)
    if "<img" in cleaned:
        cleaned = _drop_tracking_images(cleaned)
    return cleaned.strip()


def clean_url(url: str | None, base_url: str | None = None) -> str:
    """``url`` if it is a plain absolute http(s) URL (made absolute against
    ``base_url`` when relative), else "". For links, enclosures and images."""
    if not url or not isinstance(url, str):
        return ""
    url = url.strip()
    if base_url and "://" not in url[:12]:
        base = _http_base(base_url)
        if base is None:
            return ""
        url = urllib.parse.urljoin(base, url)
    if len(url) > MAX_URL_LENGTH or _UNSAFE_URL_CHARACTERS.search(url):
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    if "\\" in parts.netloc or "@" in parts.netloc:
        return ""
    return url


def plain_text(value: str | None, *, max_length: int | None = None) -> str:
    """Text without markup: tags removed (script/style with their content),
    entities decoded, whitespace collapsed."""
    if not value:
        return ""
    text = value
    if "<" in text or "&" in text:
        text = html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))
    text = " ".join(text.split())
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text
