"""The scheduler: claiming due feeds with leases, SKIP LOCKED, per-host slots."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from feeds.models import Feed
from feeds.scheduler import HostBusy, feeds_claim_due, host_slot, interleaved_by_host
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
