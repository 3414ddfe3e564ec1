"""Subscribing: discovery on a fetch, the request to the hub, verification of
intent (the local hub calls plnorg's callback on the live server), refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feeds.ingest import feed_fetch
from feeds.models import Feed
from feeds.websub.models import WebSubSubscription
from feeds.websub.services import websub_subscribe
from tests.factories import FeedFactory, SubscriptionFactory

from .hub import feed_document

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def subscribed(pushed) -> WebSubSubscription:
    """Fetch the feed (which finds the hub), send the subscription request,
    wait for the hub's verification; the subscription as stored then."""
    feed_fetch(feed_id=pushed.feed.pk)
    subscription = WebSubSubscription.objects.get(feed=pushed.feed)
    assert websub_subscribe(subscription_id=subscription.pk) is True
    pushed.hub.wait_for(1)
    subscription.refresh_from_db()
    return subscription


def test_a_fetch_finds_the_hub_in_the_feed_and_subscribes_once_verified(pushed_feed, callback_site):
    feed_fetch(feed_id=pushed_feed.feed.pk)
    pending = WebSubSubscription.objects.get(feed=pushed_feed.feed)
    assert (pending.state, pending.hub_url, pending.topic_url) == ("pending", pushed_feed.hub.url, pushed_feed.topic)

    assert websub_subscribe(subscription_id=pending.pk) is True
    [verification] = pushed_feed.hub.wait_for(1)

    [request] = pushed_feed.hub.requests
    callback = f"{callback_site}/websub/callback/{pending.callback_token}/"
    assert request == {
        "hub.callback": callback,
        "hub.mode": "subscribe",
        "hub.topic": pushed_feed.topic,
        "hub.lease_seconds": "864000",
        "hub.secret": pending.secret,
    }
    assert len(pending.secret) == 64 and len(pending.callback_token) == 43
    assert (verification.status, verification.body, verification.confirmed) == (
        200,
        verification.challenge.encode(),
        True,
    )
    assert verification.content_type == "text/plain; charset=utf-8"
    active = WebSubSubscription.objects.get(pk=pending.pk)
    assert active.state == "active"
    assert (active.lease_seconds, active.lease_expires_at - active.verified_at) == (864000, timedelta(days=10))
    assert list(pushed_feed.hub.subscriptions) == [(callback, pushed_feed.topic)]


def test_the_link_header_comes_before_the_document(servers, hubs, callback_site):
    server = servers("127.0.0.2")
    header_hub, document_hub = hubs("127.0.0.4"), hubs("127.0.0.5")
    topic = "https://blog.example.org/canonical.xml"
    body = feed_document(hub_url=document_hub.url, self_url=server.url("/feed.xml"), items=[("p1", "First")])
    url = server.set("/feed.xml", body, headers={"Link": f'<{header_hub.url}>; rel="hub", <{topic}>; rel="self"'})
    feed = FeedFactory(url=url)
    SubscriptionFactory(feed=feed)

    feed_fetch(feed_id=feed.pk)
    subscription = WebSubSubscription.objects.get(feed=feed)
    websub_subscribe(subscription_id=subscription.pk)
    header_hub.wait_for(1)

    assert (subscription.hub_url, subscription.topic_url) == (header_hub.url, topic)
    assert [r["hub.topic"] for r in header_hub.requests] == [topic]
    assert document_hub.requests == []
    assert WebSubSubscription.objects.get(pk=subscription.pk).state == "active"


def test_a_hub_that_verifies_before_it_answers_finds_the_subscription_pending(pushed_feed):
    pushed_feed.hub.verify_before_answer = True

    subscription = subscribed(pushed_feed)

    assert pushed_feed.hub.verifications[0].confirmed
    assert subscription.state == "active"


def test_a_feed_without_a_hub_or_without_readers_is_not_subscribed(servers, hubs, callback_site):
    server = servers("127.0.0.2")
    hub = hubs()
    plain = FeedFactory(url=server.set("/plain.xml", feed_document(hub_url=None, self_url=None, items=[("a", "A")])))
    SubscriptionFactory(feed=plain)
    unread = FeedFactory(
        url=server.set("/unread.xml", feed_document(hub_url=hub.url, self_url=None, items=[("b", "B")]))
    )

    feed_fetch(feed_id=plain.pk)
    feed_fetch(feed_id=unread.pk)

    assert WebSubSubscription.objects.count() == 0
    assert hub.requests == []


