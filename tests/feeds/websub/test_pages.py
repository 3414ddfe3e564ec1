"""Where instant updates show: My PLN's fetch health, the admin's feed health
and subscription list (never the secret), the beat schedule, the 304 path."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feeds.ingest import feeds_fetch_batch
from feeds.models import Feed
from feeds.websub import tasks
from feeds.websub.models import WebSubSubscription
from plnorg.celery import app
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def websub_for(feed: Feed, state: str = "active", **fields) -> WebSubSubscription:
    now = timezone.now()
    defaults = {
        "hub_url": "https://hub.example.org/",
        "topic_url": feed.url,
        "callback_token": secrets.token_urlsafe(32),
        "secret": secrets.token_hex(32),
        "state": state,
        "requested_at": now,
        "verified_at": now if state == "active" else None,
        "lease_seconds": 86400 if state == "active" else None,
        "lease_expires_at": now + timedelta(days=1) if state == "active" else None,
    }
    return WebSubSubscription.objects.create(feed=feed, **{**defaults, **fields})


@pytest.fixture
def me(client):
    member = MemberFactory(display_name="Ana Test")
    client.force_login(member.user)
    return member


def health_of(page: str, title: str) -> str:
    """The fetch-health text of one subscription row on My PLN."""
    row = page.split(title, 1)[1]
    return row.split("Fetch health", 1)[1].split("Edit", 1)[0]


def test_my_pln_says_whether_instant_updates_are_on(client, me):
    titles = ["Pushed blog", "Connecting blog", "Failed blog", "Expired blog", "Plain blog"]
    feeds = {title: FeedFactory(title=title, last_success_at=timezone.now()) for title in titles}
    for feed in feeds.values():
        SubscriptionFactory(member=me, feed=feed)
    websub_for(feeds["Pushed blog"])
    websub_for(feeds["Connecting blog"], state="pending")
    websub_for(feeds["Failed blog"], state="failed", last_error="The hub denied the subscription.")
    websub_for(feeds["Expired blog"], lease_expires_at=timezone.now() - timedelta(seconds=1))

    page = text_of(client.get(reverse("feeds:my_pln")))

    on = "Instant updates on: the site's hub sends new posts as they are published; plnorg still checks once a day"
    assert on in health_of(page, "Pushed blog")
    assert "Instant updates connecting to the site's hub" in health_of(page, "Connecting blog")
    assert "Instant updates off: fetched on the usual schedule" in health_of(page, "Failed blog")
    assert "Instant updates off: fetched on the usual schedule" in health_of(page, "Expired blog")
    assert "Instant updates" not in health_of(page, "Plain blog")
    assert "denied" not in page  # the hub's story is for admins


def test_my_pln_query_count_does_not_grow_with_instant_updates(client, me):
    first = SubscriptionFactory(member=me)
    websub_for(first.feed)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("feeds:my_pln"))
    for _ in range(6):
        websub_for(SubscriptionFactory(member=me).feed)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("feeds:my_pln"))

    assert text_of(response).count("Instant updates on") == 7
    assert len(many) == len(one)


def test_admin_feed_health_shows_and_filters_instant_updates(client_as):
    pushed = FeedFactory(title="Pushed feed")
    lease_end = timezone.now() + timedelta(days=3)
    websub_for(pushed, lease_expires_at=lease_end)
    websub_for(FeedFactory(title="Connecting feed"), state="pending")
    FeedFactory(title="Polled feed")
    client = client_as("admin")

    everything = text_of(client.get("/admin/feeds/feed/?q=feed"))
    instant = text_of(client.get("/admin/feeds/feed/?health=instant"))

    assert f"on, lease until {timezone.localtime(lease_end):%Y-%m-%d %H:%M}" in everything
    assert "Waiting for the hub to confirm" in everything
    assert {t for t in ("Pushed feed", "Connecting feed", "Polled feed") if t in instant} == {"Pushed feed"}


def test_admin_feed_health_query_count_is_the_same_with_1_and_10_subscriptions(client_as):
    client = client_as("admin")
    url = "/admin/feeds/feed/?health=instant"

    def queries() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured)

    websub_for(FeedFactory(title="Pushed 0"))
    one = queries()
    for n in range(1, 10):
        websub_for(FeedFactory(title=f"Pushed {n}"))

    assert queries() == one


def test_the_admin_never_shows_the_secret_and_only_a_hint_of_the_token(client_as):
    subscription = websub_for(FeedFactory(title="Pushed feed"))
    client = client_as("admin")

    listing = client.get("/admin/websub/websubsubscription/").content.decode()
    detail = client.get(f"/admin/websub/websubsubscription/{subscription.pk}/change/").content.decode()

    assert "Pushed feed" in text_of(listing)
    assert f"{subscription.callback_token[:4]}…" in text_of(detail)
    for page in (listing, detail):
        assert subscription.secret not in page
        assert subscription.callback_token not in page
    assert client.post(f"/admin/websub/websubsubscription/{subscription.pk}/delete/").status_code == 403


def test_the_maintenance_runs_every_five_minutes_from_the_one_schedule():
    entry = app.conf.beat_schedule["maintain-websub-subscriptions"]

    assert entry["task"] == "websub.maintain_subscriptions"
    assert sorted(entry["schedule"].minute) == list(range(2, 60, 5))
    assert tasks.maintain_subscriptions.name == "websub.maintain_subscriptions"
    assert "websub.maintain_subscriptions" in app.tasks


@pytest.mark.parametrize("leased", [False, True], ids=["fetch now", "scheduled batch"])
def test_a_pushed_feed_answering_304_is_polled_daily_and_the_others_as_usual(servers, leased):
    server = servers("127.0.0.2")
    queued = timezone.now() + timedelta(minutes=5)  # as the scheduler leases them
    pushed = FeedFactory(url=server.set("/pushed.xml", b"<rss/>", etag='"1"'), etag='"1"', next_fetch_at=queued)
    polled = FeedFactory(url=server.set("/polled.xml", b"<rss/>", etag='"1"'), etag='"1"', next_fetch_at=queued)
    websub_for(pushed)
    before = timezone.now()

    outcomes = feeds_fetch_batch(feed_ids=[pushed.pk, polled.pk], lease=queued.isoformat() if leased else None).outcomes

    assert sorted(o.outcome for o in outcomes) == ["not_modified", "not_modified"]
    next_fetch = dict(Feed.objects.filter(pk__in=[pushed.pk, polled.pk]).values_list("pk", "next_fetch_at"))
    assert before + timedelta(hours=21.5) < next_fetch[pushed.pk] < before + timedelta(hours=26.5)
    assert next_fetch[polled.pk] < before + timedelta(hours=1.2)


def test_the_callback_is_exempt_from_csrf_and_nothing_else_of_websub_is(client):
    from core.permissions import CSRF_EXEMPT_URL_NAMES

    assert {name for name in CSRF_EXEMPT_URL_NAMES if name.startswith("websub:")} == {"websub:callback"}
    response = Client(enforce_csrf_checks=True).post("/websub/callback/nobody/", b"<rss/>", content_type="text/xml")
    assert response.status_code == 410
