"""The stream as the reading APIs see it: feeds, categories, stream ids and
pages of items, for one member.

What the APIs return is what the member sees in the web stream: every
entry comes from ``feeds.stream.filtered_entries`` (shared sources only,
moderation respected, paused or departed members' sharing gone), narrowed
by a feed, a category, read state or saves, never widened.

Subscriptions are the feeds of that stream, plus the member's own (their
own data, listed to them alone; a private one shows no entries, as in the
web stream). Categories ("labels" in Google Reader, "groups" in Fever):

- **My PLN**: the feeds the member subscribes to, first;
- a **topic** ("data"): feeds a colleague shared with that topic, or the
  member gave it themselves;
- a **team** ("Team: Engineering"): feeds shared by someone of that team.

A feed can be in several. Topic labels are stored lower-case, so they
never meet "My PLN" or a "Team: …" label.
"""

from __future__ import annotations

import base64
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from feeds.models import Entry, Feed, SavedEntry, Subscription
from feeds.stream import StreamFilters, filtered_entries
from members.models import Member

from .read_state import ReadState, entries_read, entries_unread

MY_PLN = "My PLN"
TEAM_PREFIX = "Team: "
MY_PLN_GROUP = 1
SAVED_BY_ID = 2000  # below this many saves, the starred stream is fetched by id


class StreamRefused(ValueError):
    """Input the APIs cannot act on; ``message`` says why (for a 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Category:
    label: str
    kind: str  # "mine", "topic" or "team"
    group_id: int  # Fever's number for it

    @property
    def stream_id(self) -> str:
        return f"user/-/label/{self.label}"


@dataclass(frozen=True)
class ReaderFeed:
    """A feed as the apps list it (plain values: the catalog makes thousands)."""

    pk: int
    title: str
    url: str
    site_url: str
    last_updated_at: datetime | None
    mine: bool
    categories: tuple[Category, ...]

    @property
    def stream_id(self) -> str:
        return f"feed/{self.pk}"


@dataclass
class Catalog:
    """Every category one member's reading apps list, the categories of each
    feed, and (``catalog_for(with_feeds=True)``) the feeds themselves."""

    categories: list[Category]
    labels_of: dict[int, tuple[Category, ...]]  # feed id -> its categories
    feeds: list[ReaderFeed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_label = {c.label: c for c in self.categories}
        self.by_group = {c.group_id: c for c in self.categories}
        members: dict[str, set[int]] = defaultdict(set)
        for feed_id, categories in self.labels_of.items():
            for category in categories:
                members[category.label].add(feed_id)
        self.feed_ids_of = dict(members)

    def feed_ids(self, category: Category) -> set[int]:
        return self.feed_ids_of.get(category.label, set())


def _topic_group(topic: str, taken: set[int]) -> int:
    """A stable odd number for a topic (teams are even, My PLN is 1)."""
    group = 2 * (zlib.crc32(topic.encode()) % (1 << 29)) + 3
    while group in taken:
        group += 2
    return group


MY_PLN_CATEGORY = Category(label=MY_PLN, kind="mine", group_id=MY_PLN_GROUP)


def _labels_of(
    *, shared: QuerySet[Subscription], own: QuerySet[Subscription], topic_groups: bool
) -> tuple[dict[int, tuple[Category, ...]], list[Category]]:
    """Each feed's categories (My PLN first, then topics, then teams, each
    alphabetically) and every category, from two queries."""
    topics: dict[int, set[str]] = defaultdict(set)
    teams: dict[int, set[int]] = defaultdict(set)
    team_categories: dict[int, Category] = {}
    for feed_id, feed_topics, team_id, team_name in shared.values_list(
        "feed_id", "topics", "member__team_id", "member__team__name"
    ):
        topics[feed_id].update(str(t) for t in feed_topics or () if t)
        if team_id:
            teams[feed_id].add(team_id)
            if team_id not in team_categories:
                team_categories[team_id] = Category(label=TEAM_PREFIX + team_name, kind="team", group_id=2 * team_id)
    mine = set()
    for feed_id, feed_topics in own.values_list("feed_id", "topics"):
        mine.add(feed_id)
        topics[feed_id].update(str(t) for t in feed_topics or () if t)
    taken = {MY_PLN_GROUP, *(c.group_id for c in team_categories.values())}
    topic_categories: dict[str, Category] = {}
    for topic in sorted({t for feed_topics in topics.values() for t in feed_topics}):
        group = _topic_group(topic, taken) if topic_groups else 0
        taken.add(group)
        topic_categories[topic] = Category(label=topic, kind="topic", group_id=group)
    labels_of = {}
    for feed_id in topics.keys() | mine:
        labels = [MY_PLN_CATEGORY] if feed_id in mine else []
        labels += [topic_categories[t] for t in sorted(topics.get(feed_id, ()))]
        labels += sorted((team_categories[t] for t in teams.get(feed_id, ())), key=lambda c: c.label)
        labels_of[feed_id] = tuple(labels)
    categories = ([MY_PLN_CATEGORY] if mine else []) + list(topic_categories.values())
    categories += sorted(team_categories.values(), key=lambda c: c.label.lower())
    return labels_of, categories


def catalog_for(member: Member, *, with_feeds: bool = True) -> Catalog:
    """The stream's shared subscriptions and the member's own (not hidden
    by moderation): two queries, and one more for the feeds themselves."""
    labels_of, categories = _labels_of(
        shared=Subscription.objects.shared(),
        own=Subscription.objects.filter(member=member, feed__hidden_at__isnull=True),
        topic_groups=True,
    )
    catalog = Catalog(categories=categories, labels_of=labels_of)
    if with_feeds:
        rows = Feed.objects.filter(pk__in=list(labels_of)).values_list(
            "pk", "title", "url", "site_url", "last_success_at", "last_fetched_at"
        )
        feeds = [
            ReaderFeed(
                pk=pk,
                title=title or urlsplit(url).hostname or url,  # as Feed.display_title
                url=url,
                site_url=site_url or url,
                last_updated_at=success or fetched,
                mine=bool(labels_of[pk]) and labels_of[pk][0] is MY_PLN_CATEGORY,
                categories=labels_of[pk],
            )
            for pk, title, url, site_url, success, fetched in rows
        ]
        feeds.sort(key=lambda rf: (not rf.mine, rf.title.lower(), rf.pk))
        catalog.feeds = feeds
    return catalog


def item_categories(member: Member, feed_ids: set[int]) -> dict[int, tuple[Category, ...]]:
    """The categories of a page's feeds only (two queries), for items: the
    labels ``catalog_for`` gives those feeds, without building the rest."""
    labels_of, _categories = _labels_of(
        shared=Subscription.objects.shared().filter(feed_id__in=feed_ids),
        own=Subscription.objects.filter(member=member, feed_id__in=feed_ids),
        topic_groups=False,
    )
    return {feed_id: labels_of.get(feed_id, ()) for feed_id in feed_ids}


# --- Scopes: which entries a stream id means ---------------------------------------


def visible_entries() -> QuerySet[Entry]:
    """The web stream's entries, unfiltered: the only door in."""
    return filtered_entries(StreamFilters())


