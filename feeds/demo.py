"""Demo feeds for `seed_demo`: bundled sample feeds and everyone's subscriptions.

The files in feeds/demo_feeds/ are real RSS, Atom and JSON Feed documents.
They are stored as demo feeds (``is_demo``: never scheduled, never fetched)
and ingested through the same parse/sanitize/store path as a real fetch.
Their dates end on DEMO_ANCHOR and are moved forward to today, day by day,
so the stream always looks recent and reseeding on the same day changes
nothing. Idempotent.

Curation (`seed_curation`): picks, saves, recommendations and starter packs
on top of the demo feeds, so the home page, the stream's picks, the saved page
and the network view have something to show; rows are found by natural keys
and never duplicated.

Consent canary: the canary owner registers one private source and one private
account whose titles and entries carry the canary string; nobody else
subscribes to them, so the string must never appear on any page but that
member's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from members.models import Member

from .ingest import feed_ingest_document
from .models import Entry, Feed, Pick, Recommendation, SavedEntry, StarterPack, StarterPackItem, Subscription

DEMO_FEEDS_DIR = Path(__file__).resolve().parent / "demo_feeds"
# The newest date in the bundled files; entries are shifted by whole days from it.
DEMO_ANCHOR = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

ACCOUNT = Subscription.Kind.ACCOUNT
SOURCE = Subscription.Kind.SOURCE

# A string only one member's private feeds contain: no page but that member's
# own may ever show it (the consent checks search every page for it).
CONSENT_CANARY = "zz-canary-7f3a9"
CANARY_OWNER = "victor"


@dataclass(frozen=True)
class DemoFeed:
    file: str
    url: str
    platform: str
    site_url: str
    content_type: str = "application/rss+xml"


DEMO_FEEDS: dict[str, DemoFeed] = {
    # Accounts: what demo members publish.
    "ana": DemoFeed("ana-mastodon.xml", "https://fosstodon.org/@anasilva.rss", "mastodon", "https://fosstodon.org/@anasilva"),
    "ben": DemoFeed("ben-github.atom", "https://github.com/benokafor.atom", "github", "https://github.com/benokafor", "application/atom+xml"),
    "chen": DemoFeed("chen-blog.xml", "https://chenwei.dev/feed.xml", "blog", "https://chenwei.dev/"),
    "dana": DemoFeed("dana-substack.xml", "https://danakim.substack.com/feed", "substack", "https://danakim.substack.com/"),
    "eli": DemoFeed("eli-bluesky.xml", "https://bsky.app/profile/eli-brooks.bsky.social/rss", "bluesky", "https://bsky.app/profile/eli-brooks.bsky.social"),
    "engineering": DemoFeed("engineering-blog.json", "https://engineering.example.com/feed.json", "blog", "https://engineering.example.com/", "application/feed+json"),
    "rhea": DemoFeed("rhea-youtube.atom", "https://www.youtube.com/feeds/videos.xml?channel_id=UCrhea0000000000000000", "youtube", "https://www.youtube.com/channel/UCrhea0000000000000000", "application/atom+xml"),
    "evidence": DemoFeed("research-podcast.xml", "https://evidencehour.example.org/podcast.xml", "podcast", "https://evidencehour.example.org/"),
    "cs": DemoFeed("cs-blog.xml", "https://cs.example.com/blog/feed.xml", "blog", "https://cs.example.com/blog/"),
    "learning": DemoFeed("ld-mastodon.xml", "https://mastodon.social/@learning.rss", "mastodon", "https://mastodon.social/@learning"),
    "dora": DemoFeed("design-bluesky.xml", "https://bsky.app/profile/dora-vidal.bsky.social/rss", "bluesky", "https://bsky.app/profile/dora-vidal.bsky.social"),
    "topfloor": DemoFeed("leadership-substack.xml", "https://topfloor.substack.com/feed", "substack", "https://topfloor.substack.com/"),
    # Sources: what they learn from.
    "pln_podcast": DemoFeed("source-pln-podcast.xml", "https://networkedlearning.example.fm/feed.xml", "podcast", "https://networkedlearning.example.fm/"),
    "datasci": DemoFeed("source-datascience-youtube.atom", "https://www.youtube.com/feeds/videos.xml?channel_id=UCdatasci00000000000000", "youtube", "https://www.youtube.com/channel/UCdatasci00000000000000", "application/atom+xml"),
    "django": DemoFeed("source-django-github.atom", "https://github.com/django.atom", "github", "https://github.com/django", "application/atom+xml"),
    "leader": DemoFeed("source-learning-leader.xml", "https://learningleader.substack.com/feed", "substack", "https://learningleader.substack.com/"),
    "ux": DemoFeed("source-ux-notes.json", "https://uxfieldnotes.example.net/feed.json", "blog", "https://uxfieldnotes.example.net/", "application/feed+json"),
    "oss": DemoFeed("source-oss-mastodon.xml", "https://mastodon.social/@oss.rss", "mastodon", "https://mastodon.social/@oss"),
    "reliability": DemoFeed("source-reliability-weekly.xml", "https://reliabilityweekly.example.com/atom.xml", "blog", "https://reliabilityweekly.example.com/", "application/atom+xml"),
    "edtech": DemoFeed("source-edtech-bluesky.xml", "https://bsky.app/profile/edtechvoices.bsky.social/rss", "bluesky", "https://bsky.app/profile/edtechvoices.bsky.social"),
    # The consent canary's two private feeds.
    "canary_source": DemoFeed("canary-source.xml", "https://private-listening.example.org/feed.xml", "podcast", "https://private-listening.example.org/"),
    "canary_account": DemoFeed("canary-account.xml", "https://victorhale.example.net/feed.xml", "blog", "https://victorhale.example.net/"),
}  # fmt: skip

# Who publishes what (accounts, shared unless marked private). Team feeds are
# co-written, so several people register them as their account.
ACCOUNTS: dict[str, list[str]] = {
    "ana": ["employee"],
    "ben": ["ben"],
    "chen": ["chen"],
    "dana": ["dana"],
    "eli": ["eli"],
    "engineering": ["manager", "fatima", "cto", "employee", "admin"],
    "rhea": ["rhea", "sam"],
    "evidence": ["uma", "tomas", "wen", "victor"],
    "cs": ["xavier", "yara", "zoe", "amir", "bella"],
    "learning": ["facilitator", "kofi", "lucia", "mika", "nils", "people", "iris"],
    "dora": ["dora", "gus", "hana"],
    "topfloor": ["ceo", "cfo", "coo"],
}
PRIVATE_ACCOUNTS = {("bella", "cs"), ("sam", "rhea")}

# What people learn from: (feed, topics, [members sharing it], [members keeping it private]).
SOURCES: list[tuple[str, list[str], list[str], list[str]]] = [
    (
        "pln_podcast",
        ["learning", "networks"],
        ["facilitator", "kofi", "lucia", "people", "ceo", "bella"],
        ["mika", "zoe"],
    ),
    ("datasci", ["data", "statistics"], ["dana", "tomas", "wen", "rhea"], ["uma", "cfo", "sam"]),
    ("django", ["python", "web"], ["employee", "ben", "manager", "eli"], ["cto", "admin"]),
    ("leader", ["leadership", "learning"], ["ceo", "coo", "people", "xavier"], ["manager", "dora", "cfo"]),
    ("ux", ["design", "accessibility"], ["dora", "gus", "hana", "eli"], ["yara", "nils"]),
    ("oss", ["open source", "python"], ["chen", "ben", "fatima"], ["employee", "tomas", "admin"]),
    ("reliability", ["reliability", "operations"], ["chen", "manager", "cto"], ["coo", "fatima"]),
    ("edtech", ["learning", "education"], ["nils", "mika", "lucia", "amir"], ["kofi", "victor", "gus"]),
    ("engineering", ["engineering"], ["dana", "chen"], ["hana"]),
    ("evidence", ["research", "podcast"], ["rhea", "sam"], ["xavier"]),
    ("topfloor", ["leadership"], ["people", "manager"], ["zoe", "wen"]),
    # Only one member shares it: the network view's "sources only one member
    # shares" and the dashboard's unique reach have something to show.
    ("rhea", ["research", "methods"], ["iris"], []),
]
ACCOUNT_TOPICS = {
    "engineering": ["engineering", "python"],
    "evidence": ["research"],
    "learning": ["learning", "pln"],
    "cs": ["customers"],
    "dora": ["design"],
    "topfloor": ["leadership"],
}


def demo_shift(now: datetime | None = None) -> timedelta:
    """Whole days from the anchor to today, so reseeding the same day is a no-op."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return timedelta(days=(today - DEMO_ANCHOR.date()).days)


