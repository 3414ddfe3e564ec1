"""Integration: real Celery workers (subprocesses) on real Redis and PostgreSQL.

The workers are started with ``celery -A plnorg worker`` and pointed
explicitly at the test database (``test_<PLNORG_TEST_DB>``), the test Redis
database and the test queue. Feeds are served by local servers that count
requests and concurrent connections per host name. These tests commit (they
are ``transaction=True``) and build their own data.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Sum
from django.utils import timezone

from feeds.models import Entry, Feed, FetchLog, Subscription
from feeds.scheduler import RUNNING_LEASE_SECONDS, _redis, feeds_schedule_due
from feeds.tasks import fetch_feed
from members.models import OutboundEmail
from tests.factories import FeedFactory, SubscriptionFactory
from tests.feeds.servers import Resource, numbered_items, redirect, rss

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One ``celery worker`` process (with its pool children) in its own session."""

    def __init__(
        self, name: str, *, concurrency: int = 2, redis_url: str | None = None, prefix: list[str] = (), **env: str
    ) -> None:
        """``prefix`` runs the worker through a command, e.g. ``ip netns exec NAME``
        (on another "machine", tests/faults/netns.py)."""
        self.log = Path(tempfile.mkdtemp(prefix="plnorg-worker-")) / f"{name}.log"
        environment = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url or settings.REDIS_URL,
            "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "FETCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            "CONN_MAX_AGE": "0",
            **env,
        }
        self.process = subprocess.Popen(
            [
                *prefix, CELERY, "-A", "plnorg", "worker", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
                "-c", str(concurrency), "-P", "prefork", "-n", f"{name}@%h", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--logfile", str(self.log),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 40) -> Worker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.exists() and "ready." in self.log.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise AssertionError(f"worker did not start:\n{log}")

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.log.parent, ignore_errors=True)


def wait_for(condition: Callable[[], bool], *, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def clean_queue() -> Iterator[None]:
    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    yield
    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def workers(clean_queue) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(name: str, **options) -> Worker:
        worker = Worker(name, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _entries():
    """Entries of this test's feeds (the seeded demo feeds may be present)."""
    return Entry.objects.filter(feed__is_demo=False)


def _fetch_logs(outcome: str | None = None) -> int:
    logs = FetchLog.objects.all()
    return logs.filter(outcome=outcome).count() if outcome else logs.count()


def test_two_workers_racing_store_each_entry_once(servers, workers):
    hosts = [servers(f"127.0.0.{n}") for n in (11, 12, 13)]
    feeds = []
    for n in range(6):
        server = hosts[n % 3]
        url = server.set(f"/race{n}.xml", rss(numbered_items(20, prefix=f"race{n}")), delay_seconds=0.3)
        feeds.append(FeedFactory(url=url))
    first, second = workers("race-a", concurrency=3), workers("race-b", concurrency=3)
    first.wait_ready(), second.wait_ready()

    # Every feed is due twice at once (a retried task racing the original).
    for feed in feeds + feeds:
        fetch_feed.apply_async(kwargs={"feed_id": feed.pk})
    wait_for(lambda: _fetch_logs() == 12, what="12 fetches")

    assert _entries().count() == 120
    assert FetchLog.objects.aggregate(new=Sum("new_entries"))["new"] == 120
    assert sorted(FetchLog.objects.values_list("outcome", flat=True)) == ["not_modified"] * 6 + ["ok"] * 6
    assert sum(server.hits[f"/race{n}.xml"] for n, server in enumerate(hosts * 2)) == 12


def test_two_workers_racing_on_the_same_batch_store_each_entry_once(servers, workers):
    from feeds.tasks import fetch_feeds

    hosts = [servers(f"127.0.0.{n}") for n in (14, 15)]
    feeds = [
        FeedFactory(
            url=hosts[n % 2].set(f"/batch{n}.xml", rss(numbered_items(10, prefix=f"batch{n}")), delay_seconds=0.3)
        )
        for n in range(6)
    ]
    first, second = workers("batch-a", concurrency=1), workers("batch-b", concurrency=1)
    first.wait_ready(), second.wait_ready()

    # The scheduler's batch, and the same batch again (redelivered after a
    # lost worker) racing it on the other worker.
    for _copy in range(2):
        fetch_feeds.apply_async(kwargs={"feed_ids": [feed.pk for feed in feeds], "lease": None})
    wait_for(lambda: _fetch_logs() == 12, what="12 fetches")

    assert _entries().count() == 60
    assert FetchLog.objects.aggregate(new=Sum("new_entries"))["new"] == 60
    assert sorted(FetchLog.objects.values_list("outcome", flat=True)) == ["not_modified"] * 6 + ["ok"] * 6


def test_per_host_limit_holds_across_workers(servers, workers, settings):
    settings.FETCH_BATCH_SIZE = 3  # 3 batches, so both workers fetch from the busy host
    busy = servers("127.0.0.21")
    other = servers("127.0.0.22")
    feeds = [
        FeedFactory(url=busy.set(f"/f{n}.xml", rss(numbered_items(2, prefix=f"h{n}")), delay_seconds=0.6))
        for n in range(8)
    ]
    feeds.append(FeedFactory(url=other.set("/o.xml", rss(numbered_items(2, prefix="o")), delay_seconds=0.6)))
    Feed.objects.update(next_fetch_at=Feed.objects.first().created_at)
    first = workers("host-a", concurrency=3, FETCH_PER_HOST_LIMIT="2")
    second = workers("host-b", concurrency=3, FETCH_PER_HOST_LIMIT="2")
    first.wait_ready(), second.wait_ready()

    assert feeds_schedule_due() == 9
    wait_for(lambda: _fetch_logs("ok") == 9, timeout=60, what="9 fetches")

    peaks = servers.stats.peak
    assert peaks["127.0.0.21"] == 2
    assert peaks["127.0.0.22"] == 1
    assert busy.hits == {f"/f{n}.xml": 1 for n in range(8)}
    # Both workers fetched (their logs say which process recorded what).
    assert all("feeds.fetch_feeds" in worker.log.read_text() for worker in (first, second))


def test_worker_killed_mid_fetch_is_fetched_again_after_its_lease(servers, workers, settings):
    settings.FETCH_LEASE_SECONDS = 4
    server = servers("127.0.0.31")
    url = server.set("/slow.xml", rss(numbered_items(20, prefix="slow")), delay_seconds=30)
    feed = FeedFactory(url=url)
    Feed.objects.filter(pk=feed.pk).update(next_fetch_at=feed.created_at)
    doomed = workers("doomed", concurrency=1).wait_ready()

    assert feeds_schedule_due() == 1
    wait_for(lambda: server.hits["/slow.xml"] == 1, what="the fetch to start")
    doomed.kill()
    killed_at = timezone.now()
    assert (_entries().count(), _fetch_logs()) == (0, 0)
    assert feeds_schedule_due() == 0  # still leased: the worker took it for a running lease, now unrenewed
    held_until = Feed.objects.get(pk=feed.pk).next_fetch_at
    assert held_until <= killed_at + timedelta(seconds=RUNNING_LEASE_SECONDS)

    server.set("/slow.xml", rss(numbered_items(20, prefix="slow")))
    workers("rescuer", concurrency=1).wait_ready()
    wait_for(lambda: timezone.now() > held_until, timeout=RUNNING_LEASE_SECONDS + 5, what="the lease to run out")
    assert feeds_schedule_due() == 1
    wait_for(lambda: _fetch_logs("ok") == 1, what="the fetch after the lease")

    assert Entry.objects.filter(feed=feed).count() == 20
    assert sorted(_entries().values_list("identity", flat=True)) == sorted(f"urn:slow:{n}" for n in range(20))


@pytest.fixture
def private_redis() -> Iterator[Callable[[], None]]:
    """A redis-server of our own on a spare port; calling the fixture restarts it."""
    port = 6391 + (os.getpid() % 9)
    folder = tempfile.mkdtemp(prefix="plnorg-redis-")
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", folder]  # fmt: skip
    state: dict = {}

    def start() -> None:
        state["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout
                 == b"PONG\n", timeout=10, what="redis")  # fmt: skip

    def restart() -> None:
        state["process"].kill()
        state["process"].wait(10)
        time.sleep(1)
        start()

    start()
    restart.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    yield restart
    state["process"].kill()
    state["process"].wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def test_redis_restart_during_a_run_later_fetches_succeed(servers, workers, private_redis):
    from plnorg.celery import app

    server = servers("127.0.0.41")
    feeds = [FeedFactory(url=server.set(f"/r{n}.xml", rss(numbered_items(3, prefix=f"r{n}")))) for n in range(4)]
    worker = workers("redis-restart", concurrency=2, redis_url=private_redis.url).wait_ready()

    def send(feed: Feed) -> None:
        with app.connection_for_write(private_redis.url) as conn:
            fetch_feed.apply_async(
                kwargs={"feed_id": feed.pk}, connection=conn, queue=settings.CELERY_TASK_DEFAULT_QUEUE
            )

    send(feeds[0])
    wait_for(lambda: _fetch_logs("ok") == 1, what="the first fetch")

    private_redis()  # restarted: every queued message and connection is gone

    for feed in feeds[1:]:
        send(feed)
    wait_for(lambda: _fetch_logs("ok") == 4, timeout=45, what="fetches after the restart")
    assert _entries().count() == 12
    assert worker.process.poll() is None


def test_lifecycle_with_a_real_worker_304_edit_301_merge_410(servers, workers, django_capture_on_commit_callbacks):
    server = servers("127.0.0.51")
    items = numbered_items(3, prefix="life")
    feed = FeedFactory(url=server.set("/life.xml", rss(items), etag='"1"'), title="Life")
    owner = SubscriptionFactory(feed=feed).member
    workers("lifecycle", concurrency=1).wait_ready()

    def run(feed_id: int, expected_logs: int) -> None:
        fetch_feed.apply_async(kwargs={"feed_id": feed_id})
        wait_for(lambda: _fetch_logs() == expected_logs, what=f"{expected_logs} fetch logs")

    run(feed.pk, 1)
    snapshot = list(_entries().order_by("pk").values())

    # 304: nothing but timestamps changes.
    feed.refresh_from_db()
    before = Feed.objects.values().get(pk=feed.pk)
    run(feed.pk, 2)
    after = Feed.objects.values().get(pk=feed.pk)
    assert list(_entries().order_by("pk").values()) == snapshot
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"last_fetched_at", "last_success_at", "next_fetch_at"}
    assert server.request_headers[-1][1]["if-none-match"] == '"1"'

    # An edited entry is updated, not duplicated.
    items[1]["title"] = "Post 1 (edited)"
    server.set("/life.xml", rss(items), etag='"2"')
    run(feed.pk, 3)
    assert _entries().count() == 3
    assert _entries().get(identity="urn:life:1").title == "Post 1 (edited)"
    assert FetchLog.objects.order_by("-started_at").values_list("new_entries", "updated_entries")[0] == (0, 1)

    # 301 to a feed that exists: subscriptions move, the old feed keeps its entries, retired.
    target = FeedFactory(url=server.set("/moved.xml", rss(numbered_items(2, prefix="moved"))))
    server.handle("/life.xml", redirect(target.url, 301))
    run(feed.pk, 5)  # one log for the old feed (moved), one for the target
    feed.refresh_from_db()
    assert (feed.status, feed.moved_to_id) == ("retired", target.pk)
    assert Entry.objects.filter(feed=feed).count() == 3
    assert list(Subscription.objects.filter(member=owner).values_list("feed_id", flat=True)) == [target.pk]
    assert Entry.objects.filter(feed=target).count() == 2

    # 410: retired, and the owner is told.
    server.set("/moved.xml", b"", status=410)
    run(target.pk, 6)
    target.refresh_from_db()
    assert target.status == "retired"
    assert list(OutboundEmail.objects.values_list("to", "kind")) == [(owner.user.email, "feed_problems")]


PROBED_WORKER = "plnorg-test-probed-worker"  # its PostgreSQL application_name (libpq's PGAPPNAME)


def _worker_backends() -> list[tuple[str, bool]]:
    """(state, transaction open?) of each PostgreSQL backend of the probed
    worker's processes, read over a connection of our own."""
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT state, xact_start IS NOT NULL FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                [PROBED_WORKER],
            )
            return cursor.fetchall()
    finally:
        observer.close()


def test_a_worker_holds_no_transaction_open_while_its_request_is_in_flight(servers, workers):
    server = servers("127.0.0.61")
    seen: list[list[tuple[str, bool]]] = []

    def probing(request) -> None:
        seen.append(_worker_backends())
        request.answer(Resource(rss(numbered_items(2, prefix="probe"))))

    feed = FeedFactory(url=server.handle("/probe.xml", probing))
    workers("probed", concurrency=1, PGAPPNAME=PROBED_WORKER).wait_ready()

    fetch_feed.apply_async(kwargs={"feed_id": feed.pk})
    wait_for(lambda: _fetch_logs("ok") == 1, what="the fetch")

    assert len(seen) == 1
    assert seen[0], "the worker had read the feed from the database before fetching it"
    assert set(seen[0]) == {("idle", False)}
    assert Entry.objects.filter(feed=feed).count() == 2
