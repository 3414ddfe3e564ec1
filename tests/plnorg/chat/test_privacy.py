"""Nothing a member has not shared reaches a channel: a pick of an entry the
organization cannot see is never announced; an entry hidden by moderation,
or a feed whose only sharer stops sharing, between the pick and the send is
withheld (nothing sent); introductions are counted only for 5 or more
people; a cancelled workshop is not announced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.curation import pick_create
from feeds.models import Subscription
from feeds.moderation import entry_hide
from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import delivery_send, introductions_announce
from plnorg.introductions.models import Introduction
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory, shared_entry
from tests.plnorg.chat.factories import channel_make
from tests.workshops.factories import WorkshopFactory
from workshops.services.workshop import workshop_cancel, workshop_publish

pytestmark = pytest.mark.django_db

Status = Delivery.Status


@pytest.fixture
def hook_channel(receiver):
    hook = receiver()
    channel = channel_make(
        kind=Channel.Kind.WEBHOOK,
        url=hook.url,
        receives_picks=True,
        receives_workshops=True,
        receives_introductions=True,
    )
    return hook, channel


def test_a_pick_of_an_unshared_entry_is_never_announced(hook_channel, facilitator):
    hook, channel = hook_channel
    feed = FeedFactory(title="Private reading")
    SubscriptionFactory(feed=feed, is_shared=False)
    entry = EntryFactory(feed=feed, title="Only mine")

    pick_create(member=facilitator, entry=entry)

    assert not Delivery.objects.filter(event=Delivery.Event.PICK, object_id=entry.pick.pk).exists()


def test_a_pick_of_a_paused_sharers_entry_is_never_announced(hook_channel, facilitator):
    sharer = MemberFactory(sharing_paused=True)
    feed = FeedFactory()
    SubscriptionFactory(member=sharer, feed=feed, is_shared=True)
    entry = EntryFactory(feed=feed)

    pick_create(member=facilitator, entry=entry)

    assert not Delivery.objects.filter(event=Delivery.Event.PICK, object_id=entry.pick.pk).exists()


def test_an_entry_hidden_by_moderation_before_the_send_is_withheld(hook_channel, facilitator):
    hook, channel = hook_channel
    entry = shared_entry(title="Reported later")
    pick = pick_create(member=facilitator, entry=entry)
    entry_hide(member=facilitator, entry=entry, reason="spam")
    delivery = Delivery.objects.get(channel=channel, key=f"pick:{pick.pk}")

    assert delivery_send(delivery_id=delivery.pk) == Status.WITHHELD

    delivery.refresh_from_db()
    assert (delivery.detail, delivery.message) == ("The pick was removed, or its entry is no longer shared.", {})
    assert hook.received == []


def test_an_entry_whose_sharer_stopped_sharing_before_the_send_is_withheld(hook_channel, facilitator):
    hook, channel = hook_channel
    entry = shared_entry(title="Shared, then not")
    pick = pick_create(member=facilitator, entry=entry)
    Subscription.objects.filter(feed=entry.feed).update(is_shared=False)

    assert delivery_send(delivery_id=Delivery.objects.get(channel=channel, key=f"pick:{pick.pk}").pk) == Status.WITHHELD
    assert hook.received == []


def test_a_workshop_cancelled_before_the_send_is_withheld(hook_channel, facilitator):
    hook, channel = hook_channel
    workshop = WorkshopFactory(status="draft", facilitators=[facilitator.user])
    workshop_publish(workshop_id=workshop.pk, actor=facilitator.user)
    workshop_cancel(workshop_id=workshop.pk, actor=facilitator.user)
    delivery = Delivery.objects.get(channel=channel, key=f"workshop:{workshop.pk}:new")

    assert delivery_send(delivery_id=delivery.pk) == Status.WITHHELD
    assert hook.received == []


@pytest.mark.parametrize("people", [2, 4])
def test_introductions_of_fewer_than_5_people_are_withheld(hook_channel, people):
    hook, channel = hook_channel
    Introduction.objects.all().delete()
    members = sorted((MemberFactory() for _ in range(people)), key=lambda m: m.pk)
    # Every possible pair: 4 people make 6 introductions, yet they are 4 people.
    pairs = [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
    for a, b in pairs:
        Introduction.objects.create(member_a=a, member_b=b, created_at=datetime(2031, 2, 10, tzinfo=UTC))
    introductions_announce(now=datetime(2031, 3, 1, 9, tzinfo=UTC))
    delivery = Delivery.objects.get(channel=channel, key="introductions:2031-02")

    assert delivery_send(delivery_id=delivery.pk) == Status.WITHHELD

    delivery.refresh_from_db()
    assert delivery.detail == (
        "Fewer than 5 people were introduced that month: plnorg shares counts of 5 or more only."
    )
    assert hook.received == []
