"""Feed documents (RSS, Atom, RDF, JSON Feed) to clean entries.

`parse_feed(content, url=...)` takes the response bytes and returns a
`ParsedFeed` whose entries are ready to store: titles are plain text, HTML is
sanitized (feeds.sanitize), every URL field is http/https or empty, and each
entry carries its identity and outbound links. Anything unusable raises
`ParseError` with a sentence a member can read.

- feedparser always gets the bytes in ``io.BytesIO``: given a ``str`` it may
  take it for a file path or a URL and open it.
- Documents that declare entities (``<!ENTITY``) are refused before parsing:
  entity expansion ("billion laughs") can eat gigabytes, and external
  entities can read files. Plain DOCTYPEs (RSS 0.91's) are fine.
- feedparser's own sanitizer and relative-URI resolver are switched off:
  nh3 does both, faster and stricter, against the entry's link.
- JSON Feed is parsed here (feedparser does not know it).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .links import extract_links
from .sanitize import clean_url, plain_text, sanitize_html

MAX_ENTRIES = 500
IDENTITY_MAX_LENGTH = 500
TITLE_MAX_LENGTH = 500
AUTHOR_MAX_LENGTH = 300

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html)", re.IGNORECASE | re.DOTALL)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class ParseError(Exception):
    """The document is not a feed plnorg can read; ``str()`` says why, for members."""


@dataclass
class ParsedEntry:
    identity: str
    title: str
    link: str
    author: str
    published_at: datetime | None  # None: no usable date (stored as first seen)
    summary: str
    content: str
    enclosure_url: str = ""
    enclosure_type: str = ""
    image_url: str = ""
    links: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Changes exactly when something we store changes (an edit)."""
        parts = (
            self.title,
            self.link,
            self.author,
            self.published_at.isoformat() if self.published_at else "",
            self.summary,
            self.content,
            self.enclosure_url,
            self.enclosure_type,
            self.image_url,
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class ParsedFeed:
    title: str
    site_url: str
    entries: list[ParsedEntry]
    format: str  # "rss20", "atom10", "rss10" (RDF), "json" ...
    warning: str = ""  # set for "bozo" documents that still yielded entries (the fetch log)
    # For the members who registered the feed (shown with its health): e.g.
    # that only the newest MAX_ENTRIES of a longer document were kept.
    notice: str = ""
    # What the document advertises for WebSub (feeds.websub): its hubs
    # (<link rel="hub">, <atom:link rel="hub">, JSON Feed "hubs") and its
    # canonical "self" URL, absolute http(s) URLs in document order.
    hub_urls: list[str] = field(default_factory=list)
    self_url: str = ""


def entry_identity(*, entry_id: str | None, link: str | None, title: str, published_at: datetime | None) -> str:
    """The entry id, else its link, else a hash of title + published date.

    Never a hash of the content, so an edited post stays the same entry.
    """
    value = (entry_id or "").strip() or (link or "").strip()
    if not value:
        basis = f"{title}\x1f{published_at.isoformat() if published_at else ''}"
        return "sha256:" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()
    if len(value) > IDENTITY_MAX_LENGTH:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return value


def declares_entities(content: bytes) -> bool:
    """True when the document declares entities (in UTF-8/ASCII or UTF-16)."""
    if _ENTITY_DECLARATION.search(content):
        return True
    head = content[:4]
    if head.startswith(_UTF16_BOMS) or (len(head) == 4 and (head[0] == 0 or head[1] == 0)):
        for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                if "<!entity" in content.decode(encoding).lower():
                    return True
            except UnicodeDecodeError:
                continue
    return False


def parse_feed(content: bytes, *, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document. Raises ParseError when it yields nothing usable."""
    return _without_nul(_parse_feed(content, url=url, content_type=content_type))


def _without_nul(parsed: ParsedFeed) -> ParsedFeed:
    """PostgreSQL text cannot hold NUL characters (hostile feeds carry them,
    e.g. as &#0; or \\u0000 in JSON): drop them from every stored string."""
    for item in (parsed, *parsed.entries):
        for name, value in vars(item).items():
            if isinstance(value, str) and "\x00" in value:
                setattr(item, name, value.replace("\x00", ""))
            elif isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
                setattr(item, name, [v.replace("\x00", "") if isinstance(v, str) else v for v in value])
    return parsed


def _parse_feed(content: bytes, *, url: str, content_type: str) -> ParsedFeed:
    if not isinstance(content, bytes):
        raise TypeError("parse_feed takes the response bytes")
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise ParseError(_("The feed address returned an empty page."))
    if stripped[:1] in (b"{", b"["):
        return _parse_json_feed(stripped, url=url)
    if declares_entities(content):
        raise ParseError(
            _("The feed declares XML entities (<!ENTITY>), which plnorg refuses for safety, so it was not read.")
        )
    if _HTML_START.match(stripped[:2048]):
        raise ParseError(_("The address returned a web page (HTML), not a feed. Check the feed address."))
    headers = {"content-type": content_type} if content_type else {}
    try:
        result = feedparser.parse(
            io.BytesIO(content),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser can trip on hostile input (e.g. &#x110000;)
        raise ParseError(_("The feed could not be read (%(reason)s).") % {"reason": exc.__class__.__name__}) from exc
    channel = result.get("feed") or {}
    site_url = clean_url(channel.get("link"), url)
    raw_entries = result.get("entries") or []
    kept = _newest(raw_entries, [_rss_date(raw) for raw in raw_entries])
    entries = _unique([_rss_entry(raw, feed_url=url, site_url=site_url) for raw in kept])
    warning = ""
    if result.get("bozo"):
        reason = _bozo_reason(result.get("bozo_exception"))
        if not entries:
            if not result.get("version"):
                raise ParseError(
                    _("The address did not return a feed plnorg could read (%(reason)s).") % {"reason": reason}
                )
            raise ParseError(
                _("The feed could not be read (%(reason)s) and no entries were found in it.") % {"reason": reason}
            )
        count = len(entries)
        warning = ngettext(
            "The feed has errors (%(reason)s), but %(count)d entry could be read.",
            "The feed has errors (%(reason)s), but %(count)d entries could be read.",
            count,
        ) % {"reason": reason, "count": count}
    elif not result.get("version") and not entries:
        raise ParseError(_("The address did not return a feed (RSS, Atom or JSON Feed)."))
    links = [link for link in channel.get("links") or [] if isinstance(link, dict)]
    return ParsedFeed(
        title=plain_text(channel.get("title"), max_length=300),
        site_url=site_url,
        entries=entries,
        format=result.get("version") or "unknown",
        warning=warning,
        notice=_left_out_notice(len(raw_entries)),
        hub_urls=_urls([link.get("href") for link in links if link.get("rel") == "hub"], base=url),
        self_url=next(iter(_urls([link.get("href") for link in links if link.get("rel") == "self"], base=url)), ""),
    )


def _newest(items: list, dates: list[datetime | None]) -> list:
    """At most MAX_ENTRIES of ``items``: the newest by date (undated ones
    after every dated one, in the document's order), kept in the document's
    order. Only these are sanitized and stored, however long the document."""
    if len(items) <= MAX_ENTRIES:
        return items
    ranked = sorted(range(len(items)), key=lambda i: (dates[i] is None, -dates[i].timestamp() if dates[i] else i))
    return [items[i] for i in sorted(ranked[:MAX_ENTRIES])]


def _left_out_notice(total: int) -> str:
    """What members read when a document lists more entries than plnorg keeps."""
    if total <= MAX_ENTRIES:
        return ""
    return ngettext(
        "The feed lists %(total)s entry: plnorg kept the newest %(kept)s.",
        "The feed lists %(total)s entries: plnorg kept the newest %(kept)s.",
        total,
    ) % {"total": number_format(total, force_grouping=True), "kept": number_format(MAX_ENTRIES, force_grouping=True)}


def _urls(values: list, *, base: str) -> list[str]:
    """The usable http(s) URLs among ``values``, relative ones made absolute against ``base``."""
    return [url for value in values if isinstance(value, str) and (url := clean_url(value, base))]


def _bozo_reason(exc: BaseException | None) -> str:
    if exc is None:
        return _("malformed document")
    text = str(getattr(exc, "getMessage", lambda: exc)()) or exc.__class__.__name__
    text = " ".join(text.split())
    return text[:200]


def _unique(entries: list[ParsedEntry]) -> list[ParsedEntry]:
    """One entry per identity (feeds do repeat GUIDs); the first one wins.
    Entries with nothing to show (no title, link, text or enclosure) are dropped."""
    seen: dict[str, ParsedEntry] = {}
    for entry in entries:
        if entry.title or entry.link or entry.summary or entry.content or entry.enclosure_url:
            seen.setdefault(entry.identity, entry)
    return list(seen.values())


def _struct_to_datetime(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _html_of(detail: dict | None, fallback: str | None) -> str:
    """Entry text as HTML: plain-text values are escaped, not interpreted."""
    if detail is None:
        return fallback or ""
    value = detail.get("value") or ""
    if (detail.get("type") or "").lower() == "text/plain":
        return html.escape(value).replace("\n", "<br>")
    return value


def _finish(
    *,
    entry_id: str | None,
    link_raw: str | None,
    title_raw: str | None,
    author_raw: str | None,
    published_at: datetime | None,
    summary_raw: str,
    content_raw: str,
    enclosure_url: str,
    enclosure_type: str,
    image_url: str,
    feed_url: str,
    site_url: str,
) -> ParsedEntry:
    link = clean_url(link_raw, site_url or feed_url)
    base = link or site_url or feed_url
    title = plain_text(title_raw, max_length=TITLE_MAX_LENGTH)
    summary = sanitize_html(summary_raw, base)
    content = sanitize_html(content_raw, base) if content_raw else ""
    if content == summary:
        content = ""  # feedparser copies a lone <content> into the summary
    own_host = (link and _host(link)) or _host(site_url or feed_url)
    enclosure = clean_url(enclosure_url, base)
    return ParsedEntry(
        identity=entry_identity(entry_id=entry_id, link=link, title=title, published_at=published_at),
        title=title,
        link=link,
        author=plain_text(author_raw, max_length=AUTHOR_MAX_LENGTH),
        published_at=published_at,
        summary=summary,
        content=content,
        enclosure_url=enclosure,
        enclosure_type=plain_text(enclosure_type, max_length=100) if enclosure else "",
        image_url=clean_url(image_url, base),
        links=extract_links(content or summary, exclude_host=own_host),
    )


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") if url else ""


def _rss_date(raw: dict) -> datetime | None:
    return _struct_to_datetime(raw.get("published_parsed") or raw.get("updated_parsed"))


def _rss_entry(raw: dict, *, feed_url: str, site_url: str) -> ParsedEntry:
    published = _rss_date(raw)
    contents = raw.get("content") or []
    content_detail = next((c for c in contents if "html" in (c.get("type") or "")), contents[0] if contents else None)
    enclosure_url = enclosure_type = ""
    image_url = ""
    for enclosure in raw.get("enclosures") or []:
        href = enclosure.get("href") or enclosure.get("url") or ""
        kind = enclosure.get("type") or ""
        if kind.startswith("image/") and not image_url:
            image_url = href
        elif not enclosure_url:
            enclosure_url, enclosure_type = href, kind
    thumbnails = raw.get("media_thumbnail") or []
    if thumbnails and not image_url:
        image_url = thumbnails[0].get("url") or ""
    if not image_url:
        image_url = (raw.get("image") or {}).get("href") or ""
    if not image_url:
        for media in raw.get("media_content") or []:
            if (media.get("medium") == "image" or (media.get("type") or "").startswith("image/")) and media.get("url"):
                image_url = media["url"]
                break
    return _finish(
        entry_id=raw.get("id"),
        link_raw=raw.get("link"),
        title_raw=raw.get("title"),
        author_raw=raw.get("author"),
        published_at=published,
        summary_raw=_html_of(raw.get("summary_detail"), raw.get("summary")),
        content_raw=_html_of(content_detail, None),
        enclosure_url=enclosure_url,
        enclosure_type=enclosure_type,
        image_url=image_url,
        feed_url=feed_url,
        site_url=site_url,
    )


def _json_date(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _json_str(value) -> str:
    return value if isinstance(value, str) else ""


def _parse_json_feed(content: bytes, *, url: str) -> ParsedFeed:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ParseError(_("The feed looks like JSON but could not be read.")) from exc
    if not isinstance(document, dict) or "jsonfeed.org" not in _json_str(document.get("version")):
        raise ParseError(_("The address returned JSON that is not a JSON Feed."))
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError(_("The JSON Feed has no items list."))
    site_url = clean_url(_json_str(document.get("home_page_url")), url)
    feed_authors = _json_authors(document)
    items = [item for item in items if isinstance(item, dict)]
    entries = []
    for item in _newest(items, [_json_item_date(item) for item in items]):
        text = _json_str(item.get("content_text"))
        content_html = _json_str(item.get("content_html")) or (html.escape(text).replace("\n", "<br>") if text else "")
        summary = _json_str(item.get("summary"))
        enclosure_url = enclosure_type = ""
        attachments = item.get("attachments")
        if isinstance(attachments, list) and attachments and isinstance(attachments[0], dict):
            enclosure_url = _json_str(attachments[0].get("url"))
            enclosure_type = _json_str(attachments[0].get("mime_type"))
        item_id = item.get("id")
        entries.append(
            _finish(
                entry_id=str(item_id) if isinstance(item_id, (str, int)) else None,
                link_raw=_json_str(item.get("url")) or _json_str(item.get("external_url")),
                title_raw=_json_str(item.get("title")),
                author_raw=_json_authors(item) or feed_authors,
                published_at=_json_item_date(item),
                summary_raw=html.escape(summary) if summary else content_html,
                content_raw=content_html if summary else "",
                enclosure_url=enclosure_url,
                enclosure_type=enclosure_type,
                image_url=_json_str(item.get("image")) or _json_str(item.get("banner_image")),
                feed_url=url,
                site_url=site_url,
            )
        )
    hubs = document.get("hubs") if isinstance(document.get("hubs"), list) else []
    return ParsedFeed(
        title=plain_text(_json_str(document.get("title")), max_length=300),
        site_url=site_url,
        entries=_unique(entries),
        format="json" + _json_str(document.get("version")).rsplit("/", 1)[-1].replace(".", ""),
        notice=_left_out_notice(len(items)),
        hub_urls=_urls(
            [
                hub.get("url")
                for hub in hubs
                if isinstance(hub, dict) and _json_str(hub.get("type")).lower() in ("websub", "pubsubhubbub")
            ],
            base=url,
        ),
        self_url=clean_url(_json_str(document.get("feed_url")), url),
    )


def _json_item_date(item: dict) -> datetime | None:
    return _json_date(item.get("date_published")) or _json_date(item.get("date_modified"))


def _json_authors(obj: dict) -> str:
    authors = obj.get("authors")
    if isinstance(authors, list):
        names = [_json_str(a.get("name")) for a in authors if isinstance(a, dict)]
        return ", ".join(n for n in names if n)
    author = obj.get("author")
    return _json_str(author.get("name")) if isinstance(author, dict) else ""
