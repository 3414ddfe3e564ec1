"""Feed ingestion benchmark (`make bench`): prints figures, asserts nothing.

Serves N generated feeds (default 1,000 × 20 entries with HTML bodies of a
few KB) from local servers on several 127.0.0.x host names that honour ETag and
speak HTTP/1.1 with keep-alive, as real hosts do (``--http10``: one request
per connection, for comparison), and lets 2 real Celery worker processes on real Redis and PostgreSQL ingest
them, driven by the real scheduler (which queues batches of
``FETCH_BATCH_SIZE`` feeds; each worker process fetches a batch's feeds
``FETCH_BATCH_THREADS`` at a time):

- pass 1: every feed new; pass 2: every feed answers 304; pass 3: 10 % of
  the feeds changed (one new entry, one edited);
- the ceiling: stock ``feedparser.parse`` (default options and SAX driver) on the same bytes,
  in one process (where a naive importer starts from);
- queries per feed (first fetch and 304), measured in this process, for a
  batch of 10 and for one feed alone (a member's "fetch now");
- peak worker RSS, sampled throughout, including while a 50 MB response
  (no Content-Length) is refused;
- connections the servers accepted per pass, and worker and PostgreSQL CPU
  per feed;
- PASS or MISS for each target: first pass ≥ 1.4× the ceiling, 304 pass
  ≥ 15×, peak worker RSS < 250 MB.

It uses a database of its own (``<DATABASE_URL's name>_bench_ingest``, or
``_bench_smoke``, created and dropped here) and a queue of its own. ``--smoke`` runs a tiny
version for the test suite. Only 127.0.0.x is contacted.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPHS = [
    "Personal learning networks grow one conversation at a time. The habit that mattered most for our team was "
    "writing short notes in public and linking generously to the people whose ideas we borrowed.",
    "We moved the importer to a queue and the graphs flattened overnight. The lesson was not the queue itself "
    "but the idempotency key we added to every job, which made retries boring.",
    "Indexes are promises about the questions you will ask. When the questions change, so should the promises; "
    "otherwise every write pays for a read nobody makes any more.",
    "Accessibility reviews found more than colour contrast: labels, focus order and headings mattered more to "
    "the people we interviewed than any visual polish.",
    "A community of practice needs a rhythm more than a platform. Ours meets every other Thursday, shares one "
    "link each, and keeps the notes in a single page anyone can edit.",
]


def entry_html(feed_no: int, n: int, rng: random.Random) -> str:
    parts = []
    for _ in range(4):
        parts.append(f"<p>{rng.choice(PARAGRAPHS)} <a href=\"https://example.org/read/{rng.randrange(500)}"
                     f"?utm_source=feed&amp;id={n}\">Read more</a>.</p>")  # fmt: skip
    parts.append(f'<p><img src="/images/{feed_no}-{n}.jpg" alt="A diagram" width="640" height="360"></p>')
    parts.append("<ul>" + "".join(f"<li>{rng.choice(PARAGRAPHS)[:80]}</li>" for _ in range(3)) + "</ul>")
    parts.append(f"<blockquote><p>{rng.choice(PARAGRAPHS)}</p></blockquote>")
    parts.append(
        "<pre><code>SELECT id FROM feeds_feed WHERE next_fetch_at &lt;= now() FOR UPDATE SKIP LOCKED;</code></pre>"
    )
    parts.append('<img src="https://pixel.example.com/open.gif" width="1" height="1">')
    return "\n".join(parts)


def feed_document(feed_no: int, entries: int, version: int = 0) -> bytes:
    from xml.sax.saxutils import escape

    rng = random.Random(feed_no * 1000 + version)
    items = []
    total = entries + (1 if version else 0)
    for n in range(total):
        title = f"Post {n} of feed {feed_no}" + (" (edited)" if version and n == 1 else "")
        day = 1 + (n % 28)
        items.append(
            f"<item><guid>urn:bench:{feed_no}:{n}</guid><title>{escape(title)}</title>"
            f"<link>https://blog{feed_no}.example.net/posts/{n}</link>"
            f"<pubDate>Mon, {day:02d} Jan 2024 {n % 24:02d}:00:00 GMT</pubDate>"
            f"<description>{escape(entry_html(feed_no, n, rng))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed_no}</title><link>https://blog{feed_no}.example.net/</link>"
        f"<description>Generated</description>{''.join(items)}</channel></rss>"
    ).encode()


def database_urls(suffix: str) -> tuple[str, str, str]:
    """(admin URL, bench database URL, bench database name)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plnorg")
    parts = urlsplit(base)
    name = parts.path.lstrip("/") + suffix
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path="/" + name)),
        name,
    )


def recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


class RssSampler(threading.Thread):
    """Samples the RSS of a process and its children every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb: dict[int, int] = {}
        self.stop_event = threading.Event()

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _children(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.pid:
                    found.append(int(entry.name))
        return found

    def run(self) -> None:
        children: list[int] = []
        rounds = 0
        while not self.stop_event.wait(0.05):
            if rounds % 20 == 0:
                children = self._children()
            rounds += 1
            for pid in [self.pid, *children]:
                rss = self._rss_kb(pid)
                if rss > self.peak_kb.get(pid, 0):
                    self.peak_kb[pid] = rss

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker and its pool."""
        total = 0
        for pid in [self.pid, *self._children()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def postgres_cpu_seconds() -> float:
        """CPU time used so far by every PostgreSQL process on this machine
        (its backends store what the workers send; a quiet machine has no
        other): the living ones' own, plus what the postmaster's ended
        children used (a fetch thread's connection ends with its batch)."""
        total = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    head, _, tail = (entry / "stat").read_text().rpartition(")")
                except OSError:
                    continue
                if head.endswith("(postgres"):
                    fields = tail.split()
                    total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        return total / os.sysconf("SC_CLK_TCK")

    def peak_mb(self) -> float:
        return max(self.peak_kb.values(), default=0) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for the test suite")
    parser.add_argument("--http10", action="store_true", help="servers without keep-alive (HTTP/1.0)")
    args = parser.parse_args()
    if args.smoke:
        args.feeds, args.entries, args.hosts = 12, 3, 3
    huge_bytes = 0 if args.smoke else 50 * 1024 * 1024

    suffix = "_bench_smoke" if args.smoke else "_bench_ingest"
    admin_url, bench_url, bench_name = database_urls(suffix)
    recreate_database(admin_url, bench_name)
    queue = os.environ.get("CELERY_QUEUE", "plnorg") + suffix.replace("_", "-")
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "CELERY_QUEUE": queue,
            "FETCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
            "DJANGO_SETTINGS_MODULE": "plnorg.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    servers: list = []
    try:
        return run(args, huge_bytes, queue, servers)
    finally:
        for server in servers:
            server.stop()
        from django.db import connections

        connections.close_all()
        recreate_database(admin_url, bench_name, drop_only=True)


def ceiling(documents: list[bytes]) -> tuple[float, float]:
    """Stock feedparser.parse (default options, Python's own SAX driver, not
    plnorg's feeds.saxdriver) on (up to 200 of) the same bytes, in this
    process: (feeds per second, CPU ms per feed)."""
    import feedparser

    from feeds import saxdriver

    sample = documents[: min(len(documents), 200)]
    with saxdriver.uninstalled():
        started, cpu = time.monotonic(), time.process_time()
        for document in sample:
            feedparser.parse(document)
        return len(sample) / (time.monotonic() - started), (time.process_time() - cpu) * 1000 / len(sample)


def run(args, huge_bytes: int, queue: str, servers: list) -> int:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Sum
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from feeds.ingest import feed_fetch, feeds_fetch_batch
    from feeds.models import Feed, FetchLog
    from feeds.scheduler import _redis, feeds_schedule_due
    from tests.feeds.servers import FeedServer, unbounded

    print(f"feeds: {args.feeds} × {args.entries} entries on {args.hosts} host names; {args.workers} worker processes")
    documents = [feed_document(n, args.entries) for n in range(args.feeds)]
    size_mb = sum(map(len, documents)) / 1e6
    print(f"documents: {size_mb:.1f} MB in total, {size_mb * 1000 / args.feeds:.0f} KB per feed")
    servers.extend(FeedServer(f"127.0.0.{10 + h}", keep_alive=not args.http10) for h in range(args.hosts))
    urls = []
    for n, document in enumerate(documents):
        server = servers[n % args.hosts]
        urls.append(server.set(f"/feeds/{n}.xml", document, etag=f'"{n}-0"'))

    # Queries per feed, in this process: one feed alone (feeds.fetch_feed,
    # "fetch now"), and a batch of 10 (feeds.fetch_feeds, the scheduler's).
    extra = [servers[0].set(f"/extra/{n}.xml", feed_document(100000 + n, args.entries), etag='"x"') for n in range(11)]
    later = timezone.now() + timezone.timedelta(days=1)
    extra_ids = [Feed.objects.create(url=url, next_fetch_at=later).pk for url in extra]
    query_counts = {}
    for kind in ("first fetch", "304"):
        with CaptureQueriesContext(connection) as captured:
            feed_fetch(feed_id=extra_ids[0])
        query_counts[f"alone, {kind}"] = len(captured)
        with CaptureQueriesContext(connection) as captured:
            feeds_fetch_batch(feed_ids=extra_ids[1:])
        query_counts[f"batch, {kind}"] = len(captured) / 10
    Feed.objects.filter(pk__in=extra_ids).delete()

    past = timezone.now() - timezone.timedelta(minutes=1)
    Feed.objects.bulk_create([Feed(url=url, next_fetch_at=past) for url in urls])
    _redis().delete(queue)

    log = Path(tempfile.mkdtemp(prefix="plnorg-bench-")) / "worker.log"
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "plnorg", "worker", "-Q", queue, "-c", str(args.workers),
         "-P", "prefork", "--prefetch-multiplier", "4", "-n", "bench@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "WARNING", "--logfile", str(log)],
        cwd=ROOT, env={**os.environ, "CONN_MAX_AGE": "600"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sampler = RssSampler(worker.pid)
    sampler.start()
    time.sleep(0.5)
    try:
        from plnorg.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if app.control.inspect(timeout=1.0, destination=None).ping():
                    break
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.5)

        def one_pass(name: str, expected_logs: int) -> tuple[float, float]:
            Feed.objects.filter(status=Feed.Status.ACTIVE).update(
                next_fetch_at=timezone.now() - timezone.timedelta(seconds=1)
            )
            before = FetchLog.objects.aggregate(n=Sum("new_entries"))["n"] or 0
            started = time.monotonic()
            cpu_before, postgres_before = sampler.cpu_seconds(), sampler.postgres_cpu_seconds()
            connections_before = sum(server.connections for server in servers)
            claimed = 0
            while claimed < args.feeds:
                got = feeds_schedule_due()
                claimed += got
                if not got:
                    time.sleep(0.05)
            limit = time.monotonic() + 1800
            while FetchLog.objects.count() < expected_logs and time.monotonic() < limit:
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            cpu_ms = (sampler.cpu_seconds() - cpu_before) * 1000 / args.feeds
            postgres_ms = (sampler.postgres_cpu_seconds() - postgres_before) * 1000 / args.feeds
            stored = (FetchLog.objects.aggregate(n=Sum("new_entries"))["n"] or 0) - before
            updated = FetchLog.objects.filter(updated_entries__gt=0).count()
            connections = sum(server.connections for server in servers) - connections_before
            print(
                f"{name}: {elapsed:.1f} s, {args.feeds / elapsed:.1f} feeds/s, {stored / elapsed:.0f} new entries/s "
                f"({stored} new, {updated} feeds with updates so far); worker CPU {cpu_ms:.1f} ms per feed, "
                f"PostgreSQL {postgres_ms:.1f} ms; "
                f"{connections} connections opened"
            )
            return args.feeds / elapsed, cpu_ms

        logs_before = FetchLog.objects.count()
        ceiling_before = ceiling(documents)
        first_rate, first_cpu = one_pass("pass 1 (all new)", logs_before + args.feeds)
        second_rate, second_cpu = one_pass("pass 2 (all 304)", logs_before + 2 * args.feeds)
        changed = max(1, args.feeds // 10)
        for n in random.Random(7).sample(range(args.feeds), changed):
            servers[n % args.hosts].set(f"/feeds/{n}.xml", feed_document(n, args.entries, version=1), etag=f'"{n}-1"')
        third_rate, _ = one_pass(f"pass 3 ({changed} feeds changed)", logs_before + 3 * args.feeds)
        outcomes = dict(sorted(FetchLog.objects.values_list("outcome").annotate(n=Count("id"))))
        print(f"fetch outcomes: {outcomes}")
        steady_peak = sampler.peak_mb()

        if huge_bytes:
            url = servers[0].handle("/huge.xml", unbounded(total_bytes=huge_bytes))
            feed = Feed.objects.create(url=url, next_fetch_at=timezone.now() - timezone.timedelta(seconds=1))
            feeds_schedule_due()
            limit = time.monotonic() + 120
            while not FetchLog.objects.filter(feed=feed).exists() and time.monotonic() < limit:
                time.sleep(0.1)
            error = FetchLog.objects.filter(feed=feed).values_list("error", flat=True).first()
            print(f"50 MB response without Content-Length: {error!r}")
    finally:
        sampler.stop_event.set()
        sampler.join()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        _redis().delete(queue)
        import shutil

        shutil.rmtree(log.parent, ignore_errors=True)

    ceiling_after = ceiling(documents)
    rate, cpu_ms = (ceiling_before[0] + ceiling_after[0]) / 2, (ceiling_before[1] + ceiling_after[1]) / 2
    print(
        f"ceiling: stock feedparser.parse (defaults and SAX driver, one process) {rate:.1f} feeds/s, {rate * args.entries:.0f} entries/s, "
        f"{cpu_ms:.1f} ms CPU per feed (measured before and after the passes: {ceiling_before[0]:.1f} and "
        f"{ceiling_after[0]:.1f} feeds/s)"
    )
    load = os.getloadavg()
    print(f"machine load average (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on {os.cpu_count()} CPUs")
    ceiling_rate = rate
    print(
        f"CPU per feed, ceiling ÷ ours: first pass {cpu_ms / max(first_cpu, 0.01):.2f}×, second pass {cpu_ms / max(second_cpu, 0.01):.1f}×"
    )
    print(f"first pass ÷ ceiling: {first_rate / ceiling_rate:.2f}×")
    print(f"second pass ÷ ceiling: {second_rate / ceiling_rate:.2f}×")
    print(f"third pass ÷ ceiling: {third_rate / ceiling_rate:.2f}×")
    print(
        "queries per feed (in process): in a batch of 10: first fetch "
        f"{query_counts['batch, first fetch']:.1f}, 304 {query_counts['batch, 304']:.1f}; "
        f"alone: first fetch {query_counts['alone, first fetch']}, 304 {query_counts['alone, 304']}"
    )
    print(
        f"peak worker RSS: {steady_peak:.0f} MB during the passes, {sampler.peak_mb():.0f} MB overall (target < 250 MB)"
    )
    print(
        f"per-host limit: {settings.FETCH_PER_HOST_LIMIT}; batches of {settings.FETCH_BATCH_SIZE} feeds, "
        f"{settings.FETCH_BATCH_THREADS} fetch threads per worker process; "
        f"servers {'HTTP/1.0, no keep-alive' if args.http10 else 'HTTP/1.1 with keep-alive'}"
    )
    for target, met in (
        (f"first pass ≥ 1.4× ceiling: {first_rate / ceiling_rate:.2f}×", first_rate / ceiling_rate >= 1.4),
        (f"304 pass ≥ 15× ceiling: {second_rate / ceiling_rate:.2f}×", second_rate / ceiling_rate >= 15),
        (f"peak worker RSS < 250 MB: {sampler.peak_mb():.0f} MB", sampler.peak_mb() < 250),
    ):
        print(f"{'PASS' if met else 'MISS'} {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
