"""OPML: import a feed reader's export, export one's own sources.

Parsing uses defusedxml with DTDs forbidden, so entity tricks (billion
laughs, external entities) are refused before anything expands. Import never
fetches: each outline is checked (syntax, and the address itself when the
host is a literal IP or a local name) and stored; the scheduler fetches the
new feeds within a minute, so a file with hundreds of outlines imports in
one request.

Folders become topics: an outline inside "Tech / Python" gets the topics
["tech", "python"]. The OPML 2.0 ``category`` attribute (comma-separated,
slash-delimited) adds topics too; the export writes it so that a round trip
keeps every topic.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.db import transaction
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _

from members.models import Member

from .fetch import BadURL, is_forbidden_address, normalize_url
from .models import Subscription
from .services import SubscriptionRefused, subscription_store, topics_clean

MAX_OUTLINES = 2000
LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


class OPMLError(ValueError):
    """The file cannot be read as OPML; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OPMLFeed:
    position: int  # 1-based, in document order among feed outlines
    url: str
    title: str
    site_url: str
    topics: tuple[str, ...]


@dataclass
class ImportRow:
    position: int
    title: str
    url: str
    outcome: str  # "added", "already", "duplicate", "refused"
    message: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def problems(self) -> list[ImportRow]:
        return [row for row in self.rows if row.outcome in ("refused", "duplicate")]


def _attr(element: Element, name: str) -> str:
    # Attribute names vary in case between exporters (xmlUrl, xmlurl).
    for key, value in element.attrib.items():
        if key.lower() == name.lower():
            return " ".join(value.split())
    return ""


def _category_topics(value: str) -> list[str]:
    topics = []
    for path in value.split(","):
        topics.extend(part for part in path.split("/") if part.strip())
    return topics


def opml_parse(content: bytes) -> list[OPMLFeed]:
    """The feed outlines of an OPML document, folders turned into topics.

    Raises :class:`OPMLError` for anything that is not a safe OPML document.
    """
    try:
        root = fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise OPMLError(
            _(
                "That file declares a DTD or entities, a trick that can overload a server, so plnorg refused it. "
                "Export the file again from your feed reader."
            )
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise OPMLError(
            _("That file is not an OPML file: it is not valid XML (line %(line)d, column %(column)d).")
            % {"line": line, "column": column}
        ) from exc
    if root.tag.lower() != "opml":
        raise OPMLError(_("That file is XML but not OPML: it does not start with <opml>."))
    body = next((child for child in root if child.tag.lower() == "body"), None)
    if body is None:
        raise OPMLError(_("That OPML file has no <body>, so it lists no feeds."))
    feeds: list[OPMLFeed] = []

    def walk(parent: Element, folders: list[str]) -> None:
        for outline in parent:
            if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
                continue
            label = _attr(outline, "title") or _attr(outline, "text")
            xml_url = _attr(outline, "xmlUrl")
            if xml_url:
                if len(feeds) >= MAX_OUTLINES:
                    raise OPMLError(
                        _("That file lists more than %(count)d feeds; split it into smaller files.")
                        % {"count": MAX_OUTLINES}
                    )
                topics = topics_clean([*folders, *_category_topics(_attr(outline, "category"))])
                feeds.append(
                    OPMLFeed(
                        position=len(feeds) + 1,
                        url=xml_url,
                        title=label,
                        site_url=_attr(outline, "htmlUrl"),
                        topics=tuple(topics),
                    )
                )
                walk(outline, folders)
            else:
                walk(outline, [*folders, label] if label else folders)

    walk(body, [])
    return feeds


def _address_refusal(url: str) -> str:
    """A reason to refuse ``url`` found without DNS: a literal non-public IP or a local name."""
    host = (url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]).lower()
    host = host[1 : host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
    if host == "localhost" or host.endswith(LOCAL_NAME_SUFFIXES) or "." not in host and ":" not in host:
        return _("That address names a machine on a local network, so plnorg will not fetch it.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if is_forbidden_address(address):
        return _("That address is not a public internet address, so plnorg will not fetch it.")
    return ""


def opml_import(
    *, member: Member, content: bytes, kind: str = Subscription.Kind.SOURCE, is_shared: bool
) -> ImportReport:
    """Register every feed of an OPML document for ``member``; report each one.

    Good outlines are kept even when others are refused. Nothing is fetched.
    Raises :class:`OPMLError` when the document as a whole cannot be read.
    """
    feeds = opml_parse(content)
    report = ImportReport()
    seen: dict[str, int] = {}
    with transaction.atomic():
        for item in feeds:
            row = ImportRow(position=item.position, title=item.title, url=item.url, outcome="refused")
            report.rows.append(row)
            try:
                url = normalize_url(item.url)
            except BadURL as exc:
                row.message = exc.message
                continue
            if url in seen:
                row.outcome = "duplicate"
                row.message = _("Listed twice: already imported as feed #%(position)d.") % {"position": seen[url]}
                continue
            refusal = _address_refusal(url)
            if refusal:
                row.message = refusal
                continue
            try:
                result = subscription_store(
                    member=member,
                    feed_url=url,
                    kind=kind,
                    is_shared=is_shared,
                    topics=item.topics,
                    title=item.title,
                    site_url=item.site_url,
                )
            except SubscriptionRefused as exc:
                row.message = exc.message
                continue
            seen[url] = item.position
            row.outcome = "added" if result.created else "already"
            row.message = "" if result.created else _("Already in your PLN.")
    return report


def opml_export(*, member: Member) -> bytes:
    """The member's sources as an OPML 2.0 document (folders by first topic)."""
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = _("plnorg: sources of %(name)s") % {"name": member.name}
    SubElement(head, "dateCreated").text = http_date(timezone.now().timestamp())
    body = SubElement(root, "body")
    folders: dict[str, Element] = {}
    subscriptions = (
        Subscription.objects.filter(member=member, kind=Subscription.Kind.SOURCE)
        .select_related("feed")
        .order_by("feed__title", "feed__url")
    )
    for subscription in subscriptions:
        feed = subscription.feed
        topics = list(subscription.topics or [])
        parent = body
        if topics:
            if topics[0] not in folders:
                folders[topics[0]] = SubElement(body, "outline", text=topics[0], title=topics[0])
            parent = folders[topics[0]]
        attributes = {"type": "rss", "text": feed.display_title, "title": feed.display_title, "xmlUrl": feed.url}
        if feed.site_url:
            attributes["htmlUrl"] = feed.site_url
        if topics:
            attributes["category"] = ",".join(topics)
        SubElement(parent, "outline", **attributes)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)
