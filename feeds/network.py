"""The network view's figures: what the organization's PLN has in common.

Only what members chose to share counts, everywhere in this module: shared
subscriptions (``Subscription.objects.shared()``) and visible entries
(``Entry.objects.shared()``). A private subscription never adds a name, a
count or a source.

Definitions (the tests work the expected values out from these):

- *Sources several members share*: feeds at least two members share as a
  source, with who shares them. *Sources only one member shares*: exactly one.
- *What we are all reading*: outbound links (``EntryLink``) of entries
  published in the last 7 days, where the entries pointing to a URL reach at
  least two distinct members. An entry reaches the members who share its
  feed (as an account or a source).
- *Topics of an entry*: the topics of the shared subscriptions its feed comes
  through. *Rising topics*: a topic with at least 5 entries in the last 7
  days and at least twice its weekly average over the four weeks before.
- *People by topic* ("who knows about X"), over the last 90 days: for each
  member, the entries of the accounts they share tagged X, and the number of
  sources they share tagged X; ranked by entries, then sources, then name.
- *Discover*, for one member: feeds at least two colleagues share as a
  source that the member does not follow, most shared first.

The organization-wide figures are cached (``NETWORK_CACHE_SECONDS``) and
refreshed by the beat task ``feeds.refresh_network_figures``. When an admin
switches network figures off (``OrganizationSettings.network_figures_enabled``)
nothing here is computed: the view explains why, and the task does nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from members.models import Member, OrganizationSettings

from .models import Entry, EntryLink, Feed, Subscription

# The cache holds the current figures' token under NETWORK_CACHE_KEY and the
# figures under NETWORK_FIGURES_KEY % token; each process keeps its own
# unpickled copy of the current figures (_current), so a page reads one short
# key instead of unpickling ~100 KB. A refresh writes new figures under a new
# token, so every process and every fragment cached by token (the network
# page's) moves to them at once.
NETWORK_CACHE_KEY = "feeds:network-figures:v2"
NETWORK_FIGURES_KEY = "feeds:network-figures:v2:%s"
NETWORK_CACHE_SECONDS = 15 * 60
RISING_MIN_ENTRIES = 5
RISING_FACTOR = 2
RISING_PREVIOUS_WEEKS = 4
PEOPLE_BY_TOPIC_DAYS = 90
LINKS_DAYS = 7
LINKS_MIN_MEMBERS = 2
LIST_LIMIT = 25


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass
class SharedSource:
    feed_id: int
    title: str
    url: str
    platform: str
    people: list[Person]

    @property
    def count(self) -> int:
        return len(self.people)


@dataclass
class SharedLink:
    url: str
    domain: str
    people: list[Person]
    entries: int

    @property
    def count(self) -> int:
        return len(self.people)


@dataclass
class RisingTopic:
    topic: str
    this_week: int
    weekly_average: float


@dataclass
class TopicPerson:
    person: Person
    entries: int
    sources: int


@dataclass
class NetworkFigures:
    computed_at: datetime
    # Names this computation: the cache keys of the figures and of the HTML made from them.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    shared_sources: list[SharedSource] = field(default_factory=list)
    single_sources: list[SharedSource] = field(default_factory=list)
    links: list[SharedLink] = field(default_factory=list)
    rising: list[RisingTopic] = field(default_factory=list)
    people_by_topic: dict[str, list[TopicPerson]] = field(default_factory=dict)

    @property
    def topics(self) -> list[str]:
        return sorted(self.people_by_topic)


@dataclass
class Discovery:
    feed: Feed
    count: int
    topics: list[str]


def network_figures_enabled() -> bool:
    return OrganizationSettings.get().network_figures_enabled


def _shared_rows() -> list[dict]:
    return list(
        Subscription.objects.shared().values("member_id", "feed_id", "kind", "topics").order_by("member_id", "feed_id")
    )


def _people(member_ids) -> dict[int, Person]:
    members = Member.objects.filter(pk__in=set(member_ids)).select_related("user")
    return {m.pk: Person(m.pk, m.name) for m in members}


def _sorted_people(ids, people: dict[int, Person]) -> list[Person]:
    return sorted((people[i] for i in ids if i in people), key=lambda p: (p.name.lower(), p.id))


def network_figures_compute(*, now: datetime | None = None) -> NetworkFigures:
    """Compute every organization-wide figure (a fixed number of queries)."""
    now = now or timezone.now()
    rows = _shared_rows()
    source_members: dict[int, set[int]] = defaultdict(set)
    feed_members: dict[int, set[int]] = defaultdict(set)
    topic_feeds: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        feed_members[row["feed_id"]].add(row["member_id"])
        if row["kind"] == Subscription.Kind.SOURCE:
            source_members[row["feed_id"]].add(row["member_id"])
        for topic in row["topics"] or []:
            topic_feeds[str(topic)].add(row["feed_id"])

    feeds = {f.pk: f for f in Feed.objects.filter(pk__in=source_members.keys()).only("pk", "title", "url", "platform")}
    # Links of this week's visible entries.
    since_links = now - timedelta(days=LINKS_DAYS)
    link_rows = list(
        EntryLink.objects.filter(
            entry__in=Entry.objects.shared().filter(published_at__gte=since_links, published_at__lte=now)
        ).values_list("url", "domain", "entry_id", "entry__feed_id")
    )
    # Entry counts per feed: this week, the four weeks before, the last 90 days.
    week_start = now - timedelta(days=7)
    previous_start = week_start - timedelta(days=7 * RISING_PREVIOUS_WEEKS)
    ninety = now - timedelta(days=PEOPLE_BY_TOPIC_DAYS)
    counts = (
        Entry.objects.shared()
        .filter(published_at__gte=min(previous_start, ninety), published_at__lte=now)
        .values("feed_id")
        .annotate(
            this_week=Count("pk", filter=Q(published_at__gte=week_start)),
            previous=Count("pk", filter=Q(published_at__gte=previous_start, published_at__lt=week_start)),
            last_90=Count("pk", filter=Q(published_at__gte=ninety)),
        )
        .order_by()
    )
    per_feed = {c["feed_id"]: c for c in counts}

    everyone = set()
    for ids in feed_members.values():
        everyone |= ids
    people = _people(everyone)

    figures = NetworkFigures(computed_at=now)
    # Shared sources: several members vs only one.
    for feed_id, member_ids in source_members.items():
        feed = feeds.get(feed_id)
        if feed is None:
            continue
        item = SharedSource(feed_id, feed.display_title, feed.url, feed.platform, _sorted_people(member_ids, people))
        (figures.shared_sources if len(member_ids) >= 2 else figures.single_sources).append(item)
    figures.shared_sources.sort(key=lambda s: (-s.count, s.title.lower(), s.feed_id))
    figures.single_sources.sort(key=lambda s: (s.title.lower(), s.feed_id))

    # What we are all reading.
    by_url: dict[str, dict] = {}
    for url, domain, entry_id, feed_id in link_rows:
        slot = by_url.setdefault(url, {"domain": domain, "members": set(), "entries": set()})
        slot["members"] |= feed_members.get(feed_id, set())
        slot["entries"].add(entry_id)
    for url, slot in by_url.items():
        if len(slot["members"]) >= LINKS_MIN_MEMBERS:
            figures.links.append(
                SharedLink(url, slot["domain"], _sorted_people(slot["members"], people), len(slot["entries"]))
            )
    figures.links.sort(key=lambda link: (-link.count, -link.entries, link.url))

    # Rising topics.
    for topic, feed_ids in topic_feeds.items():
        this_week = sum(per_feed.get(f, {}).get("this_week", 0) for f in feed_ids)
        previous = sum(per_feed.get(f, {}).get("previous", 0) for f in feed_ids)
        average = previous / RISING_PREVIOUS_WEEKS
        if this_week >= RISING_MIN_ENTRIES and this_week >= RISING_FACTOR * average:
            figures.rising.append(RisingTopic(topic, this_week, round(average, 2)))
    figures.rising.sort(key=lambda r: (-r.this_week, r.topic))

    # People by topic.
    entries_by: dict[str, Counter] = defaultdict(Counter)
    sources_by: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        for topic in row["topics"] or []:
            topic = str(topic)
            if row["kind"] == Subscription.Kind.ACCOUNT:
                entries_by[topic][row["member_id"]] += per_feed.get(row["feed_id"], {}).get("last_90", 0)
            else:
                sources_by[topic][row["member_id"]] += 1
    for topic in set(entries_by) | set(sources_by):
        member_ids = set(entries_by[topic]) | set(sources_by[topic])
        ranked = [TopicPerson(people[m], entries_by[topic][m], sources_by[topic][m]) for m in member_ids if m in people]
        ranked = [r for r in ranked if r.entries or r.sources]
        ranked.sort(key=lambda r: (-r.entries, -r.sources, r.person.name.lower(), r.person.id))
        figures.people_by_topic[topic] = ranked
    return figures


_current: dict[str, NetworkFigures] = {}  # this process's copy of the current figures, by token


def network_figures(*, refresh: bool = False) -> NetworkFigures | None:
    """The cached figures, or None when an admin switched them off. Callers
    share one object: read it, never change it."""
    if not network_figures_enabled():
        cache.delete(NETWORK_CACHE_KEY)
        _current.clear()
        return None
    if not refresh:
        token = cache.get(NETWORK_CACHE_KEY)
        figures = _current.get(token) if token else None
        if figures is None and token:
            figures = cache.get(NETWORK_FIGURES_KEY % token)
        if figures is not None:
            _remember(figures)
            return figures
    figures = network_figures_compute()
    cache.set(NETWORK_FIGURES_KEY % figures.token, figures, NETWORK_CACHE_SECONDS)
    cache.set(NETWORK_CACHE_KEY, figures.token, NETWORK_CACHE_SECONDS)
    _remember(figures)
    return figures


def _remember(figures: NetworkFigures) -> None:
    if figures.token not in _current:
        _current.clear()
        _current[figures.token] = figures


def network_figures_refresh() -> bool:
    """The beat task's work: recompute and cache, unless switched off."""
    return network_figures(refresh=True) is not None


