"""feed_fetch against local servers: conditional GET, redirects, 410, errors, edits."""

from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from feeds.ingest import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    PAUSE_AFTER_ERRORS,
    backoff_interval,
    feed_fetch,
    feed_fetch_request,
    fetch_logs_purge,
    publishing_interval,
    retry_after,
)
from feeds.models import Entry, EntryLink, Feed, FetchLog, Subscription
from members.models import OutboundEmail
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.feeds.servers import FeedServer, Resource, numbered_items, redirect, rss


@pytest.fixture
def local(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    servers = []

    def start(host="127.0.0.1"):
        server = FeedServer(host)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.django_db
def test_first_fetch_stores_entries_links_and_log(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", rss(numbered_items(3)), etag='"v1"'), title="")

    outcome = feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert (outcome.new_entries, outcome.updated_entries, outcome.http_status) == (3, 0, 200)
    assert sorted(Entry.objects.filter(feed=feed).values_list("identity", flat=True)) == [
        "urn:post:0",
        "urn:post:1",
        "urn:post:2",
    ]
    assert feed.title == "A test feed"
    assert feed.etag == '"v1"'
    assert feed.error_count == 0
    assert feed.last_success_at is not None
    assert sorted(EntryLink.objects.filter(entry__feed=feed).values_list("url", flat=True)) == [
        "https://example.com/read/0",
        "https://example.com/read/1",
        "https://example.com/read/2",
    ]
    log = FetchLog.objects.get(feed=feed)
    assert (log.outcome, log.http_status, log.new_entries, log.updated_entries) == ("ok", 200, 3, 0)
    assert MIN_INTERVAL * 0.9 <= feed.next_fetch_at - timezone.now() <= MAX_INTERVAL * 1.1


@pytest.mark.django_db
def test_second_fetch_sends_etag_and_304_changes_only_timestamps(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", rss(numbered_items(2)), etag='"v1"'))
    feed_fetch(feed_id=feed.pk)
    before = list(Entry.objects.filter(feed=feed).order_by("pk").values())

    outcome = feed_fetch(feed_id=feed.pk)

    assert outcome.outcome == "not_modified"
    assert server.request_headers[-1][1]["if-none-match"] == '"v1"'
    assert list(Entry.objects.filter(feed=feed).order_by("pk").values()) == before
    assert list(FetchLog.objects.filter(feed=feed).order_by("started_at").values_list("outcome", "http_status")) == [
        ("ok", 200),
        ("not_modified", 304),
    ]


@pytest.mark.django_db
def test_edited_entry_is_updated_not_duplicated(local):
    server = local()
    items = numbered_items(2)
    url = server.set("/feed.xml", rss(items))
    feed = FeedFactory(url=url)
    feed_fetch(feed_id=feed.pk)
    first_id = Entry.objects.get(feed=feed, identity="urn:post:0").pk
    items[0]["title"] = "Post 0, corrected"
    items[0]["description"] = '<p>New text, <a href="https://other.example/x">another link</a>.</p>'
    server.set("/feed.xml", rss(items))

    outcome = feed_fetch(feed_id=feed.pk)

    assert (outcome.new_entries, outcome.updated_entries) == (0, 1)
    entry = Entry.objects.get(feed=feed, identity="urn:post:0")
    assert (entry.pk, entry.title) == (first_id, "Post 0, corrected")
    assert list(entry.links.values_list("url", flat=True)) == ["https://other.example/x"]
    assert Entry.objects.filter(feed=feed).count() == 2


@pytest.mark.django_db
def test_unchanged_refetch_without_etag_writes_nothing(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", rss(numbered_items(2))))
    feed_fetch(feed_id=feed.pk)
    updated_at = dict(Entry.objects.filter(feed=feed).values_list("identity", "updated_at"))

    outcome = feed_fetch(feed_id=feed.pk)

    assert (outcome.new_entries, outcome.updated_entries) == (0, 0)
    assert dict(Entry.objects.filter(feed=feed).values_list("identity", "updated_at")) == updated_at


@pytest.mark.django_db
def test_permanent_redirect_changes_the_stored_url(local):
    server = local()
    new_url = server.set("/new.xml", rss(numbered_items(1)))
    server.handle("/old.xml", redirect(new_url, 301))
    feed = FeedFactory(url=server.url("/old.xml"))

    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert (feed.url, feed.status) == (new_url, "active")
    assert Entry.objects.filter(feed=feed).count() == 1


@pytest.mark.django_db
def test_temporary_redirect_keeps_the_stored_url(local):
    server = local()
    new_url = server.set("/new.xml", rss(numbered_items(1)))
    server.handle("/old.xml", redirect(new_url, 302))
    feed = FeedFactory(url=server.url("/old.xml"))

    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.url == server.url("/old.xml")


@pytest.mark.django_db
def test_redirect_to_an_existing_feed_merges_subscriptions(local):
    server = local()
    new_url = server.set("/new.xml", rss(numbered_items(2, prefix="new")))
    server.handle("/old.xml", redirect(new_url, 308))
    old = FeedFactory(url=server.url("/old.xml"))
    target = FeedFactory(url=new_url)
    old_entry = Entry.objects.create(feed=old, identity="urn:kept", title="Kept", published_at=timezone.now())
    only_old = SubscriptionFactory(feed=old, topics=["data"])
    both = MemberFactory()
    SubscriptionFactory(feed=old, member=both, is_shared=False)
    SubscriptionFactory(feed=target, member=both, is_shared=True)

    outcome = feed_fetch(feed_id=old.pk)

    old.refresh_from_db()
    assert outcome.outcome == "moved"
    assert (old.status, old.moved_to_id) == ("retired", target.pk)
    assert list(old.entries.values_list("pk", flat=True)) == [old_entry.pk]
    assert Subscription.objects.filter(feed=old).count() == 0
    assert Subscription.objects.get(pk=only_old.pk).feed_id == target.pk
    assert Subscription.objects.get(member=both).is_shared is True
    assert Entry.objects.filter(feed=target).count() == 2
    assert FetchLog.objects.get(feed=old).outcome == "moved"


@pytest.mark.django_db(transaction=False)
def test_410_retires_the_feed_and_tells_owners_who_want_it(local, django_capture_on_commit_callbacks):
    server = local()
    feed = FeedFactory(url=server.set("/gone.xml", b"", status=410), title="Old blog")
    wants = SubscriptionFactory(feed=feed).member
    opted_out = SubscriptionFactory(feed=feed).member
    opted_out.email_opt_outs = ["feed_problems"]
    opted_out.save()

    outcome = feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert outcome.outcome == "gone"
    assert feed.status == "retired"
    assert "410 Gone" in feed.last_error
    emails = OutboundEmail.objects.filter(kind="feed_problems")
    assert list(emails.values_list("to", "subject")) == [(wants.user.email, "Old blog is gone")]


@pytest.mark.django_db
def test_429_honours_retry_after(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", b"slow down", status=429, headers={"Retry-After": "7200"}))

    outcome = feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert outcome.outcome == "error"
    assert feed.error_count == 1
    assert feed.last_error == "The server asked plnorg to slow down (429 Too Many Requests)."
    assert feed.next_fetch_at - timezone.now() >= timedelta(seconds=7190)


@pytest.mark.django_db
def test_503_with_http_date_retry_after(local):
    server = local()
    when = timezone.now() + timedelta(hours=3)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    feed = FeedFactory(url=server.set("/feed.xml", b"", status=503, headers={"Retry-After": header}))

    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.next_fetch_at >= when - timedelta(seconds=2)


@pytest.mark.django_db
def test_cache_control_max_age_delays_next_fetch(local):
    server = local()
    feed = FeedFactory(
        url=server.set("/feed.xml", rss(numbered_items(1)), headers={"Cache-Control": "public, max-age=43200"})
    )

    feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert feed.next_fetch_at - timezone.now() >= timedelta(hours=12) - timedelta(seconds=5)


@pytest.mark.django_db
def test_ten_errors_pause_the_feed_and_tell_owners(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", b"nope", status=404), error_count=PAUSE_AFTER_ERRORS - 1)
    owner = SubscriptionFactory(feed=feed).member

    outcome = feed_fetch(feed_id=feed.pk)

    feed.refresh_from_db()
    assert outcome.error == "The feed address was not found (404). The site may have moved it."
    assert (feed.status, feed.error_count) == ("paused", PAUSE_AFTER_ERRORS)
    assert OutboundEmail.objects.get(kind="feed_problems").to == owner.user.email
    assert feed_fetch(feed_id=feed.pk) is None  # paused feeds are not fetched


@pytest.mark.django_db
def test_try_again_reactivates_a_paused_feed(local):
    feed = FeedFactory(url="https://paused.example/feed", status="paused", error_count=10)

    assert feed_fetch_request(feed=feed) is True
    assert feed_fetch_request(feed=feed) is False  # once a minute

    feed.refresh_from_db()
    assert (feed.status, feed.error_count) == ("active", 0)


@pytest.mark.django_db
def test_stale_lease_is_ignored(local):
    server = local()
    feed = FeedFactory(url=server.set("/feed.xml", rss(numbered_items(1))))
    stale = (feed.next_fetch_at - timedelta(minutes=5)).isoformat()

    assert feed_fetch(feed_id=feed.pk, lease=stale) is None
    assert server.hits["/feed.xml"] == 0


@pytest.mark.django_db
def test_missing_feed_returns_quietly():
    assert feed_fetch(feed_id=987654321) is None


@pytest.mark.django_db
def test_fetch_logs_older_than_30_days_are_purged():
    feed = FeedFactory()
    old = FetchLog.objects.create(feed=feed, outcome="ok", started_at=timezone.now() - timedelta(days=31))
    recent = FetchLog.objects.create(feed=feed, outcome="ok", started_at=timezone.now() - timedelta(days=29))

    assert fetch_logs_purge() == 1
    assert list(FetchLog.objects.filter(pk__in=[old.pk, recent.pk]).values_list("pk", flat=True)) == [recent.pk]


def test_publishing_interval_follows_rhythm():
    now = timezone.now()
    hourly = [now - timedelta(hours=n) for n in range(10)]
    weekly = [now - timedelta(days=7 * n) for n in range(10)]
    assert publishing_interval(hourly, now=now) == timedelta(minutes=30)
    assert publishing_interval(weekly, now=now) == MAX_INTERVAL
    assert publishing_interval([now - timedelta(minutes=n) for n in range(10)], now=now) == MIN_INTERVAL
    assert publishing_interval([], now=now) == timedelta(hours=1)


def test_backoff_grows_with_jitter_and_caps_at_a_day():
    assert timedelta(minutes=3, seconds=45) <= backoff_interval(1) <= timedelta(minutes=6, seconds=15)
    assert timedelta(minutes=30) <= backoff_interval(4) <= timedelta(minutes=50)
    assert backoff_interval(30) <= timedelta(hours=24)


def test_retry_after_parses_seconds_and_dates():
    now = timezone.now().replace(microsecond=0)
    assert retry_after({"retry-after": "120"}, now=now) == timedelta(seconds=120)
    later = (now + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after({"retry-after": later}, now=now) == timedelta(hours=1)
    assert retry_after({"retry-after": "soon"}, now=now) is None


@pytest.mark.django_db
def test_fetch_feeds_sync_prints_the_summary_line(local):
    from io import StringIO

    from django.core.management import call_command

    server = local()
    FeedFactory(url=server.set("/a.xml", rss(numbered_items(3)), etag='"a"'))
    FeedFactory(url=server.set("/b.xml", b"broken", status=500))
    FeedFactory(
        url=server.set("/c.xml", rss(numbered_items(1, prefix="c"))), next_fetch_at=timezone.now() + timedelta(hours=3)
    )
    first, second = StringIO(), StringIO()

    call_command("fetch_feeds", "--all", "--sync", stdout=first)
    Feed.objects.update(next_fetch_at=timezone.now() - timedelta(seconds=1), error_count=0)
    call_command("fetch_feeds", "--sync", stdout=second)

    assert (
        first.getvalue().strip().splitlines()[-1]
        == "fetched 3 feeds: 4 new entries, 0 updated, 0 not modified, 1 errors"
    )
    assert (
        second.getvalue().strip().splitlines()[-1]
        == "fetched 3 feeds: 0 new entries, 0 updated, 2 not modified, 1 errors"
    )


@pytest.mark.django_db
def test_portable_upsert_matches_the_postgresql_one():
    """The SQLite fallback (plain ORM) gives the same results as ON CONFLICT."""
    from feeds.parse import parse_feed
    from feeds.store import _entry_row, _store_links, _upsert_portable, entries_store

    items = numbered_items(4)
    fast, portable = FeedFactory(), FeedFactory()
    now = timezone.now()

    def store_portable(entries):
        rows = sorted((_entry_row(portable, e, now) for e in entries), key=lambda row: row.identity)
        result = _upsert_portable(portable, rows)
        _store_links(entries, result)
        return result.new, result.updated

    first = parse_feed(rss(items), url=fast.url).entries
    assert store_portable(first) == (4, 0)
    assert (entries_store(feed=fast, entries=first, fetched_at=now).new, 0) == (4, 0)
    items[2]["description"] = '<p>Edited with <a href="https://edited.example/">a new link</a></p>'
    second = parse_feed(rss(items + numbered_items(1, start=9)), url=fast.url).entries
    fast_result = entries_store(feed=fast, entries=second, fetched_at=now)

    assert store_portable(second) == (fast_result.new, fast_result.updated) == (1, 1)

    def snapshot(feed):
        return sorted(
            (e.identity, e.title, e.summary, e.published_at, sorted(e.links.values_list("url", flat=True)))
            for e in Entry.objects.filter(feed=feed)
        )

    assert snapshot(portable) == snapshot(fast)


# --------------------------------------------------------------------------
# No database transaction is held open across the HTTP request. These tests
# commit (transaction=True): inside a test's own transaction every
# connection would look "in transaction".
# --------------------------------------------------------------------------


def _transaction_seen_by_postgresql(wrapper) -> tuple[str, bool] | None:
    """(state, transaction open?) of ``wrapper``'s backend in pg_stat_activity,
    read over a connection of our own; None when it has no connection."""
    if wrapper.connection is None:
        return None
    pid = wrapper.connection.info.backend_pid
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with observer.cursor() as cursor:
            cursor.execute("SELECT state, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [pid])
            state, in_transaction = cursor.fetchone()
    finally:
        observer.close()
    return state, in_transaction


@pytest.fixture
def transaction_probe(local):
    """A feed (301 to its new address, then 200 with an ETag) on a server whose
    handlers, while the request is in flight, look at the fetching connection
    (this thread's): inside atomic()? an open transaction in PostgreSQL?"""
    fetching = connections[DEFAULT_DB_ALIAS]  # this thread's wrapper, not the per-thread proxy
    seen: list[tuple] = []
    server = local()

    def probing(respond):
        def handler(request):
            seen.append((request.path, fetching.in_atomic_block, _transaction_seen_by_postgresql(fetching)))
            respond(request)

        return handler

    server.handle("/old.xml", probing(redirect(server.url("/feed.xml"), 301)))
    server.handle("/feed.xml", probing(lambda request: request.answer(Resource(rss(numbered_items(2)), etag='"v1"'))))
    return FeedFactory(url=server.url("/old.xml")), seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", ["service", "task", "batch service", "batch task"])
def test_no_transaction_is_open_while_the_request_is_in_flight(transaction_probe, run):
    from feeds.ingest import feeds_fetch_batch
    from feeds.tasks import fetch_feed, fetch_feeds

    feed, seen = transaction_probe

    def fetch_now() -> None:
        if run == "service":
            feed_fetch(feed_id=feed.pk)
        elif run == "task":  # the task a worker runs, run here
            fetch_feed.apply(kwargs={"feed_id": feed.pk}).get()
        elif run == "batch service":  # the request runs in a fetch thread; this thread records
            feeds_fetch_batch(feed_ids=[feed.pk])
        else:
            fetch_feeds.apply(kwargs={"feed_ids": [feed.pk]}).get()

    fetch_now()  # 301, then 200: entries stored, the feed moves
    fetch_now()  # 304

    idle = (False, ("idle", False))
    assert seen == [("/old.xml", *idle), ("/feed.xml", *idle), ("/feed.xml", *idle)]
    feed.refresh_from_db()
    assert feed.url.endswith("/feed.xml")
    assert Entry.objects.filter(feed=feed).count() == 2
    assert list(FetchLog.objects.filter(feed=feed).order_by("started_at").values_list("http_status", flat=True)) == [
        200,
        304,
    ]


@pytest.mark.django_db(transaction=True)
def test_the_probe_sees_a_transaction_held_across_the_request(transaction_probe):
    """The check above can fail: a fetch run inside atomic() holds a transaction open."""
    feed, seen = transaction_probe

    with transaction.atomic():
        feed_fetch(feed_id=feed.pk)

    assert seen[0] == ("/old.xml", True, ("idle in transaction", True))