def _demo_feed(key: str) -> Feed:
    spec = DEMO_FEEDS[key]
    feed, _ = Feed.objects.get_or_create(
        url=spec.url, defaults={"platform": spec.platform, "site_url": spec.site_url, "is_demo": True}
    )
    if not feed.is_demo:
        Feed.objects.filter(pk=feed.pk).update(is_demo=True)
    content = (DEMO_FEEDS_DIR / spec.file).read_bytes()
    feed_ingest_document(feed=feed, content=content, content_type=spec.content_type, shift=demo_shift())
    feed.refresh_from_db()
    return feed


def _subscribe(member: Member, feed: Feed, *, kind: str, shared: bool, topics: list[str]) -> None:
    Subscription.objects.get_or_create(
        member=member,
        feed=feed,
        defaults={
            "kind": kind,
            "is_shared": shared,
            "topics": topics,
            "profile_url": feed.site_url if kind == ACCOUNT else "",
            "handle": feed.title if kind == ACCOUNT and feed.platform in ("mastodon", "bluesky") else "",
        },
    )


def seed_feeds(members: dict[str, Member]) -> dict[str, Feed]:
    """Create the demo feeds, ingest them, and subscribe the demo members."""

    feeds = {key: _demo_feed(key) for key in DEMO_FEEDS}
    assert CONSENT_CANARY in feeds["canary_source"].title and CONSENT_CANARY in feeds["canary_account"].title
    with transaction.atomic():
        for key, locals_ in ACCOUNTS.items():
            for local in locals_:
                if local in members:
                    shared = (local, key) not in PRIVATE_ACCOUNTS
                    _subscribe(
                        members[local], feeds[key], kind=ACCOUNT, shared=shared, topics=ACCOUNT_TOPICS.get(key, [])
                    )
        for key, topics, sharing, private in SOURCES:
            for local in sharing + private:
                if local in members:
                    _subscribe(members[local], feeds[key], kind=SOURCE, shared=local in sharing, topics=topics)
        owner = members.get(CANARY_OWNER)
        if owner is not None:
            _subscribe(owner, feeds["canary_source"], kind=SOURCE, shared=False, topics=["private"])
            _subscribe(owner, feeds["canary_account"], kind=ACCOUNT, shared=False, topics=["private"])
        _date_subscriptions(members, feeds)
    return feeds


