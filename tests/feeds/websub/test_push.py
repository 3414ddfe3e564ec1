"""Pushes: the signature over the raw body, the size cap, storing through the
poll's own parse and upsert (exactly once), and a real worker doing it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feeds.ingest import feed_fetch
from feeds.models import Entry, FetchLog
from feeds.websub.models import WebSubPush, WebSubSubscription
from feeds.websub.services import websub_push_ingest, websub_subscribe
from tests.factories import FeedFactory, SubscriptionFactory
from tests.feeds.test_stream import article_titles
from tests.feeds.test_workers import Worker, wait_for

from .hub import feed_document

TOPIC = "https://blog.example.org/feed.xml"


def sign(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}={hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()}"


def document(*items: tuple[str, str]) -> bytes:
    return feed_document(hub_url="https://hub.example.org/", self_url=TOPIC, items=list(items))


@pytest.fixture
def active(db) -> WebSubSubscription:
    feed = FeedFactory(url=TOPIC, title="Pushed blog")
    SubscriptionFactory(feed=feed)
    now = timezone.now()
    return WebSubSubscription.objects.create(
        feed=feed,
        hub_url="https://hub.example.org/",
        topic_url=TOPIC,
        callback_token=secrets.token_urlsafe(32),
        secret=secrets.token_hex(32),
        state="active",
        requested_at=now,
        verified_at=now,
        lease_seconds=3600,
        lease_expires_at=now + timedelta(hours=1),
    )


def push(subscription, body: bytes, signature: str | None = None, **headers):
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE"] = signature
    return Client().post(
        f"/websub/callback/{subscription.callback_token}/", body, content_type="application/rss+xml", **headers
    )


def counters(subscription) -> tuple[int, int, int, int]:
    subscription.refresh_from_db()
    return (
        subscription.pushes_received,
        subscription.refused_unsigned,
        subscription.refused_bad_signature,
        subscription.refused_too_large,
    )


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_a_push_signed_with_any_registered_algorithm_is_kept_for_the_task(active, algorithm):
    body = document(("p2", "Second post"), ("p1", "First post"))

    response = push(active, body, sign(active.secret, body, algorithm))

    [stored] = WebSubPush.objects.all()
    assert (response.status_code, response.content) == (202, b"")
    assert (bytes(stored.body), stored.content_type) == (body, "application/rss+xml")
    assert counters(active) == (1, 0, 0, 0)
    assert Entry.objects.filter(feed=active.feed).count() == 0  # nothing parsed in the request


def test_the_task_stores_the_push_through_the_poll_path_once(active):
    body = document(("p2", "Second <script>alert(1)</script>post"), ("p1", "First post"))
    push(active, body, sign(active.secret, body))
    push_id = WebSubPush.objects.get().pk

    assert websub_push_ingest(push_id=push_id) == 2
    assert websub_push_ingest(push_id=push_id) is None  # a second delivery of the task

    entries = Entry.objects.filter(feed=active.feed).order_by("identity")
    assert [(e.identity, e.title, e.summary) for e in entries] == [
        ("p1", "First post", "About First post."),
        ("p2", "Second post", "About Second post."),  # sanitized as a poll is
    ]
    active.refresh_from_db()
    assert (active.pushed_entries, WebSubPush.objects.count()) == (2, 0)


def test_an_entry_pushed_again_is_not_stored_twice(active):
    first = document(("p1", "First post"))
    second = document(("p2", "Second post"), ("p1", "First post"))
    for body in (first, second):
        push(active, body, sign(active.secret, body))
    for pending in WebSubPush.objects.order_by("pk"):
        websub_push_ingest(push_id=pending.pk)

    assert sorted(Entry.objects.filter(feed=active.feed).values_list("identity", flat=True)) == ["p1", "p2"]
    active.refresh_from_db()
    assert (active.pushes_received, active.pushed_entries) == (2, 2)


@pytest.mark.parametrize(
    ("signature", "refused"),
    [
        (None, (0, 1, 0, 0)),
        ("", (0, 1, 0, 0)),
        ("wrong-key", (0, 0, 1, 0)),
        ("md5=" + "0" * 32, (0, 0, 1, 0)),
        ("sha256=", (0, 0, 1, 0)),
        ("sha256=ünïcode", (0, 0, 1, 0)),
        ("tampered", (0, 0, 1, 0)),
    ],
)
def test_an_unsigned_or_wrongly_signed_push_is_ignored_and_counted(active, signature, refused):
    body = document(("p1", "First post"))
    if signature == "wrong-key":
        signature = sign("not the secret", body)
    elif signature == "tampered":
        signature = sign(active.secret, body + b" ")

    response = push(active, body, signature)

    assert (response.status_code, response.content) == (202, b"")  # as for a good one: nothing to learn
    assert counters(active) == refused
    assert active.last_refused_at is not None
    assert (WebSubPush.objects.count(), Entry.objects.filter(feed=active.feed).count()) == (0, 0)


def test_a_push_over_the_size_cap_is_refused_unread(active, settings):
    settings.FEED_MAX_BYTES = 2000
    body = document(*[(f"p{n}", "A post with a long enough title " * 3) for n in range(20)])
    assert len(body) > 2000

    response = push(active, body, sign(active.secret, body))

    assert (response.status_code, response.content) == (
        413,
        b"The update is larger than the 2000 bytes plnorg accepts.",
    )
    assert counters(active) == (0, 0, 0, 1)
    assert WebSubPush.objects.count() == 0


def test_a_push_of_exactly_the_size_cap_is_accepted(active, settings):
    body = document(("p1", "First post"))
    settings.FEED_MAX_BYTES = len(body)

    assert push(active, body, sign(active.secret, body)).status_code == 202
    assert counters(active) == (1, 0, 0, 0)


def test_a_push_to_a_subscription_given_up_is_gone(active):
    body = document(("p1", "First post"))
    WebSubSubscription.objects.filter(pk=active.pk).update(feed=None, state="unsubscribing")

    given_up = push(active, body, sign(active.secret, body))
    unknown = Client().post("/websub/callback/nobody/", body, content_type="application/rss+xml")

    assert (given_up.status_code, given_up.content) == (410, b"plnorg no longer wants updates at this address.")
    assert unknown.status_code == 410
    assert WebSubPush.objects.count() == 0


def test_an_unreadable_push_is_dropped_with_the_reason_kept(active):
    body = b"<html><body>not a feed</body></html>"
    push(active, body, sign(active.secret, body))

    assert websub_push_ingest(push_id=WebSubPush.objects.get().pk) == 0

    active.refresh_from_db()
    assert active.last_error == (
        "A pushed update could not be read: The address returned a web page (HTML), not a feed. Check the feed address."
    )
    assert (WebSubPush.objects.count(), Entry.objects.filter(feed=active.feed).count()) == (0, 0)


def test_the_callback_refuses_other_methods(active):
    response = Client().put(f"/websub/callback/{active.callback_token}/", b"x")

    assert response.status_code == 405


def test_refused_and_accepted_pushes_reach_the_metrics(active, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    body = document(("p1", "First post"))
    push(active, body, sign(active.secret, body))
    push(active, body)
    push(active, body, sign("guess", body))
    push(active, body, sign("guess", body))

    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()

    assert 'plnorg_websub_pushes_refused{reason="unsigned"} 1.0' in text
    assert 'plnorg_websub_pushes_refused{reason="bad_signature"} 2.0' in text
    assert 'plnorg_websub_pushes_refused{reason="too_large"} 0.0' in text
    assert "plnorg_websub_pushes_received 1.0" in text
    assert 'plnorg_websub_subscriptions{state="active"} 1.0' in text


# --- Through the local hub and a real worker ----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_published_at_the_hub_stored_once_by_a_worker_and_the_poll_adds_nothing(pushed_feed, callback_site):
    worker = Worker("websub", concurrency=1, SITE_URL=callback_site).wait_ready()
    try:
        feed_fetch(feed_id=pushed_feed.feed.pk)  # finds the hub; the worker subscribes
        wait_for(
            lambda: WebSubSubscription.objects.filter(feed=pushed_feed.feed, state="active").exists(),
            what="the subscription to be verified",
        )
        # The callback stores "active" before it answers; the hub records the
        # subscriber only once that answer reaches it, so wait for the hub too.
        pushed_feed.hub.wait_for(1)
        body = pushed_feed.document([("p2", "Second post"), ("p1", "First post")])

        assert pushed_feed.hub.publish(pushed_feed.topic, body) == [202]
        wait_for(lambda: Entry.objects.filter(feed=pushed_feed.feed, identity="p2").exists(), what="the pushed entry")
    finally:
        worker.stop()

    subscription = WebSubSubscription.objects.get(feed=pushed_feed.feed)
    assert (subscription.pushes_received, subscription.pushed_entries, WebSubPush.objects.count()) == (1, 1, 0)
    pushed_feed.server.set(pushed_feed.path, body)
    feed_fetch(feed_id=pushed_feed.feed.pk)
    assert list(Entry.objects.filter(feed=pushed_feed.feed).order_by("identity").values_list("identity", "title")) == [
        ("p1", "First post"),
        ("p2", "Second post"),
    ]
    assert FetchLog.objects.order_by("-started_at").values_list("outcome", "new_entries").first() == ("not_modified", 0)
    member = pushed_feed.feed.subscriptions.get().member
    reader = Client()
    reader.force_login(member.user)
    assert article_titles(reader.get("/stream/", {"member": member.pk})) == ["Second post", "First post"]


@pytest.mark.django_db(transaction=True)
def test_wrong_and_missing_signatures_from_the_hub_store_nothing(pushed_feed):
    feed_fetch(feed_id=pushed_feed.feed.pk)
    subscription = WebSubSubscription.objects.get(feed=pushed_feed.feed)
    websub_subscribe(subscription_id=subscription.pk)
    pushed_feed.hub.wait_for(1)
    body = pushed_feed.document([("p2", "Forged post")])

    statuses = [
        pushed_feed.hub.publish(pushed_feed.topic, body, algorithm=None),
        pushed_feed.hub.publish(pushed_feed.topic, body, secret="not-the-secret"),
        pushed_feed.hub.publish(pushed_feed.topic, body, algorithm="sha1", secret="not-the-secret"),
    ]

    assert statuses == [[202], [202], [202]]
    assert counters(subscription) == (0, 1, 2, 0)
    assert (WebSubPush.objects.count(), Entry.objects.filter(identity="p2").count()) == (0, 0)