def entries_of_category(member: Member, label: str) -> QuerySet[Entry]:
    """A label's entries, checked without building the whole catalog."""
    visible = visible_entries()
    if label == MY_PLN:
        return visible.filter(Exists(Subscription.objects.filter(member=member, feed=OuterRef("feed"))))
    if label.startswith(TEAM_PREFIX):
        team = Subscription.objects.shared().filter(member__team__name=label[len(TEAM_PREFIX) :])
        team_id = team.values_list("member__team_id", flat=True).first()
        if team_id is None:
            raise StreamRefused(_("Unknown label %(label)r.") % {"label": label})
        return filtered_entries(StreamFilters(team=team_id))
    topic = Q(topics__contains=[label]) if _json_contains() else Q(topics__icontains=f'"{label}"')
    tagged = Subscription.objects.filter(topic, feed=OuterRef("feed")).filter(
        Q(pk__in=Subscription.objects.shared().values("pk")) | Q(member=member)
    )
    if (
        not Subscription.objects.filter(topic)
        .filter(Q(pk__in=Subscription.objects.shared().values("pk")) | Q(member=member))
        .exists()
    ):
        raise StreamRefused(_("Unknown label %(label)r.") % {"label": label})
    return visible.filter(Exists(tagged))


def _json_contains() -> bool:
    from feeds.stream import full_text

    return full_text()  # PostgreSQL: JSON containment; SQLite: the quoted item in the text


def entries_of_feed(member: Member, reference: str) -> QuerySet[Entry]:
    """``feed/<id>`` or ``feed/<url>``: a feed of the member's catalog."""
    feed = None
    if reference.isdigit() and len(reference) < 19:
        feed = Feed.objects.filter(pk=int(reference)).first()
    elif reference:
        feed = Feed.objects.filter(url=reference).first()
    listed = feed is not None and (
        Subscription.objects.shared().filter(feed=feed).exists()
        or Subscription.objects.filter(member=member, feed=feed, feed__hidden_at__isnull=True).exists()
    )
    if not listed:
        raise StreamRefused(_("Unknown feed %(feed)r.") % {"feed": reference})
    return visible_entries().filter(feed=feed)


READING_LIST = "user/-/state/com.google/reading-list"
STARRED = "user/-/state/com.google/starred"
READ = "user/-/state/com.google/read"
UNREAD = "user/-/state/com.google/unread"
KEPT_UNREAD = "user/-/state/com.google/kept-unread"
STATES = {READ: "read", UNREAD: "unread", STARRED: "starred"}


def _normalized(stream_id: str) -> str:
    """``user/<anything>/…`` is the same as ``user/-/…`` (clients send their id)."""
    if stream_id.startswith("user/") and not stream_id.startswith("user/-/"):
        parts = stream_id.split("/", 2)
        if len(parts) == 3:
            return "user/-/" + parts[2]
    return stream_id