def test_a_second_fetch_changes_nothing(pushed_feed):
    subscription = subscribed(pushed_feed)

    feed_fetch(feed_id=pushed_feed.feed.pk)

    assert list(WebSubSubscription.objects.values_list("pk", "state")) == [(subscription.pk, "active")]
    assert len(pushed_feed.hub.requests) == 1


def test_an_active_feed_is_polled_daily_as_a_safety_net(pushed_feed):
    subscribed(pushed_feed)
    before = timezone.now()

    feed_fetch(feed_id=pushed_feed.feed.pk)

    next_fetch_at = Feed.objects.get(pk=pushed_feed.feed.pk).next_fetch_at
    assert before + timedelta(hours=21.5) < next_fetch_at < before + timedelta(hours=26.5)


def test_a_refusing_hub_fails_the_subscription_and_says_why(pushed_feed):
    pushed_feed.hub.answer_status = 400
    pushed_feed.hub.answer_text = "Topic <b>not</b> allowed here."
    feed_fetch(feed_id=pushed_feed.feed.pk)
    subscription = WebSubSubscription.objects.get(feed=pushed_feed.feed)

    assert websub_subscribe(subscription_id=subscription.pk) is False

    subscription.refresh_from_db()
    assert subscription.state == "failed"
    assert subscription.last_error == "The hub refused the request (HTTP 400): Topic not allowed here."
    assert pushed_feed.hub.verifications == []


def test_a_hub_on_a_private_address_is_never_contacted(servers, hubs, callback_site, settings):
    server = servers("127.0.0.2")
    trap = hubs("127.0.0.3")
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.2/32"]  # the feed is reachable, the hub is not
    feed = FeedFactory(url=server.set("/f.xml", feed_document(hub_url=trap.url, self_url=None, items=[("a", "A")])))
    SubscriptionFactory(feed=feed)
    feed_fetch(feed_id=feed.pk)
    subscription = WebSubSubscription.objects.get(feed=feed)

    assert websub_subscribe(subscription_id=subscription.pk) is False

    subscription.refresh_from_db()
    assert subscription.state == "failed"
    assert subscription.last_error == (
        "plnorg could not reach the hub: That address points back to the server plnorg runs on "
        "(a loopback address), so plnorg will not fetch it."
    )
    assert trap.requests == []


def test_a_hub_that_denies_the_subscription_sends_the_feed_back_to_polling(pushed_feed, callback_site):
    subscription = subscribed(pushed_feed)
    Feed.objects.filter(pk=pushed_feed.feed.pk).update(next_fetch_at=timezone.now() + timedelta(hours=24))
    callback = f"{callback_site}/websub/callback/{subscription.callback_token}/"

    status = pushed_feed.hub.deny(callback, pushed_feed.topic, "Publisher <i>asked</i> us to stop")

    subscription.refresh_from_db()
    assert status == 200
    assert (subscription.state, subscription.last_error) == (
        "failed",
        "The hub denied the subscription: Publisher asked us to stop",
    )
    assert Feed.objects.get(pk=pushed_feed.feed.pk).next_fetch_at <= timezone.now()


def test_a_failed_subscription_is_tried_again_a_day_later(pushed_feed):
    pushed_feed.hub.answer_status = 503
    feed_fetch(feed_id=pushed_feed.feed.pk)
    subscription = WebSubSubscription.objects.get(feed=pushed_feed.feed)
    websub_subscribe(subscription_id=subscription.pk)

    feed_fetch(feed_id=pushed_feed.feed.pk)
    assert WebSubSubscription.objects.get(pk=subscription.pk).state == "failed"

    WebSubSubscription.objects.filter(pk=subscription.pk).update(requested_at=timezone.now() - timedelta(days=1))
    feed_fetch(feed_id=pushed_feed.feed.pk)
    assert WebSubSubscription.objects.get(pk=subscription.pk).state == "pending"


