"""Feed health: the include, "fetch now" / "try again", the admin list, /healthz."""

import json

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feeds.models import Feed
from tests.factories import FeedFactory, SubscriptionFactory
from tests.pages import text_of


@pytest.fixture
def member_feed(db):
    subscription = SubscriptionFactory(feed=FeedFactory(title="Ana's blog"))
    client = Client()
    client.force_login(subscription.member.user)
    return client, subscription.feed


@pytest.mark.django_db
def test_fetch_now_leases_the_feed_and_says_so(member_feed):
    client, feed = member_feed
    Feed.objects.filter(pk=feed.pk).update(next_fetch_at=timezone.now() + timezone.timedelta(hours=20))

    response = client.post(f"/feeds/{feed.pk}/fetch-now/", {"next": "/home/"}, follow=True)

    feed.refresh_from_db()
    assert "Ana's blog will be fetched in a moment." in text_of(response)
    assert feed.next_fetch_at < timezone.now() + timezone.timedelta(minutes=6)


@pytest.mark.django_db
def test_fetch_now_at_most_once_a_minute(member_feed):
    client, feed = member_feed
    client.post(f"/feeds/{feed.pk}/fetch-now/", {"next": "/home/"})

    response = client.post(f"/feeds/{feed.pk}/fetch-now/", {"next": "/home/"}, follow=True)

    assert "Ana's blog was fetched less than a minute ago." in text_of(response)


@pytest.mark.django_db
def test_try_again_reactivates_a_paused_feed(member_feed):
    client, feed = member_feed
    Feed.objects.filter(pk=feed.pk).update(status="paused", error_count=10)

    client.post(f"/feeds/{feed.pk}/fetch-now/", {"next": "/home/"})

    feed.refresh_from_db()
    assert (feed.status, feed.error_count) == ("active", 0)


@pytest.mark.django_db
def test_fetch_now_of_someone_elses_feed_is_not_found(member_feed, client_as):
    _, feed = member_feed

    response = client_as("employee").post(f"/feeds/{feed.pk}/fetch-now/")

    assert response.status_code == 404
    assert Feed.objects.get(pk=feed.pk).last_fetched_at is None


@pytest.mark.django_db
def test_fetch_now_of_a_sample_feed_explains(client_as, persona_user):
    feed = Feed.objects.filter(is_demo=True, subscriptions__member__user=persona_user("employee")).first()
    before = feed.next_fetch_at

    response = client_as("employee").post(f"/feeds/{feed.pk}/fetch-now/", {"next": "/home/"}, follow=True)

    assert "is a sample feed; plnorg does not fetch it." in text_of(response)
    assert Feed.objects.get(pk=feed.pk).next_fetch_at == before


@pytest.mark.django_db
def test_fetch_now_refuses_get(member_feed):
    client, feed = member_feed
    assert client.get(f"/feeds/{feed.pk}/fetch-now/").status_code == 405


@pytest.mark.django_db
def test_health_include_shows_error_and_try_again():
    feed = FeedFactory(
        status="paused",
        error_count=10,
        last_error="The server answered 500 Internal Server Error.",
        last_error_at=timezone.now(),
    )

    text = text_of(render_to_string("feeds/includes/feed_health.html", {"feed": feed, "next": "/x/"}))

    assert "Paused after repeated errors" in text
    assert "Last problem The server answered 500 Internal Server Error." in text
    assert "Not fetched yet" in text
    assert "Try again" in text
    assert "Fetch now" not in text


@pytest.mark.django_db
def test_health_include_active_feed_shows_next_fetch_and_fetch_now():
    feed = FeedFactory(last_success_at=timezone.now())

    text = text_of(render_to_string("feeds/includes/feed_health.html", {"feed": feed}))

    assert "Status Active Last success now Next fetch now" in text
    assert "Fetch now" in text