def discover_for(*, member: Member, limit: int = 6) -> list[Discovery]:
    """Sources at least two colleagues share that ``member`` does not follow."""
    mine = Subscription.objects.filter(member=member).values("feed_id")
    rows = (
        Subscription.objects.shared()
        .sources()
        .exclude(member=member)
        .exclude(feed_id__in=mine)
        .values("feed_id")
        .annotate(n=Count("member_id", distinct=True))
        .filter(n__gte=2)
        .order_by("-n", "feed_id")[:limit]
    )
    counts = {r["feed_id"]: r["n"] for r in rows}
    if not counts:
        return []
    feeds = {f.pk: f for f in Feed.objects.filter(pk__in=counts)}
    topics: dict[int, Counter] = defaultdict(Counter)
    for feed_id, feed_topics in (
        Subscription.objects.shared().sources().filter(feed_id__in=counts).values_list("feed_id", "topics")
    ):
        topics[feed_id].update(str(t) for t in feed_topics or [])
    found = [
        Discovery(feeds[f], n, [t for t, _ in sorted(topics[f].items(), key=lambda kv: (-kv[1], kv[0]))][:3])
        for f, n in counts.items()
        if f in feeds
    ]
    found.sort(key=lambda d: (-d.count, d.feed.display_title.lower(), d.feed.pk))
    return found


def discover_follow(*, member: Member, feed_id: int, share: bool = False):
    """Follow a discovered source: private unless the member chooses to share.
    Topics are those colleagues gave it most. ``Feed.DoesNotExist`` if it is
    not something colleagues share."""
    from .services import subscription_store

    shared = Subscription.objects.shared().sources().filter(feed_id=feed_id).exclude(member=member)
    if not shared.exists():
        raise Feed.DoesNotExist
    feed = Feed.objects.get(pk=feed_id)
    counter: Counter = Counter()
    for feed_topics in shared.values_list("topics", flat=True):
        counter.update(str(t) for t in feed_topics or [])
    topics = [t for t, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))][:3]
    return subscription_store(
        member=member,
        feed_url=feed.url,
        kind=Subscription.Kind.SOURCE,
        platform=feed.platform,
        is_shared=share,
        topics=topics,
    )
