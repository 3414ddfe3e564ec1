"""What each announcement says, as the generic webhook receives it (exact
JSON): new workshops and their last seats, the weekly digest, the monthly
introductions count and the test message. Links are absolute and lead back
to plnorg."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from feeds.models import Pick, Subscription
from members.models import User
from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import (
    delivery_send,
    digest_announce,
    introductions_announce,
)
from plnorg.introductions.models import Introduction
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory
from tests.plnorg.chat.factories import channel_make
from tests.workshops.factories import WorkshopFactory
from workshops.models import WorkshopSession
from workshops.services.registration import workshop_register
from workshops.services.workshop import workshop_publish

pytestmark = pytest.mark.django_db

SITE = "https://plnorg.example.com"


def _sent(hook, channel: Channel, key: str) -> dict:
    delivery = Delivery.objects.get(channel=channel, key=key)
    assert delivery_send(delivery_id=delivery.pk) == Delivery.Status.SENT, delivery.detail
    body = hook.received[-1].json
    assert body["delivery_id"] == delivery.idempotency_key
    return {k: body[k] for k in ("event", "title", "url", "text", "original_url", "facts", "items")}


def _facts(*pairs) -> list[dict]:
    return [{"label": label, "value": value} for label, value in pairs]


def _draft_workshop(facilitator, *, capacity=12, **fields):
    workshop = WorkshopFactory(
        title="Blogging to learn", capacity=capacity, sessions=0, facilitators=[facilitator.user], **fields
    )
    start = datetime(2031, 3, 4, 13, 0, tzinfo=UTC)  # 14:00 in Paris
    for week in (0, 1):
        WorkshopSession.objects.create(
            workshop=workshop,
            starts_at=start + timedelta(weeks=week),
            ends_at=start + timedelta(weeks=week, hours=2),
            time_zone="Europe/Paris",
            room="Room Hopper",
        )
    return workshop


def test_a_published_workshop(receiver, facilitator):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_workshops=True)
    workshop = _draft_workshop(
        facilitator,
        status="draft",
        audience="Everyone",
        registration_deadline=datetime(2031, 3, 1, 17, 0, tzinfo=UTC),
    )
    assert Delivery.objects.filter(channel=channel).count() == 0  # a draft is never announced

    workshop_publish(workshop_id=workshop.pk, actor=facilitator.user)

    assert _sent(hook, channel, f"workshop:{workshop.pk}:new") == {
        "event": "workshop_new",
        "title": "New workshop: Blogging to learn",
        "url": f"{SITE}/workshops/{workshop.pk}/",
        "text": "Registration is open.",
        "original_url": "",
        "facts": _facts(
            ("When", "Tue 4 Mar 2031, 14:00 (Europe/Paris) and 1 more session"),
            ("Where", "Room Hopper"),
            ("Seats", "12 of 12 seats free"),
            ("For", "Everyone"),
            ("Register by", "Sat 1 Mar 2031, 17:00"),
        ),
        "items": [],
    }


def test_an_online_workshop_never_gives_its_link(receiver, facilitator):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_workshops=True)
    workshop = WorkshopFactory(status="draft", facilitators=[facilitator.user], sessions__mode="online")

    workshop_publish(workshop_id=workshop.pk, actor=facilitator.user)
    message = _sent(hook, channel, f"workshop:{workshop.pk}:new")

    assert ("Where", "Online (the link is on the workshop's page for registered people)") in [
        (f["label"], f["value"]) for f in message["facts"]
    ]
    assert b"secret-room" not in hook.received[-1].body


def test_last_seats_are_announced_once_with_the_seats_left_when_sent(receiver, facilitator):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_workshops=True)
    workshop = _draft_workshop(facilitator, capacity=5, status="published")
    people = [MemberFactory() for _ in range(3)]

    workshop_register(workshop_id=workshop.pk, member=people[0], actor=people[0].user)  # 4 left
    assert not Delivery.objects.filter(channel=channel).exists()
    workshop_register(workshop_id=workshop.pk, member=people[1], actor=people[1].user)  # 3 left: announced
    workshop_register(workshop_id=workshop.pk, member=people[2], actor=people[2].user)  # 2 left: not again

    assert list(Delivery.objects.filter(channel=channel).values_list("key", flat=True)) == [
        f"workshop:{workshop.pk}:last-seats"
    ]
    assert _sent(hook, channel, f"workshop:{workshop.pk}:last-seats") == {
        "event": "workshop_last_seats",
        "title": "Last seats: Blogging to learn",
        "url": f"{SITE}/workshops/{workshop.pk}/",
        "text": "Only 2 seats left.",
        "original_url": "",
        "facts": _facts(
            ("When", "Tue 4 Mar 2031, 14:00 (Europe/Paris) and 1 more session"), ("Seats", "2 of 5 seats free")
        ),
        "items": [],
    }


def test_a_workshops_own_channel_hears_its_news_and_not_other_workshops(receiver, facilitator):
    hook = receiver()
    workshop = _draft_workshop(facilitator, status="draft")
    other = _draft_workshop(facilitator, status="draft")
    own = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, workshop=workshop, receives_workshops=True)

    workshop_publish(workshop_id=workshop.pk, actor=facilitator.user)
    workshop_publish(workshop_id=other.pk, actor=facilitator.user)

    assert list(Delivery.objects.filter(channel=own).values_list("key", flat=True)) == [f"workshop:{workshop.pk}:new"]


@pytest.fixture
def week():
    """Now: Wednesday 2031-03-12 10:00 UTC; the digest covers Monday 3 to Monday 10."""
    return datetime(2031, 3, 12, 10, 0, tzinfo=UTC)


def test_the_weekly_digest_of_picks_and_rising_topics(receiver, facilitator, week):
    Subscription.objects.all().delete()  # only this test's data is shared (rolled back)
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_digest=True)
    sharer = MemberFactory()
    podcast = FeedFactory(title="Data pod")
    SubscriptionFactory(member=sharer, feed=podcast, is_shared=True, topics=["data"])
    private = FeedFactory(title="Kept private")
    SubscriptionFactory(member=sharer, feed=private, is_shared=False, topics=["secret-topic"])
    for days in range(6):  # "data" rises: 6 this week, none before
        EntryFactory(feed=podcast, published_at=timezone.now() - timedelta(days=days, hours=1))
    for days in range(8):
        EntryFactory(feed=private, published_at=timezone.now() - timedelta(days=days, hours=1))
    first = EntryFactory(feed=podcast, title="Why data teams blog", published_at=timezone.now() - timedelta(days=60))
    second = EntryFactory(feed=podcast, title="Pipelines, gently", published_at=timezone.now() - timedelta(days=61))
    unshared = EntryFactory(feed=private, title="Not for the digest", published_at=timezone.now() - timedelta(days=62))
    this_week = EntryFactory(feed=podcast, title="Too new", published_at=timezone.now() - timedelta(days=63))
    for entry, when, note in (
        (first, datetime(2031, 3, 5, 9, tzinfo=UTC), "A good start"),
        (second, datetime(2031, 3, 8, 9, tzinfo=UTC), ""),
        (unshared, datetime(2031, 3, 6, 9, tzinfo=UTC), "private"),
        (this_week, datetime(2031, 3, 11, 9, tzinfo=UTC), ""),
    ):
        Pick.objects.create(entry=entry, picked_by=facilitator, note=note, created_at=when)

    assert digest_announce(now=week) == Channel.objects.filter(receives_digest=True).count()  # the demo's too
    assert digest_announce(now=week) == 0  # once per channel and week

    assert _sent(hook, channel, "digest:2031-W10") == {
        "event": "digest",
        "title": "This week at Example Organization",
        "url": f"{SITE}/picks/",
        "text": "2 picks of the week starting 3 Mar.",
        "original_url": "",
        "facts": _facts(("Rising topics", "data (6 posts)")),
        "items": [
            {"title": "Pipelines, gently", "url": f"{SITE}/entries/{second.pk}/", "text": ""},
            {"title": "Why data teams blog", "url": f"{SITE}/entries/{first.pk}/", "text": "A good start"},
        ],
    }
    assert b"secret-topic" not in hook.received[-1].body


def test_a_week_with_nothing_to_tell_posts_nothing(receiver, week):
    Subscription.objects.all().delete()
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_digest=True)
    digest_announce(now=week)
    delivery = Delivery.objects.get(channel=channel)

    assert delivery_send(delivery_id=delivery.pk) == Delivery.Status.WITHHELD

    delivery.refresh_from_db()
    assert delivery.detail == "Nothing to tell this week: no picks and no rising topics."
    assert hook.received == []


def _introduce(members, pairs, *, when, accepted=(), met=()):
    for index, (a, b) in enumerate(pairs):
        low, high = sorted((members[a], members[b]), key=lambda m: m.pk)
        Introduction.objects.create(
            member_a=low,
            member_b=high,
            created_at=when,
            accepted_at=when if index in accepted else None,
            met_at=when if index in met else None,
        )


def test_the_monthly_introductions_count(receiver):
    Introduction.objects.all().delete()
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_introductions=True)
    members = [MemberFactory() for _ in range(8)]
    february = datetime(2031, 2, 14, 12, tzinfo=UTC)
    # 6 introductions among 8 people; 5 accepted by both, 2 met.
    _introduce(
        members, [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3)], when=february, accepted={0, 1, 2, 3, 4}, met={0, 1}
    )
    _introduce(members, [(4, 6)], when=datetime(2031, 3, 2, tzinfo=UTC))  # March: not counted

    introductions_announce(now=datetime(2031, 3, 1, 8, 25, tzinfo=UTC))
    introductions_announce(now=datetime(2031, 3, 1, 9, 0, tzinfo=UTC))  # a second run adds nothing
    assert list(Delivery.objects.filter(channel=channel).values_list("key", flat=True)) == ["introductions:2031-02"]

    assert _sent(hook, channel, "introductions:2031-02") == {
        "event": "introductions",
        "title": "Introductions in February 2031",
        "url": f"{SITE}/introductions/",
        "text": "Colleagues introduced 8 people to each other.",
        "original_url": "",
        "facts": _facts(("Introductions", "6"), ("Accepted by both", "5"), ("Met", "fewer than 5")),
        "items": [],
    }


def test_the_test_message(receiver):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_picks=True, receives_workshops=True)
    from plnorg.chat.services.delivery import channel_test_send

    delivery = channel_test_send(channel=channel, actor=User.objects.filter(is_staff=True).first())

    assert delivery.status == Delivery.Status.SENT
    body = hook.received[-1].json
    assert {k: body[k] for k in ("event", "title", "url", "text")} == {
        "event": "test",
        "title": "Test message from plnorg",
        "url": f"{SITE}/chat/channels/{channel.pk}/",
        "text": "This channel is set up. plnorg will post here: picks as they are made; new workshops and their last seats.",
    }
