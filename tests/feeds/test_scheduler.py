"""The scheduler: claiming due feeds with leases, SKIP LOCKED, per-host slots."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from feeds.models import Feed
from feeds.scheduler import (
    RUNNING_LEASE_SECONDS,
    HostBusy,
    feeds_claim_due,
    feeds_take,
    host_slot,
    interleaved_by_host,
)
from tests.factories import FeedFactory


def _due(**kwargs):
    return FeedFactory(next_fetch_at=timezone.now() - timedelta(minutes=1), **kwargs)


@pytest.mark.django_db
def test_claims_only_due_active_real_feeds_and_leases_them(settings):
    settings.FETCH_LEASE_SECONDS = 300
    due = _due()
    _due(status="paused")
    _due(status="retired")
    _due(is_demo=True)
    FeedFactory(next_fetch_at=timezone.now() + timedelta(minutes=5))
    before = timezone.now()

    claimed, lease_until = feeds_claim_due()

    assert [pk for pk, _ in claimed] == [due.pk]
    due.refresh_from_db()
    assert due.next_fetch_at == lease_until
    assert timedelta(seconds=299) <= lease_until - before <= timedelta(seconds=302)


@pytest.mark.django_db
def test_a_claimed_feed_is_not_claimed_again_within_its_lease():
    _due()
    first, _ = feeds_claim_due()

    second, _ = feeds_claim_due()

    assert (len(first), second) == (1, [])


@pytest.mark.django_db
def test_an_expired_lease_is_claimed_again():
    feed = _due()
    feeds_claim_due()

    claimed, _ = feeds_claim_due(now=timezone.now() + timedelta(seconds=301))

    assert [pk for pk, _ in claimed] == [feed.pk]


@pytest.mark.django_db
def test_claim_respects_the_limit_and_oldest_first():
    feeds = [FeedFactory(next_fetch_at=timezone.now() - timedelta(minutes=n)) for n in range(1, 6)]

    claimed, _ = feeds_claim_due(limit=2)

    assert [pk for pk, _ in claimed] == [feeds[4].pk, feeds[3].pk]


@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_scheduler_are_skipped():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's")
    locked, free = _due(), _due()
    holding = threading.Event()
    release = threading.Event()

    def other_scheduler():
        with transaction.atomic():
            list(Feed.objects.select_for_update().filter(pk=locked.pk))
            holding.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_scheduler)
    thread.start()
    holding.wait(10)
    try:
        claimed, _ = feeds_claim_due()
    finally:
        release.set()
        thread.join()

    assert [pk for pk, _ in claimed] == [free.pk]


def test_interleaved_by_host_round_robins():
    feeds = [
        (1, "https://a.example/1"),
        (2, "https://a.example/2"),
        (3, "https://a.example/3"),
        (4, "https://b.example/1"),
    ]
    assert interleaved_by_host(feeds) == [1, 4, 2, 3]


def test_host_slot_limits_concurrent_holders(settings):
    settings.FETCH_PER_HOST_LIMIT = 2
    url = "https://slots-test.example/feed"
    with host_slot(url), host_slot(url):
        with pytest.raises(HostBusy):
            with host_slot(url, wait_seconds=0.2):
                pass
        with host_slot("https://other-host.example/feed"):
            pass
    with host_slot(url):  # released on exit
        pass


@pytest.mark.django_db
def test_feeds_take_gives_each_feed_to_one_of_two_racing_tasks():
    lease = timezone.now() + timedelta(minutes=5)
    feeds = [FeedFactory(next_fetch_at=lease) for _ in range(3)]
    other = FeedFactory(next_fetch_at=lease + timedelta(seconds=1))  # claimed under another lease
    ids = [feed.pk for feed in [*feeds, other]]
    before = timezone.now()

    first, first_hold = feeds_take(feed_ids=ids, lease=lease.isoformat())
    second, second_hold = feeds_take(feed_ids=ids, lease=lease.isoformat())

    assert [feed.pk for feed in first] == [feed.pk for feed in feeds]
    assert (second, second_hold.ids) == ([], set())
    assert first_hold.ids == {feed.pk for feed in feeds}
    # Held for seconds, not for the 5-minute queue lease.
    running = set(Feed.objects.filter(pk__in=first_hold.ids).values_list("next_fetch_at", flat=True))
    assert running == {first_hold.until}
    assert (
        before + timedelta(seconds=RUNNING_LEASE_SECONDS)
        <= first_hold.until
        <= timezone.now() + timedelta(seconds=RUNNING_LEASE_SECONDS)
    )
    assert Feed.objects.get(pk=other.pk).next_fetch_at == other.next_fetch_at


@pytest.mark.django_db
def test_a_running_lease_renews_what_is_not_recorded_and_gives_back_the_queue_lease(monkeypatch):
    from feeds import scheduler

    monkeypatch.setattr(scheduler, "LEASE_RENEW_SECONDS", 0)
    lease = timezone.now() + timedelta(minutes=5)
    recorded, pending, taken_elsewhere, postponed = (FeedFactory(next_fetch_at=lease) for _ in range(4))
    _feeds, held = feeds_take(
        feed_ids=[recorded.pk, pending.pk, taken_elsewhere.pk, postponed.pk], lease=lease.isoformat()
    )
    first_until = held.until
    Feed.objects.filter(pk=recorded.pk).update(next_fetch_at=lease + timedelta(hours=1))  # its fetch was recorded
    Feed.objects.filter(pk=taken_elsewhere.pk).update(next_fetch_at=lease + timedelta(minutes=1))  # re-claimed

    assert held.renew() == {pending.pk, postponed.pk}
    held.give_back([postponed.pk])

    assert held.until > first_until
    assert Feed.objects.get(pk=pending.pk).next_fetch_at == held.until
    assert Feed.objects.get(pk=postponed.pk).next_fetch_at == lease  # the task queues it again with its lease
    assert held.ids == {pending.pk}
    assert Feed.objects.get(pk=recorded.pk).next_fetch_at == lease + timedelta(hours=1)
    assert Feed.objects.get(pk=taken_elsewhere.pk).next_fetch_at == lease + timedelta(minutes=1)
