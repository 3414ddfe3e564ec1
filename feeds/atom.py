"""Out of the site: Atom 1.0 feeds of the stream and of picks, and an OPML
export of the organization's shared sources.

Feed readers cannot sign in, so the Atom feeds are reached through a
per-member secret URL (``feeds.curation.feed_token_*``): the member can reset
it, and it answers 404 once the member is deactivated. Only what the
organization can see goes out (``Entry.objects.shared()``), and every piece
of HTML is sanitized again on the way out.

Stream filters are query parameters, the same names as the stream page:
``team`` (id), ``member`` (id), ``platform``, ``kind`` (account/source),
``topic``, ``q`` (words in the title or summary) and ``picks=1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import http_date
from django.utils.translation import gettext as _

from .curation import entries_picked
from .models import Entry, Pick, Subscription
from .sanitize import sanitize_html

ATOM_LIMIT = 50
FILTER_NAMES = ("team", "member", "platform", "kind", "topic", "q", "picks")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def stream_entries_filtered(params: Mapping[str, str]) -> QuerySet[Entry]:
    """Visible entries, newest first, narrowed by the stream's filters.

    Team, member, kind and topic go through *shared* subscriptions only: a
    private subscription never puts an entry under someone's name or topic.
    """
    entries = Entry.objects.shared()
    subs = Subscription.objects.shared_by_members().filter(feed=OuterRef("feed"))  # the feed checked by shared()
    narrowed = False
    if (team := _int(params.get("team"))) is not None:
        subs, narrowed = subs.filter(member__team_id=team), True
    if (member := _int(params.get("member"))) is not None:
        subs, narrowed = subs.filter(member_id=member), True
    if (kind := params.get("kind")) in Subscription.Kind.values:
        subs, narrowed = subs.filter(kind=kind), True
    if topic := " ".join((params.get("topic") or "").split()).lower():
        subs, narrowed = subs.filter(topics__contains=[topic]), True
    if narrowed:
        entries = entries.filter(Exists(subs))
    if platform := (params.get("platform") or "").strip():
        entries = entries.filter(feed__platform=platform)
    if words := (params.get("q") or "").strip()[:200]:
        for word in words.split()[:8]:
            entries = entries.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    if params.get("picks") in ("1", "on", "true"):
        entries = entries_picked(entries)
    return entries.select_related("feed", "pick").order_by("-published_at", "-id")


def _entry_page(entry: Entry) -> str:
    from django.urls import NoReverseMatch

    try:
        return settings.SITE_URL + reverse("feeds:entry", kwargs={"entry_id": entry.pk})
    except NoReverseMatch:
        return entry.link or settings.SITE_URL + reverse("feeds:picks")


def _tag_id(kind: str, pk: int) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "plnorg"
    return f"tag:{host},2025:{kind}-{pk}"


def _feed(*, title: str, link: str, feed_url: str, feed_id: str, subtitle: str) -> Atom1Feed:
    return Atom1Feed(
        title=title,
        link=link,
        description=subtitle,
        subtitle=subtitle,
        feed_url=feed_url,
        feed_guid=feed_id,
        language=settings.LANGUAGE_CODE,
        author_name=settings.SITE_NAME,
    )


def _add_entry(feed: Atom1Feed, entry: Entry, *, note: str = "") -> None:
    body = sanitize_html(entry.content or entry.summary, base_url=entry.link or None)
    if note:
        body = f"<p><strong>{escape(_('Picked'))}:</strong> {escape(note)}</p>{body}"
    feed.add_item(
        title=entry.title or entry.link or _("Untitled"),
        link=entry.link or _entry_page(entry),
        description=body,
        unique_id=_tag_id("entry", entry.pk),
        pubdate=entry.published_at,
        updateddate=max(entry.updated_at, entry.published_at),
        author_name=entry.author or entry.feed.display_title,
    )


def atom_stream(*, params: Mapping[str, str], self_url: str) -> bytes:
    """The stream with ``params`` as filters, newest first, as Atom 1.0."""
    filters = {k: params.get(k, "") for k in FILTER_NAMES if params.get(k)}
    link = settings.SITE_URL + _stream_path()
    feed = _feed(
        title=_("%(site)s: the stream of %(org)s") % {"site": settings.SITE_NAME, "org": settings.ORGANIZATION_NAME},
        link=link,
        feed_url=self_url,
        feed_id=_tag_id("stream", 0)
        + ("?" + "&".join(f"{k}={v}" for k, v in sorted(filters.items())) if filters else ""),
        subtitle=_("What colleagues share"),
    )
    for entry in stream_entries_filtered(filters)[:ATOM_LIMIT]:
        pick = getattr(entry, "pick", None) if _has_pick(entry) else None
        _add_entry(feed, entry, note=pick.note if pick else "")
    return _write(feed)


def atom_picks(*, self_url: str) -> bytes:
    """Facilitators' picks, newest pick first, as Atom 1.0."""
    feed = _feed(
        title=_("%(site)s: picks for %(org)s") % {"site": settings.SITE_NAME, "org": settings.ORGANIZATION_NAME},
        link=settings.SITE_URL + reverse("feeds:picks"),
        feed_url=self_url,
        feed_id=_tag_id("picks", 0),
        subtitle=_("Entries facilitators picked, with why they matter for us"),
    )
    picks = (
        Pick.objects.filter(entry__in=Entry.objects.shared())
        .select_related("entry__feed")
        .order_by("-created_at", "-id")[:ATOM_LIMIT]
    )
    for pick in picks:
        _add_entry(feed, pick.entry, note=pick.note)
    return _write(feed)


def _has_pick(entry: Entry) -> bool:
    try:
        return entry.pick is not None
    except Pick.DoesNotExist:
        return False


def _stream_path() -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse("feeds:stream")
    except NoReverseMatch:
        return reverse("feeds:picks")


def _write(feed: Atom1Feed) -> bytes:
    return feed.writeString("utf-8").encode("utf-8")


def shared_sources_opml() -> bytes:
    """The organization's shared sources as OPML 2.0, in folders by topic.

    Only shared subscriptions of kind "source" count; a feed appears once,
    with the topics colleagues gave it.
    """
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = _("%(org)s: shared sources") % {"org": settings.ORGANIZATION_NAME}
    SubElement(head, "dateCreated").text = http_date(timezone.now().timestamp())
    body = SubElement(root, "body")
    feeds: dict[int, dict] = {}
    rows = (
        Subscription.objects.shared().sources().select_related("feed").order_by("feed__title", "feed__url", "member_id")
    )
    for sub in rows:
        slot = feeds.setdefault(sub.feed_id, {"feed": sub.feed, "topics": []})
        for topic in sub.topics or []:
            if topic not in slot["topics"]:
                slot["topics"].append(topic)
    folders: dict[str, Element] = {}
    for slot in feeds.values():
        feed, topics = slot["feed"], slot["topics"]
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
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
