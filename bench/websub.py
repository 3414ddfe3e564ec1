"""Instant updates benchmark (`make bench`): seconds from a publish at a hub
to the entry being in the stream. Prints figures, asserts nothing.

Everything is real and local: a WebSub hub on 127.0.0.4 (tests/feeds/websub/hub.py),
feeds on 127.0.0.2 advertising it, plnorg's callback served by Django's
threaded WSGI server in this process, and real Celery worker processes on
real Redis and PostgreSQL. The feeds are fetched once (which finds the hub),
the workers subscribe, the hub verifies intent through the callback; then
each publish adds one post to a feed and the hub pushes the whole feed. A
publish's time runs from just before the hub starts delivering to the moment
the new entry is in the organization's stream (``Entry.objects.shared()``),
polled every 5 ms; publishes are sequential. Then every feed is polled once
more and must add nothing (each entry is stored once, whichever way it came).

The baseline, printed in the same run, is polling: the scheduler fetches a
busy feed at most every ``feeds.ingest.MIN_INTERVAL`` (15 minutes), so a new
post waits up to that long (half of it on average) without push.

It uses a database of its own (``<DATABASE_URL's name>_bench_websub``, or
``_bench_websub_smoke``, created and dropped here) and a queue of its own.
``--smoke`` runs a tiny version for the test suite. Only 127.0.0.x is contacted.

    python bench/websub.py                 # 200 publishes over 10 feeds
    python bench/websub.py --publishes 50  # fewer
    python bench/websub.py --smoke
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database, percentile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for the test suite")
    args = parser.parse_args()
    if args.smoke:
        args.feeds, args.publishes = 2, 6
    label = "websub_smoke" if args.smoke else "websub"
    queue = os.environ.get("CELERY_QUEUE", "plnorg") + "-bench-" + label.replace("_", "-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "plnorg.settings",
            "CELERY_QUEUE": queue,
            "FETCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            "WEBSUB_ENABLED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    with bench_database(label, unique=args.smoke):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(args, queue)


def run(args, queue: str) -> int:
    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    from feeds.scheduler import _redis

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass

    web = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    web.set_app(get_wsgi_application())
    threading.Thread(target=web.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{web.server_port}"
    settings.SITE_URL = site_url
    _redis().delete(queue)
    log = Path(tempfile.mkdtemp(prefix="plnorg-bench-websub-")) / "worker.log"
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "plnorg", "worker", "-Q", queue, "-c", str(args.workers),
         "-P", "prefork", "-n", "bench-websub@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "INFO", "--logfile", str(log)],
        cwd=ROOT, env={**os.environ, "SITE_URL": site_url, "CONN_MAX_AGE": "600"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    servers: list = []
    try:
        _wait_until_ready(log, worker)
        return measure(args, servers)
    finally:
        for server in servers:
            server.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        web.shutdown()
        web.server_close()
        _redis().delete(queue)
        import shutil

        shutil.rmtree(log.parent, ignore_errors=True)


def _wait_until_ready(log: Path, worker: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "ready." in log.read_text(errors="replace"):
            return
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit("the Celery worker did not start:\n" + (log.read_text()[-2000:] if log.exists() else ""))


def _wait_for(condition, *, timeout: float, what: str, every: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise SystemExit(f"timed out waiting for {what}")


def measure(args, servers: list) -> int:
    from django.db.models import Sum

    from feeds.ingest import MIN_INTERVAL, feed_fetch, feeds_fetch_batch
    from feeds.models import Entry
    from feeds.websub.models import WebSubSubscription
    from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
    from tests.feeds.servers import FeedServer
    from tests.feeds.websub.hub import LocalHub, feed_document

    feed_server, hub = FeedServer("127.0.0.2"), LocalHub("127.0.0.4")
    servers.extend([feed_server, hub])
    member = MemberFactory()
    feeds, items = [], {}
    for n in range(args.feeds):
        path = f"/blog{n}/feed.xml"
        items[n] = [(f"b{n}-0", f"Post 0 of blog {n}")]
        feed = FeedFactory(url=feed_server.url(path), title=f"Blog {n}")
        SubscriptionFactory(member=member, feed=feed, is_shared=True)
        feed_server.set(path, feed_document(hub_url=hub.url, self_url=feed.url, items=items[n]))
        feeds.append(feed)
    print(f"websub: {args.feeds} feeds on a local hub, {args.publishes} publishes, {args.workers} worker processes")

    started = time.monotonic()
    for feed in feeds:
        feed_fetch(feed_id=feed.pk)  # finds the hub; a worker subscribes, the hub verifies
    _wait_for(
        lambda: WebSubSubscription.objects.filter(state="active").count() == args.feeds,
        timeout=60,
        what="every subscription to be verified",
        every=0.05,
    )
    # The callback stores "active" before it answers; the hub records a
    # subscriber only once that answer reaches it.
    _wait_for(lambda: len(hub.subscriptions) == args.feeds, timeout=30, what="the hub to record every subscriber")
    print(f"subscribed: {args.feeds} subscriptions verified through the callback in {time.monotonic() - started:.1f} s")

    latencies, answers = [], []
    for k in range(args.publishes):
        n = k % args.feeds
        guid = f"b{n}-{len(items[n])}"
        items[n].insert(0, (guid, f"Post {len(items[n])} of blog {n}"))
        body = feed_document(hub_url=hub.url, self_url=feeds[n].url, items=items[n])
        feed_server.set(f"/blog{n}/feed.xml", body)  # what a poll would now see too
        in_stream = Entry.objects.shared().filter(feed=feeds[n], identity=guid)
        published = time.monotonic()
        statuses = hub.publish(feeds[n].url, body)
        answered = time.monotonic()
        if statuses != [202]:
            raise SystemExit(f"the callback answered {statuses} to publish {k}")
        _wait_for(in_stream.exists, timeout=30, what=f"publish {k} to reach the stream")
        latencies.append(time.monotonic() - published)
        answers.append(answered - published)

    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    print(
        f"publish → in the stream: p50 {p50:.3f} s, p95 {p95:.3f} s, max {max(latencies):.3f} s "
        f"over {len(latencies)} publishes (through a worker)"
    )
    print(
        f"callback answer (202, push stored for the worker): p50 {percentile(answers, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(answers, 0.95) * 1000:.1f} ms"
    )
    stored = Entry.objects.filter(feed__in=feeds).count()
    pushed = WebSubSubscription.objects.aggregate(n=Sum("pushed_entries"))["n"] or 0
    polled = feeds_fetch_batch(feed_ids=[feed.pk for feed in feeds]).outcomes
    added_by_poll = sum(outcome.new_entries for outcome in polled)
    expected = args.feeds + args.publishes
    print(
        f"entries: {stored} stored for {expected} posts ({pushed} by push); "
        f"polling every feed again added {added_by_poll}"
    )
    baseline = MIN_INTERVAL.total_seconds()
    print(
        f"polling baseline: the scheduler's minimum interval is {baseline:.0f} s (feeds.ingest.MIN_INTERVAL): "
        f"a new post waits up to {baseline:.0f} s, {baseline / 2:.0f} s on average, for the next poll"
    )
    print(f"push ÷ polling: p95 {p95:.3f} s against {baseline / 2:.0f} s on average: {baseline / 2 / p95:,.0f}× sooner")
    load = os.getloadavg()
    print(f"machine load average (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