def scope_of(member: Member, stream_id: str) -> tuple[QuerySet[Entry], bool]:
    """The entries a stream id means, and whether it is the whole stream."""
    stream_id = _normalized((stream_id or "").strip())
    if stream_id in ("", READING_LIST):
        return visible_entries(), True
    if stream_id == STARRED:
        return entries_saved(member, visible_entries()), False
    if stream_id.startswith("feed/"):
        return entries_of_feed(member, stream_id[len("feed/") :]), False
    if stream_id.startswith("user/-/label/") and len(stream_id) > len("user/-/label/"):
        return entries_of_category(member, stream_id[len("user/-/label/") :]), False
    raise StreamRefused(_("Unknown stream %(stream)r.") % {"stream": stream_id})


def entries_saved(member: Member, entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """Narrow to the member's saves (the reader's "starred"), by id while
    they are few, as the stream's "Picks only" does."""
    ids = list(SavedEntry.objects.filter(member=member).order_by().values_list("entry_id", flat=True)[:SAVED_BY_ID])
    if len(ids) < SAVED_BY_ID:
        return entries.filter(pk__in=ids)
    return entries.filter(Exists(SavedEntry.objects.filter(member=member, entry=OuterRef("pk"))))


def entries_in_state(
    member: Member, entries: QuerySet[Entry], *, state: ReadState, include: str | None, exclude: set[str]
) -> QuerySet[Entry]:
    """Google Reader's ``it`` (one state) and ``xt`` (states to leave out)."""
    for wanted in ([include] if include else []) + sorted(exclude):
        if wanted not in STATES:
            raise StreamRefused(_("Unknown state %(state)r: use read, unread or starred.") % {"state": wanted})
    if include == READ or UNREAD in exclude:
        entries = entries_read(entries, state=state)
    if include == UNREAD or READ in exclude:
        entries = entries_unread(entries, state=state)
    if include == STARRED:
        entries = entries_saved(member, entries)
    if STARRED in exclude:
        entries = entries.exclude(Exists(SavedEntry.objects.filter(member=member, entry=OuterRef("pk"))))
    return entries


# --- Pages -----------------------------------------------------------------------------


def _epoch_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Continuation:
    oldest_first: bool
    published_at: datetime
    pk: int

    def encode(self) -> str:
        raw = f"{'o' if self.oldest_first else 'n'}:{_epoch_us(self.published_at)}:{self.pk}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def continuation_decode(value: str, *, oldest_first: bool) -> Continuation:
    """A continuation this API gave out, for the same order; else StreamRefused."""
    try:
        if len(value) > 100:
            raise ValueError
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        direction, us, pk = raw.split(":")
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))
        if direction not in ("o", "n") or int(pk) < 1:
            raise ValueError
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise StreamRefused(_("Broken continuation %(c)r: use the one the last page gave.") % {"c": value}) from None
    if (direction == "o") != oldest_first:
        raise StreamRefused(_("This continuation belongs to the other order (r)."))
    return Continuation(oldest_first=oldest_first, published_at=moment, pk=int(pk))


def entries_page(
    entries: QuerySet[Entry],
    *,
    count: int,
    oldest_first: bool,
    after: Continuation | None,
    ids_only: bool = False,
) -> tuple[list[Entry], Continuation | None]:
    """``count`` entries in the stream's order (publication, then id), newest
    first unless ``oldest_first``, after a continuation: keyset pages like
    the web stream's, never OFFSET. ``ids_only`` loads just the keys and
    arrival time."""
    if after is not None:
        if oldest_first:
            entries = entries.filter(published_at__gte=after.published_at).exclude(
                published_at=after.published_at, id__lte=after.pk
            )
        else:
            entries = entries.filter(published_at__lte=after.published_at).exclude(
                published_at=after.published_at, id__gte=after.pk
            )
    order = ("published_at", "id") if oldest_first else ("-published_at", "-id")
    if ids_only:
        entries = entries.only("pk", "published_at", "first_seen_at")
    else:
        entries = entries.select_related("feed").defer("search_vector")
    rows = list(entries.order_by(*order)[: count + 1])
    more = len(rows) > count
    rows = rows[:count]
    following = (
        Continuation(oldest_first=oldest_first, published_at=rows[-1].published_at, pk=rows[-1].pk)
        if more and rows
        else None
    )
    return rows, following


def arrived_between(entries: QuerySet[Entry], *, since: datetime | None, until: datetime | None) -> QuerySet[Entry]:
    """Google Reader's ``ot``/``nt``: entries that arrived (were first
    fetched) at or after ``since`` and before ``until``."""
    if since is not None:
        entries = entries.filter(first_seen_at__gte=since)
    if until is not None:
        entries = entries.filter(first_seen_at__lt=until)
    return entries


def saved_among(member: Member, entry_ids: list[int]) -> set[int]:
    if not entry_ids:
        return set()
    return set(SavedEntry.objects.filter(member=member, entry_id__in=entry_ids).values_list("entry_id", flat=True))
