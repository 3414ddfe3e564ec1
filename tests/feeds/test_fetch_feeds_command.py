"""fetch_feeds without --sync: the feeds are claimed and their fetches queued
on the real broker (the test Redis and queue), for the workers to run.

(``--sync`` is tested with the ingestion, in test_ingest.py.)
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from feeds.models import Feed, FetchLog
from feeds.scheduler import _redis
from tests.factories import FeedFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    """The test queue on the broker (settings.CELERY_TASK_DEFAULT_QUEUE), empty before and after."""
    name = settings.CELERY_TASK_DEFAULT_QUEUE
    _redis().delete(name)
    yield name
    _redis().delete(name)


def queued_tasks(queue: str) -> list[tuple[str, dict]]:
    """(task name, keyword arguments) of each message waiting in the queue,
    read from Redis as a worker would receive it, in the order it would (kombu
    pushes on the left and workers pop from the right)."""
    tasks = []
    for raw in reversed(_redis().lrange(queue, 0, -1)):
        message = json.loads(raw)
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        _args, kwargs, _embed = json.loads(body)
        tasks.append((message["headers"]["task"], kwargs))
    return tasks


@pytest.fixture
def feeds():
    """Two due feeds, one due later, one paused (and nothing else due)."""
    now = timezone.now()
    Feed.objects.update(next_fetch_at=now + timedelta(days=1))
    return {
        "due": [FeedFactory(next_fetch_at=now - timedelta(minutes=n)) for n in (1, 2)],
        "later": FeedFactory(next_fetch_at=now + timedelta(hours=1)),
        "paused": FeedFactory(next_fetch_at=now - timedelta(minutes=5), status=Feed.Status.PAUSED),
    }


def test_fetch_feeds_queues_the_due_feeds_in_one_batch_with_their_lease(queue, feeds):
    started = timezone.now()
    out = StringIO()

    call_command("fetch_feeds", stdout=out)

    due = Feed.objects.filter(pk__in=[feed.pk for feed in feeds["due"]]).order_by("pk")
    leases = {feed.pk: feed.next_fetch_at for feed in due}
    assert out.getvalue() == "queued 2 feeds\n"
    assert len(set(leases.values())) == 1  # claimed together, one lease
    [(task, kwargs)] = queued_tasks(queue)
    assert (task, sorted(kwargs["feed_ids"]), kwargs["lease"]) == (
        "feeds.fetch_feeds",
        sorted(leases),
        next(iter(leases.values())).isoformat(),
    )
    # Claimed: the lease moved their next fetch forward, so the scheduler
    # does not queue them again meanwhile.
    assert all(lease >= started + timedelta(seconds=settings.FETCH_LEASE_SECONDS) for lease in leases.values())
    # Nothing was fetched here: that is the workers' job.
    assert not FetchLog.objects.filter(feed__in=due).exists()
    assert Feed.objects.filter(pk__in=leases, last_fetched_at__isnull=False).count() == 0


def test_fetch_feeds_all_queues_every_active_feed_without_a_lease(queue, feeds):
    out = StringIO()

    call_command("fetch_feeds", "--all", stdout=out)

    active = Feed.objects.filter(status=Feed.Status.ACTIVE, is_demo=False).order_by("pk")
    assert out.getvalue() == "queued 3 feeds\n"
    assert sorted(active.values_list("pk", flat=True)) == sorted([*[f.pk for f in feeds["due"]], feeds["later"].pk])
    [(task, kwargs)] = queued_tasks(queue)
    assert (task, sorted(kwargs["feed_ids"]), kwargs["lease"]) == (
        "feeds.fetch_feeds",
        sorted(active.values_list("pk", flat=True)),
        None,
    )


def test_fetch_feeds_cuts_many_feeds_into_batches_interleaved_by_host(queue, settings):
    settings.FETCH_BATCH_SIZE = 2
    now = timezone.now()
    Feed.objects.update(next_fetch_at=now + timedelta(days=1))
    # Three feeds on one host, two on another, due in this order.
    urls = ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://b.example/1",
            "https://b.example/2"]  # fmt: skip
    pks = {url: FeedFactory(url=url, next_fetch_at=now - timedelta(minutes=10 - n)).pk for n, url in enumerate(urls)}
    out = StringIO()

    call_command("fetch_feeds", stdout=out)

    assert out.getvalue() == "queued 5 feeds\n"
    batches = [(task, kwargs["feed_ids"]) for task, kwargs in queued_tasks(queue)]
    a, b = [pks[url] for url in urls[:3]], [pks[url] for url in urls[3:]]
    assert batches == [
        ("feeds.fetch_feeds", [a[0], b[0]]),
        ("feeds.fetch_feeds", [a[1], b[1]]),
        ("feeds.fetch_feeds", [a[2]]),
    ]


def test_the_scheduler_counts_each_waiting_batch_as_a_full_one(queue, settings):
    from feeds.scheduler import feeds_schedule_due

    settings.FETCH_BATCH_SIZE, settings.FETCH_CLAIM_BATCH = 2, 5
    now = timezone.now()
    Feed.objects.update(next_fetch_at=now + timedelta(days=1))
    for n in range(8):
        FeedFactory(url=f"https://c.example/{n}", next_fetch_at=now - timedelta(minutes=10 - n))

    assert feeds_schedule_due() == 5  # the claim limit: 3 batches (2, 2, 1)
    assert [len(kwargs["feed_ids"]) for _task, kwargs in queued_tasks(queue)] == [2, 2, 1]
    # 3 batches wait (room for 5 - 3 × 2 < 0 feeds): nothing more is claimed.
    assert feeds_schedule_due() == 0
    _redis().delete(queue)
    assert feeds_schedule_due() == 3


def test_fetch_feeds_with_nothing_due_queues_nothing(queue):
    Feed.objects.update(next_fetch_at=timezone.now() + timedelta(days=1))
    out = StringIO()

    call_command("fetch_feeds", stdout=out)

    assert out.getvalue() == "queued 0 feeds\n"
    assert queued_tasks(queue) == []
