"""Leases and endings: renewal before expiry, back to polling when the hub is
gone, unsubscribing when nobody reads the feed any more (confirmed by the
hub through the callback), and what the five-minute maintenance cleans up."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from feeds.ingest import feed_fetch
from feeds.models import Feed, Subscription
from feeds.scheduler import _redis
from feeds.services import subscription_remove
from feeds.websub.models import WebSubPush, WebSubSubscription
from feeds.websub.services import (
    websub_feed_annotations,
    websub_pushed,
    websub_subscribe,
    websub_subscriptions_maintain,
    websub_unsubscribe,
)
from tests.factories import SubscriptionFactory

from .test_subscription import subscribed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def queued_tasks() -> list[tuple[str, dict]]:
    """(task name, keyword arguments) of what waits in the test queue."""
    messages = _redis().lrange(django_settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    found = []
    for raw in messages:
        message = json.loads(raw)
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], kwargs))
    return sorted(found, key=lambda task: (task[0], sorted(task[1].items())))


def test_a_lease_is_renewed_before_it_ends(pushed_feed):
    pushed_feed.hub.lease_seconds = 60
    first = subscribed(pushed_feed)

    early = websub_subscriptions_maintain(now=first.verified_at + timedelta(seconds=25))
    assert early.renewals == 0
    due = first.verified_at + timedelta(seconds=31)
    assert websub_subscriptions_maintain(now=due).renewals == 1
    assert websub_subscriptions_maintain(now=due).renewals == 0  # already under way
    assert ("websub.subscribe", {"subscription_id": first.pk}) in queued_tasks()

    assert websub_subscribe(subscription_id=first.pk) is True
    pushed_feed.hub.wait_for(2)

    renewed = WebSubSubscription.objects.get(pk=first.pk)
    assert [r["hub.mode"] for r in pushed_feed.hub.requests] == ["subscribe", "subscribe"]
    assert [(r["hub.callback"], r["hub.secret"]) for r in pushed_feed.hub.requests][0] == (
        pushed_feed.hub.requests[1]["hub.callback"],
        first.secret,
    )  # the same callback and secret: the hub replaces the subscription in place
    assert renewed.state == "active"
    assert renewed.verified_at > first.verified_at
    assert renewed.lease_expires_at == renewed.verified_at + timedelta(seconds=60)


def test_when_the_hub_is_gone_the_lease_runs_out_and_the_feed_is_polled_again(pushed_feed):
    pushed_feed.hub.lease_seconds = 60
    subscription = subscribed(pushed_feed)
    feed_fetch(feed_id=pushed_feed.feed.pk)
    polled_at = timezone.now()
    assert Feed.objects.get(pk=pushed_feed.feed.pk).next_fetch_at > polled_at + timedelta(hours=21)
    pushed_feed.hub.stop()

    websub_subscriptions_maintain(now=subscription.verified_at + timedelta(seconds=31))
    assert websub_subscribe(subscription_id=subscription.pk) is False
    subscription.refresh_from_db()
    assert (subscription.state, subscription.last_error) == (
        "active",
        "plnorg could not reach the hub: plnorg could not connect to that site.",
    )

    after_lease = subscription.verified_at + timedelta(seconds=61)
    assert websub_subscriptions_maintain(now=after_lease).expired == 1

    subscription.refresh_from_db()
    assert (subscription.state, subscription.last_error) == (
        "failed",
        "The subscription's lease ran out before the hub confirmed a renewal.",
    )
    assert Feed.objects.get(pk=pushed_feed.feed.pk).next_fetch_at == after_lease
    annotated = Feed.objects.annotate(**websub_feed_annotations()).get(pk=pushed_feed.feed.pk)
    assert websub_pushed(annotated, now=timezone.now()) is False
    feed_fetch(feed_id=pushed_feed.feed.pk)
    polled_at = timezone.now()
    # One entry: the usual first interval (an hour, ±10 %), not the daily safety net.
    next_fetch_at = Feed.objects.get(pk=pushed_feed.feed.pk).next_fetch_at
    assert polled_at + timedelta(minutes=53) < next_fetch_at < polled_at + timedelta(minutes=67)


def test_a_subscription_the_hub_never_confirms_fails_after_an_hour(pushed_feed):
    feed_fetch(feed_id=pushed_feed.feed.pk)  # the request is queued for a worker there is none of
    pending = WebSubSubscription.objects.get(feed=pushed_feed.feed)

    assert websub_subscriptions_maintain(now=pending.requested_at + timedelta(minutes=59)).timed_out == 0
    assert websub_subscriptions_maintain(now=pending.requested_at + timedelta(minutes=61)).timed_out == 1

    pending.refresh_from_db()
    assert (pending.state, pending.last_error) == ("failed", "The hub did not confirm the subscription within an hour.")


def test_removing_the_feed_from_the_last_pln_unsubscribes_at_the_hub(pushed_feed, callback_site):
    subscription = subscribed(pushed_feed)
    callback = f"{callback_site}/websub/callback/{subscription.callback_token}/"

    assert subscription_remove(subscription=Subscription.objects.get(feed=pushed_feed.feed)) is True

    given_up = WebSubSubscription.objects.get(pk=subscription.pk)
    assert (given_up.feed_id, given_up.state) == (None, "unsubscribing")
    assert ("websub.unsubscribe", {"subscription_id": subscription.pk}) in queued_tasks()
    assert websub_unsubscribe(subscription_id=subscription.pk) is True
    verification = pushed_feed.hub.wait_for(2)[1]
    assert pushed_feed.hub.requests[1] == {
        "hub.callback": callback,
        "hub.mode": "unsubscribe",
        "hub.topic": pushed_feed.topic,
    }
    assert (verification.mode, verification.confirmed) == ("unsubscribe", True)
    assert WebSubSubscription.objects.filter(pk=subscription.pk).exists() is False
    assert pushed_feed.hub.subscriptions == {}
    late = Client().post(callback.removeprefix(callback_site), b"<rss/>", content_type="application/rss+xml")
    assert late.status_code == 410


def test_a_feed_someone_else_still_reads_keeps_its_subscription(pushed_feed):
    subscription = subscribed(pushed_feed)
    SubscriptionFactory(feed=pushed_feed.feed)

    subscription_remove(subscription=Subscription.objects.filter(feed=pushed_feed.feed).first())
    websub_subscriptions_maintain()

    assert WebSubSubscription.objects.get(pk=subscription.pk).state == "active"
    assert [r["hub.mode"] for r in pushed_feed.hub.requests] == ["subscribe"]


@pytest.mark.parametrize("status", ["retired", "paused"])
def test_a_retired_or_paused_feed_is_unsubscribed_by_the_maintenance(pushed_feed, status):
    subscription = subscribed(pushed_feed)
    Feed.objects.filter(pk=pushed_feed.feed.pk).update(status=status)

    assert websub_subscriptions_maintain().given_up == 1
    websub_unsubscribe(subscription_id=subscription.pk)
    pushed_feed.hub.wait_for(2)

    assert WebSubSubscription.objects.filter(pk=subscription.pk).exists() is False
    assert Feed.objects.get(pk=pushed_feed.feed.pk).status == status
    assert pushed_feed.hub.subscriptions == {}


def test_an_unsubscription_the_hub_never_confirms_is_asked_again_then_dropped_after_the_lease(pushed_feed):
    pushed_feed.hub.lease_seconds = 86400
    subscription = subscribed(pushed_feed)
    subscription_remove(subscription=Subscription.objects.get(feed=pushed_feed.feed))
    pushed_feed.hub.stop()
    assert websub_unsubscribe(subscription_id=subscription.pk) is False
    requested_at = WebSubSubscription.objects.get(pk=subscription.pk).requested_at

    soon = websub_subscriptions_maintain(now=requested_at + timedelta(minutes=29))
    later = websub_subscriptions_maintain(now=requested_at + timedelta(minutes=31))
    assert (soon.unsubscribes_sent, later.unsubscribes_sent, later.removed) == (0, 1, 0)

    over = websub_subscriptions_maintain(now=subscription.lease_expires_at + timedelta(seconds=1))
    assert over.removed == 1
    assert WebSubSubscription.objects.count() == 0


def test_switching_websub_off_gives_every_subscription_up(pushed_feed, settings):
    subscription = subscribed(pushed_feed)
    settings.WEBSUB_ENABLED = False

    assert websub_subscriptions_maintain().given_up == 1
    feed_fetch(feed_id=pushed_feed.feed.pk)

    assert list(WebSubSubscription.objects.values_list("pk", "state", "feed_id")) == [
        (subscription.pk, "unsubscribing", None)
    ]


def test_a_push_whose_task_was_lost_is_queued_again(pushed_feed):
    subscription = subscribed(pushed_feed)
    left = WebSubPush.objects.create(
        subscription=subscription, body=b"<rss/>", received_at=timezone.now() - timedelta(minutes=6)
    )
    fresh = WebSubPush.objects.create(subscription=subscription, body=b"<rss/>")
    _redis().delete(django_settings.CELERY_TASK_DEFAULT_QUEUE)

    assert websub_subscriptions_maintain().pushes_requeued == 1
    assert queued_tasks() == [("websub.ingest_push", {"push_id": left.pk})]
    assert WebSubPush.objects.filter(pk=fresh.pk).exists()