def _date_subscriptions(members: dict[str, Member], feeds: dict[str, Feed]) -> None:
    """Spread each member's demo subscriptions over the time since they joined
    (see members.demo): the first one day to four weeks after joining, the next
    ones ten days apart, never in the future. The dashboard's participation
    history then shows people taking part week by week. Dates are recomputed
    on every run, like the join dates they follow; no row is added."""
    now = timezone.now()
    joined = dict(Member.objects.filter(pk__in=[m.pk for m in members.values()]).values_list("pk", "created_at"))
    demo_subscriptions = (
        Subscription.objects.filter(member__in=members.values(), feed__in=feeds.values())
        .select_related("feed")
        .order_by("member_id", "kind", "feed__url")
    )
    by_member: dict[int, list[Subscription]] = {}
    for subscription in demo_subscriptions:
        by_member.setdefault(subscription.member_id, []).append(subscription)
    changed = []
    for index, (_local, member) in enumerate(sorted(members.items())):
        first = joined[member.pk] + timedelta(days=1 + 7 * (index % 5))
        for position, subscription in enumerate(by_member.get(member.pk, [])):
            subscription.added_at = min(first + timedelta(days=10 * position), now - timedelta(hours=1 + position))
            changed.append(subscription)
    Subscription.objects.bulk_update(changed, ["added_at"])


