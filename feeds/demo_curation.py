"""Demo curation for `seed_demo`: picks, saves, recommendations and starter
packs on top of the demo feeds, so the home page, the stream's picks, the
saved page and the network view have something to show. Idempotent: rows are
found by natural keys and never duplicated."""

from __future__ import annotations

from django.db import transaction

from members.models import Member

from .demo import DEMO_FEEDS
from .models import Entry, Feed, Pick, Recommendation, SavedEntry, StarterPack, StarterPackItem

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