def test_a_new_hub_replaces_the_old_subscription(pushed_feed, hubs):
    old = subscribed(pushed_feed)
    new_hub = hubs("127.0.0.5")
    pushed_feed.server.set(
        pushed_feed.path, feed_document(hub_url=new_hub.url, self_url=pushed_feed.topic, items=[("p1", "First post")])
    )

    feed_fetch(feed_id=pushed_feed.feed.pk)

    old.refresh_from_db()
    new = WebSubSubscription.objects.get(feed=pushed_feed.feed)
    assert (old.feed_id, old.state) == (None, "unsubscribing")
    assert (new.hub_url, new.state) == (new_hub.url, "pending")


# --- Verification of intent, as the callback answers it ------------------------------


@pytest.fixture
def pending(pushed_feed) -> WebSubSubscription:
    feed_fetch(feed_id=pushed_feed.feed.pk)
    return WebSubSubscription.objects.get(feed=pushed_feed.feed)


def verify(subscription, **params) -> tuple[int, bytes, str, str]:
    query = {
        "hub.mode": "subscribe",
        "hub.topic": subscription.topic_url,
        "hub.challenge": "c",
        "hub.lease_seconds": "3600",
        **params,
    }
    response = Client().get(f"/websub/callback/{subscription.callback_token}/", {k: v for k, v in query.items() if v})
    return response.status_code, response.content, response["Content-Type"], response.get("X-Content-Type-Options", "")


def test_the_challenge_is_echoed_exactly_as_plain_text(pending):
    challenge = "<script>alert(1)</script> &amp; é ✓ %2F"

    status, body, content_type, sniffing = verify(pending, **{"hub.challenge": challenge})

    assert (status, body.decode(), content_type, sniffing) == (200, challenge, "text/plain; charset=utf-8", "nosniff")
    assert WebSubSubscription.objects.get(pk=pending.pk).state == "active"


def test_a_wrong_topic_is_not_found_and_changes_nothing(pending):
    status, body, _, _ = verify(pending, **{"hub.topic": pending.topic_url + "?other"})

    assert (status, body) == (404, b"No pending subscribe here for that topic.")
    assert WebSubSubscription.objects.get(pk=pending.pk).state == "pending"


def test_an_unknown_callback_is_not_found(pending):
    response = Client().get(
        "/websub/callback/not-a-token/",
        {"hub.mode": "subscribe", "hub.topic": pending.topic_url, "hub.challenge": "c", "hub.lease_seconds": "60"},
    )

    assert (response.status_code, response.content) == (404, b"No pending subscribe here for that topic.")


def test_an_unsubscribe_nobody_asked_for_is_not_found(pending):
    status, _, _, _ = verify(pending, **{"hub.mode": "unsubscribe"})

    assert status == 404
    assert WebSubSubscription.objects.get(pk=pending.pk).state == "pending"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hub.mode": ""}, "This is plnorg's WebSub callback: hub.mode must be subscribe, unsubscribe or denied."),
        (
            {"hub.mode": "publish"},
            "This is plnorg's WebSub callback: hub.mode must be subscribe, unsubscribe or denied.",
        ),
        ({"hub.topic": ""}, "hub.topic is missing."),
        ({"hub.challenge": ""}, "hub.challenge is missing."),
        ({"hub.challenge": "x" * 1001}, "hub.challenge is longer than 1000 characters."),
        ({"hub.lease_seconds": ""}, "hub.lease_seconds must be a positive whole number of seconds."),
        ({"hub.lease_seconds": "0"}, "hub.lease_seconds must be a positive whole number of seconds."),
        ({"hub.lease_seconds": "-5"}, "hub.lease_seconds must be a positive whole number of seconds."),
        ({"hub.lease_seconds": "١٢"}, "hub.lease_seconds must be a positive whole number of seconds."),
    ],
)
def test_a_malformed_verification_is_refused_and_says_why(pending, params, message):
    status, body, _, _ = verify(pending, **params)

    assert (status, body.decode()) == (400, message)
    assert WebSubSubscription.objects.get(pk=pending.pk).state == "pending"


def test_a_very_long_lease_is_capped_at_a_year(pending):
    verify(pending, **{"hub.lease_seconds": "999999999"})

    active = WebSubSubscription.objects.get(pk=pending.pk)
    assert (active.lease_seconds, active.lease_expires_at - active.verified_at) == (366 * 86400, timedelta(days=366))