# --- Curation ---------------------------------------------------------------------

PICKS = [
    ("pln_podcast", "A clear half hour on why networks beat courses; good before our next PLN workshop."),
    ("datasci", "Short and practical: the team asked for exactly this last sprint."),
    ("reliability", "Our on-call retro pointed at the same problem."),
]
# (who saves, feed key, nth newest entry)
SAVES = [
    ("employee", "django", 0),
    ("employee", "pln_podcast", 0),
    ("manager", "reliability", 0),
    ("dana", "datasci", 0),
    ("tomas", "datasci", 0),
    ("facilitator", "edtech", 0),
    ("kofi", "pln_podcast", 0),
]
# (sender, recipient, feed key, nth newest entry, note)
RECOMMENDATIONS = [
    ("manager", "employee", "reliability", 0, "Worth ten minutes before our incident review."),
    ("facilitator", "employee", "edtech", 0, "You asked about learning in the open."),
    ("dana", "tomas", "datasci", 1, "Matches what we discussed on Tuesday."),
    ("ben", "eli", "django", 0, "The release notes we were waiting for."),
]
# (title, topic, description, feed keys)
STARTER_PACKS = [
    ("Data science starter pack", "data", "What our data people learn from.", ["datasci", "evidence", "engineering"]),
    (
        "Learning in the open",
        "learning",
        "Networked learning, PLNs and education.",
        ["pln_podcast", "edtech", "leader"],
    ),
    ("Python and the web", "python", "Where our engineers keep up.", ["django", "oss", "reliability"]),
]


def _feed(key: str) -> Feed | None:
    return Feed.objects.filter(url=DEMO_FEEDS[key].url).first()


def _entry(key: str, nth: int = 0) -> Entry | None:
    feed = _feed(key)
    if feed is None:
        return None
    return Entry.objects.shared().filter(feed=feed).order_by("-published_at", "-id")[nth : nth + 1].first()


@transaction.atomic
def seed_curation(members: dict[str, Member]) -> None:
    facilitator = members["facilitator"]
    for key, note in PICKS:
        entry = _entry(key)
        if entry is not None:
            Pick.objects.get_or_create(entry=entry, defaults={"picked_by": facilitator, "note": note})
    for local, key, nth in SAVES:
        entry = _entry(key, nth)
        if entry is not None:
            SavedEntry.objects.get_or_create(member=members[local], entry=entry)
    for sender, recipient, key, nth, note in RECOMMENDATIONS:
        entry = _entry(key, nth)
        if entry is not None:
            Recommendation.objects.get_or_create(
                sender=members[sender], recipient=members[recipient], entry=entry, defaults={"note": note}
            )
    for title, topic, description, keys in STARTER_PACKS:
        pack, _created = StarterPack.objects.get_or_create(
            title=title, defaults={"topic": topic, "description": description, "created_by": facilitator}
        )
        for position, key in enumerate(keys):
            feed = _feed(key)
            if feed is not None:
                StarterPackItem.objects.get_or_create(pack=pack, feed=feed, defaults={"position": position})