@pytest.mark.django_db
def test_admin_feed_health_filters(client_as):
    FeedFactory(title="Broken feed", error_count=3)
    FeedFactory(title="Paused feed", status="paused", error_count=10)
    FeedFactory(title="Gone feed", status="retired")
    FeedFactory(title="Fresh feed")
    client = client_as("admin")

    shown = {}
    for value in ("failing", "paused", "retired", "never"):
        text = text_of(client.get(f"/admin/feeds/feed/?health={value}"))
        shown[value] = {t for t in ("Broken feed", "Paused feed", "Gone feed", "Fresh feed") if t in text}

    assert shown == {
        "failing": {"Broken feed"},
        "paused": {"Paused feed"},
        "retired": {"Gone feed"},
        "never": {"Broken feed", "Paused feed", "Gone feed", "Fresh feed"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "health, make",
    [
        pytest.param(
            "failing",
            {"error_count": 3, "last_error": "The site had a server error (500 Internal Server Error)."},
            id="failing",
        ),
        pytest.param(
            "paused",
            {"status": "paused", "error_count": 10, "last_error": "The server took too long to answer."},
            id="paused",
        ),
        pytest.param("retired", {"status": "retired"}, id="retired"),
    ],
)
def test_admin_feed_health_list_query_count_is_the_same_for_1_and_20_feeds(client_as, health, make):
    client = client_as("admin")
    url = f"/admin/feeds/feed/?health={health}"

    def queries() -> tuple[int, str]:
        client.get(url)  # warm per-process caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), text_of(response)

    FeedFactory(title="Health 00", **make)
    one, one_text = queries()
    for n in range(1, 20):
        FeedFactory(title=f"Health {n:02d}", **make)
    many, many_text = queries()

    assert "1 feed" in one_text and "Health 00" in one_text
    assert "20 feeds" in many_text and all(f"Health {n:02d}" in many_text for n in range(20))
    assert many == one


@pytest.mark.django_db
def test_healthz_reports_queue_depth(client, settings):
    from feeds.scheduler import _redis

    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    _redis().rpush(settings.CELERY_TASK_DEFAULT_QUEUE, "a", "b")
    try:
        report = json.loads(client.get("/healthz").content)
    finally:
        _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    assert report["queue_depth"] == 2
    assert "beat_last_run" in report


@pytest.mark.django_db
def test_a_feed_cut_to_its_newest_500_entries_says_so_in_my_pln_and_the_admin(servers, client_as):
    from feeds.ingest import feed_fetch
    from feeds.models import Entry, FetchLog
    from tests.feeds.servers import numbered_items, rss

    server = servers("127.0.0.1")
    items = [{"guid": f"urn:long:{n}", "title": f"Post {n}"} for n in range(10_000)]
    url = server.set("/long.xml", rss(items))
    feed = FeedFactory(url=url, title="The long feed")
    member = SubscriptionFactory(feed=feed, is_shared=True).member
    client = Client()
    client.force_login(member.user)
    notice = "The feed lists 10,000 entries: plnorg kept the newest 500."

    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert (feed.fetch_notice, feed.last_error, Entry.objects.filter(feed=feed).count()) == (notice, "", 500)
    assert FetchLog.objects.get(feed=feed).error == notice
    my_pln = text_of(client.get("/me/pln/"))
    assert f"Working: last fetched 0 minutes ago. {notice}" in my_pln
    assert f"Notice {notice}" in my_pln  # in the fetch health details
    admin = client_as("admin")
    assert notice in text_of(admin.get("/admin/feeds/feed/?q=long"))
    assert "The long feed" in text_of(admin.get("/admin/feeds/feed/?health=notice"))

    # The feed gets shorter: the next fetch has nothing to tell.
    server.set("/long.xml", rss(numbered_items(20, prefix="short")))
    feed.refresh_from_db()
    feed.etag = feed.last_modified = ""
    feed.save()
    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.fetch_notice == ""
    assert "Notice" not in text_of(client.get("/me/pln/"))
    assert "The long feed" not in text_of(admin.get("/admin/feeds/feed/?health=notice"))
