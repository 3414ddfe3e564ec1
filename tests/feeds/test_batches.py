"""Batches (feeds.fetch_feeds, `feeds_fetch_batch`): many feeds per task,
fetched concurrently within the per-host limit, every 304 recorded together,
busy hosts and stale leases handled as for one feed."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feeds import scheduler
from feeds.ingest import feed_fetch, feeds_fetch_batch
from feeds.models import Entry, Feed, FetchLog
from feeds.scheduler import HostBusy, _redis, host_slot
from tests.factories import FeedFactory
from tests.feeds.servers import FeedServer, numbered_items, rss

pytestmark = pytest.mark.django_db


def _feeds(server: FeedServer, count: int, *, prefix: str, **options) -> list[Feed]:
    return [
        FeedFactory(url=server.set(f"/{prefix}{n}.xml", rss(numbered_items(2, prefix=f"{prefix}{n}")), **options))
        for n in range(count)
    ]


def test_a_batch_fetches_in_parallel_within_the_per_host_limit(servers, settings):
    settings.FETCH_PER_HOST_LIMIT = 2
    busy, quiet = servers("127.0.0.61"), servers("127.0.0.62")
    feeds = _feeds(busy, 6, prefix="b", delay_seconds=0.4) + _feeds(quiet, 1, prefix="q", delay_seconds=0.4)

    started = time.monotonic()
    batch = feeds_fetch_batch(feed_ids=[feed.pk for feed in feeds], threads=8)
    elapsed = time.monotonic() - started

    assert sorted((o.feed_id, o.new_entries) for o in batch.outcomes) == sorted((feed.pk, 2) for feed in feeds)
    assert batch.postponed == []
    assert servers.stats.peak["127.0.0.61"] == 2  # never more than the limit at once...
    assert servers.stats.peak["127.0.0.62"] == 1
    # ...but both hosts at once and 2 at a time on the busy one: 3 rounds of
    # 0.4 s, where one after another would take 7 × 0.4 = 2.8 s.
    assert elapsed < 2.4
    assert Entry.objects.filter(feed__in=feeds).count() == 14
    assert busy.hits == {f"/b{n}.xml": 1 for n in range(6)}


def test_every_304_of_a_batch_is_recorded_in_one_update_and_one_insert(servers):
    server = servers()
    feeds = _feeds(server, 9, prefix="n", etag='"same"')
    ids = [feed.pk for feed in feeds]
    feeds_fetch_batch(feed_ids=ids)
    entries_before = list(Entry.objects.filter(feed__in=feeds).order_by("pk").values())
    before = timezone.now()

    with CaptureQueriesContext(connection) as captured:
        batch = feeds_fetch_batch(feed_ids=ids)

    writes = [query["sql"].split()[0] for query in captured if not query["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert writes == ["SELECT", "UPDATE", "INSERT"]  # the feeds; all 9 feeds; all 9 logs
    assert sorted(o.feed_id for o in batch.outcomes if o.outcome == "not_modified") == sorted(ids)
    assert list(Entry.objects.filter(feed__in=feeds).order_by("pk").values()) == entries_before
    for feed in Feed.objects.filter(pk__in=ids):
        assert feed.last_fetched_at >= before and feed.last_success_at == feed.last_fetched_at
        assert feed.next_fetch_at > feed.last_fetched_at + timedelta(minutes=13)
        assert (feed.error_count, feed.last_error) == (0, "")
    logs = FetchLog.objects.filter(feed__in=feeds, http_status=304)
    assert logs.count() == 9
    assert set(logs.values_list("outcome", flat=True)) == {"not_modified"}
    assert all(log.started_at >= before and log.duration_ms >= 0 for log in logs)
    assert all(headers.get("if-none-match") == '"same"' for _path, headers in server.request_headers[9:])


def test_a_mixed_batch_records_each_outcome_as_a_single_fetch_would(servers):
    server = servers()
    fresh = FeedFactory(url=server.set("/fresh.xml", rss(numbered_items(3, prefix="fresh")), etag='"f"'))
    same = FeedFactory(url=server.set("/same.xml", rss(numbered_items(1, prefix="same")), etag='"s"'))
    feed_fetch(feed_id=same.pk)
    missing = FeedFactory(url=server.set("/missing.xml", b"gone", status=404))
    gone = FeedFactory(url=server.set("/gone.xml", b"", status=410))
    broken = FeedFactory(url=server.set("/broken.xml", b"<html><body>not a feed</body></html>"))

    batch = feeds_fetch_batch(feed_ids=[fresh.pk, same.pk, missing.pk, gone.pk, broken.pk])

    outcomes = {o.feed_id: (o.outcome, o.http_status, o.new_entries) for o in batch.outcomes}
    assert outcomes == {
        fresh.pk: ("ok", 200, 3),
        same.pk: ("not_modified", 304, 0),
        missing.pk: ("error", 404, 0),
        gone.pk: ("gone", 410, 0),
        broken.pk: ("error", 200, 0),
    }
    assert Feed.objects.get(pk=gone.pk).status == Feed.Status.RETIRED
    missing.refresh_from_db()
    assert (missing.error_count, missing.last_error) == (
        1,
        "The feed address was not found (404). The site may have moved it.",
    )
    assert FetchLog.objects.get(feed=broken).error == (
        "The address returned a web page (HTML), not a feed. Check the feed address."
    )


def test_a_batch_skips_feeds_whose_lease_is_stale_and_inactive_feeds(servers):
    server = servers()
    lease = timezone.now() + timedelta(minutes=5)
    leased = FeedFactory(url=server.set("/leased.xml", rss(numbered_items(1, prefix="l"))), next_fetch_at=lease)
    stale = FeedFactory(url=server.set("/stale.xml", rss(numbered_items(1, prefix="s"))), next_fetch_at=lease)
    Feed.objects.filter(pk=stale.pk).update(next_fetch_at=lease + timedelta(minutes=1))  # claimed again
    paused = FeedFactory(
        url=server.set("/paused.xml", rss(numbered_items(1, prefix="p"))), next_fetch_at=lease, status="paused"
    )

    batch = feeds_fetch_batch(feed_ids=[leased.pk, stale.pk, paused.pk], lease=lease.isoformat())

    assert [o.feed_id for o in batch.outcomes] == [leased.pk]
    assert server.hits == {"/leased.xml": 1}


def test_a_host_busy_for_too_long_is_postponed_untouched(servers, settings):
    settings.FETCH_PER_HOST_LIMIT = 1
    busy, free = servers("127.0.0.63"), servers("127.0.0.64")
    waiting = _feeds(busy, 2, prefix="w")
    other = _feeds(free, 1, prefix="o")[0]
    before = {feed.pk: feed.next_fetch_at for feed in waiting}

    with host_slot(waiting[0].url):  # another worker holds the host's only slot
        batch = feeds_fetch_batch(feed_ids=[*[f.pk for f in waiting], other.pk], host_wait_seconds=0.3)

    assert sorted(batch.postponed) == sorted(before)
    assert [o.feed_id for o in batch.outcomes] == [other.pk]
    assert busy.hits == {}
    assert not FetchLog.objects.filter(feed__in=waiting).exists()
    assert dict(Feed.objects.filter(pk__in=before).values_list("pk", "next_fetch_at")) == before


def test_a_batch_out_of_time_postpones_what_it_did_not_start(servers):
    server = servers()
    feeds = _feeds(server, 3, prefix="t")

    batch = feeds_fetch_batch(feed_ids=[feed.pk for feed in feeds], budget_seconds=0)

    assert (batch.outcomes, sorted(batch.postponed)) == ([], sorted(feed.pk for feed in feeds))
    assert server.hits == {}


def test_the_task_queues_postponed_feeds_again_with_their_lease(servers, settings):
    from feeds.tasks import fetch_feeds

    settings.FETCH_PER_HOST_LIMIT = 1
    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    _redis().delete(queue)
    server = servers("127.0.0.65")
    lease = timezone.now() + timedelta(minutes=5)
    feed = FeedFactory(url=server.set("/later.xml", rss(numbered_items(1))), next_fetch_at=lease)
    try:
        with host_slot(feed.url):
            fetch_feeds.apply(kwargs={"feed_ids": [feed.pk], "lease": lease.isoformat()}).get()
        [raw] = _redis().lrange(queue, 0, -1)
    finally:
        _redis().delete(queue)

    message = json.loads(raw)
    assert message["headers"]["task"] == "feeds.fetch_feeds"
    assert message["headers"]["eta"] is not None  # in a few seconds
    assert datetime.fromisoformat(message["headers"]["eta"]) > timezone.now()
    assert json.loads(base64.b64decode(message["body"]))[1] == {
        "feed_ids": [feed.pk],
        "lease": lease.isoformat(),
    }
    assert server.hits == {}
    assert Feed.objects.get(pk=feed.pk).next_fetch_at == lease  # given back, so the queued task finds it


def test_a_held_host_slot_is_renewed_by_the_heartbeat_and_a_released_one_is_not(settings):
    settings.FETCH_PER_HOST_LIMIT = 2
    url = "https://renewed.example/feed.xml"
    key = scheduler._slot_key("renewed.example")
    with host_slot(url):
        with host_slot(url):
            (first_token, first_expiry), (second_token, _) = _redis().zrange(key, 0, -1, withscores=True)
        assert _redis().zrange(key, 0, -1) == [first_token]  # the second one is released
        time.sleep(0.05)

        scheduler._heartbeat.renew()  # what the heartbeat thread does every SLOT_RENEW_SECONDS

        renewed = _redis().zscore(key, first_token)
        assert first_expiry + 0.04 < renewed <= time.time() + scheduler.SLOT_SECONDS
        assert _redis().zscore(key, second_token) is None  # not brought back
    assert _redis().zcard(key) == 0


def test_a_slot_held_longer_than_its_ttl_stays_held_and_a_dead_holders_slot_expires(settings, monkeypatch):
    """The heartbeat thread keeps a slot held across a fetch longer than
    SLOT_SECONDS; a holder that stops renewing (a killed worker) loses it
    SLOT_SECONDS later. (Times shortened: a 0.6 s slot renewed every 0.1 s.)"""
    monkeypatch.setattr(scheduler, "SLOT_SECONDS", 0.6)
    monkeypatch.setattr(scheduler, "SLOT_RENEW_SECONDS", 0.1)
    monkeypatch.setattr(scheduler, "_heartbeat", scheduler._SlotHeartbeat())  # a thread with the short times
    settings.FETCH_PER_HOST_LIMIT = 1
    url = "https://held.example/feed.xml"
    holding, done = threading.Event(), threading.Event()

    def hold_for_a_long_fetch() -> None:
        with host_slot(url):
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold_for_a_long_fetch)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(HostBusy):  # 1.5 s of trying: 2.5 times the slot's time to live
            with host_slot(url, wait_seconds=1.5):
                pass
    finally:
        done.set()
        holder.join()

    key = scheduler._slot_key("held.example")
    _redis().zadd(key, {"a-killed-worker": time.time() + scheduler.SLOT_SECONDS})  # never renewed
    with pytest.raises(HostBusy):
        with host_slot(url):
            pass
    time.sleep(0.7)
    with host_slot(url):
        pass
    assert _redis().zcard(key) == 0


def test_a_slow_recorder_holds_few_responses_in_memory(servers, monkeypatch):
    """Fetch threads wait for room: with 2 threads at most 3 responses are
    fetched and not yet recorded, however slow the recording."""
    from feeds import ingest

    server = servers()
    feeds = _feeds(server, 8, prefix="m")
    record = ingest._record_result
    unrecorded: list[int] = []

    def slow_record(feed, result, **kwargs):
        unrecorded.append(sum(server.hits.values()) - len(unrecorded))
        time.sleep(0.1)
        return record(feed, result, **kwargs)

    monkeypatch.setattr(ingest, "_record_result", slow_record)

    batch = feeds_fetch_batch(feed_ids=[feed.pk for feed in feeds], threads=2)

    assert sorted(o.feed_id for o in batch.outcomes) == sorted(feed.pk for feed in feeds)
    # Without the bound the threads would fetch all 8 during the first recording.
    assert 2 <= max(unrecorded) <= 3


def test_a_database_error_recording_one_feed_leaves_the_rest_of_the_batch(servers, caplog):
    server = servers()
    doomed, fine = _feeds(server, 2, prefix="d")
    with connection.cursor() as cursor:  # PostgreSQL refuses this feed's entries (rolled back with the test)
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.feed_id = {doomed.pk} THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; "
            "END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON feeds_entry FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )

    batch = feeds_fetch_batch(feed_ids=[doomed.pk, fine.pk])

    assert [(o.feed_id, o.new_entries) for o in batch.outcomes] == [(fine.pk, 2)]
    assert Entry.objects.filter(feed=doomed).count() == 0
    assert not FetchLog.objects.filter(feed=doomed).exists()
    assert Feed.objects.get(pk=doomed.pk).next_fetch_at == doomed.next_fetch_at  # its lease brings it back
    assert f"recording the fetch of feed {doomed.pk} failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_batch_renews_its_hold_while_it_runs_and_leaves_a_feed_taken_elsewhere(servers, settings, monkeypatch):
    """The running lease (shortened here to 1 s, renewed every 0.2 s) never
    lapses under a fetch that takes twice as long; a feed another scheduler
    claimed meanwhile is not started by this batch."""
    from feeds import ingest

    monkeypatch.setattr(scheduler, "RUNNING_LEASE_SECONDS", 1)
    monkeypatch.setattr(scheduler, "LEASE_RENEW_SECONDS", 0.2)
    monkeypatch.setattr(ingest, "LEASE_RENEW_SECONDS", 0.2)
    settings.FETCH_PER_HOST_LIMIT = 1  # one feed at a time: the others wait their turn
    server = servers("127.0.0.67")
    lease = timezone.now() + timedelta(minutes=5)
    slow, claimed_elsewhere, last = (
        FeedFactory(url=server.set(f"/{name}.xml", rss(numbered_items(1, prefix=name)), delay_seconds=delay),
                    next_fetch_at=lease)
        for name, delay in (("slow", 2.0), ("elsewhere", 0), ("last", 0))
    )  # fmt: skip
    elsewhere_lease = lease + timedelta(minutes=1)
    seen: list[tuple[datetime, datetime]] = []  # (when, the slow feed's next_fetch_at)
    stop = threading.Event()

    def observe() -> None:
        started = time.monotonic()
        while not stop.wait(0.1):
            if time.monotonic() - started > 0.5 and not Feed.objects.filter(next_fetch_at=elsewhere_lease).exists():
                Feed.objects.filter(pk=claimed_elsewhere.pk).update(next_fetch_at=elsewhere_lease)
            if server.hits["/slow.xml"] and not FetchLog.objects.filter(feed=slow).exists():
                seen.append((timezone.now(), Feed.objects.get(pk=slow.pk).next_fetch_at))
        connection.close()

    observer = threading.Thread(target=observe)
    observer.start()
    try:
        batch = feeds_fetch_batch(feed_ids=[slow.pk, claimed_elsewhere.pk, last.pk], lease=lease.isoformat())
    finally:
        stop.set()
        observer.join()

    assert sorted(o.feed_id for o in batch.outcomes) == sorted([slow.pk, last.pk])
    assert server.hits == {"/slow.xml": 1, "/last.xml": 1}
    assert Feed.objects.get(pk=claimed_elsewhere.pk).next_fetch_at == elsewhere_lease
    assert len(seen) >= 10
    assert all(now < held_until <= now + timedelta(seconds=1.5) for now, held_until in seen)  # never lapsed
    assert len({held_until for _now, held_until in seen}) >= 4  # renewed
