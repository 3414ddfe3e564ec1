"""Fetch → parse → store: the services behind ``feeds.fetch_feeds`` (the
scheduler's batches) and ``feeds.fetch_feed`` (one feed, "fetch now").

`feed_fetch(feed_id=...)` fetches one feed with the safe fetcher (conditional
GET with the stored ETag / Last-Modified), parses and sanitizes the response
(feeds.parse), stores the entries (feeds.store) and sets the next fetch time.
The HTTP request and the parsing happen outside any database transaction;
everything the fetch changes is then written in one short transaction, with
its FetchLog row and any email to the feed's owners.

`feeds_fetch_batch(feed_ids=...)` does the same for many feeds: threads make
the requests (within the per-host limit), the calling thread parses and
records each response as it arrives, and all the 304s, by far the most
common answer, are recorded together in one UPDATE and one INSERT.

Outcomes:

- 200: entries stored; the next fetch adapts to how often the feed publishes
  (15 minutes to 24 hours), never sooner than ``Cache-Control: max-age``.
- 304: nothing parsed; only the timestamps and the schedule change.
- 301/308 (the leading hops): the feed's URL changes. If another feed already
  has the new URL, subscriptions move to it and this feed is retired, keeping
  its entries.
- 410: the feed is retired and its owners are told by email.
- 429/503 and every error: exponential backoff with jitter up to 24 hours,
  never sooner than ``Retry-After``; after 10 consecutive errors the feed is
  paused and its owners are told why.

`feed_ingest_document` stores a document we already have (the bundled demo
feeds) through the same parse/sanitize/store path.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from queue import Empty, SimpleQueue
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.notifications import FEED_PROBLEMS, optional_email_enqueue

from .fetch import FetchError, FetchResult, FetchSession, fetch, normalize_url
from .models import Feed, FetchLog, Subscription
from .parse import ParsedFeed, ParseError, parse_feed
from .scheduler import LEASE_RENEW_SECONDS, RUNNING_LEASE_SECONDS, HostBusy, feeds_take, host_slot
from .store import entries_store, entry_published_at
from .websub.services import SAFETY_NET_INTERVAL, websub_feed_annotations, websub_feed_fetched, websub_pushed

log = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=24)
DEFAULT_INTERVAL = timedelta(hours=1)
BACKOFF_BASE = timedelta(minutes=5)
# Servers' "come back later" hints are honoured up to this long.
MAX_SERVER_HINT = timedelta(days=7)
PAUSE_AFTER_ERRORS = 10
FEED_PROBLEMS_EMAIL = FEED_PROBLEMS


@dataclass
class FetchOutcome:
    feed_id: int
    outcome: str  # a FetchLog.Outcome value
    http_status: int | None = None
    new_entries: int = 0
    updated_entries: int = 0
    error: str = ""
    next_fetch_at: datetime | None = None


# --------------------------------------------------------------------------
# Scheduling arithmetic
# --------------------------------------------------------------------------


def publishing_interval(published: list[datetime], *, now: datetime) -> timedelta:
    """How long to wait before the next fetch, from the feed's recent dates.

    Half the mean gap between the last (up to) ten entries, between 15 minutes
    and 24 hours; a feed quiet for longer than its usual rhythm slows down.
    """
    dates = sorted((d for d in published if d is not None and d <= now), reverse=True)[:10]
    if len(dates) < 2:
        return DEFAULT_INTERVAL
    mean_gap = (dates[0] - dates[-1]) / (len(dates) - 1)
    interval = max(mean_gap / 2, (now - dates[0]) / 4)
    return min(MAX_INTERVAL, max(MIN_INTERVAL, interval))


def backoff_interval(error_count: int) -> timedelta:
    """Exponential backoff with jitter: about 5 min, 10, 20 ... up to 24 hours."""
    base = BACKOFF_BASE * (2 ** min(max(error_count - 1, 0), 16))
    return min(MAX_INTERVAL, base * random.uniform(0.75, 1.25))


def _max_age(headers: dict[str, str]) -> timedelta | None:
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", headers.get("cache-control", ""), re.IGNORECASE)
    return timedelta(seconds=int(match.group(1))) if match else None


def retry_after(headers: dict[str, str], *, now: datetime) -> timedelta | None:
    """The Retry-After header as a delay (seconds or an HTTP date)."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def _not_before(interval: timedelta, *hints: timedelta | None) -> timedelta:
    for hint in hints:
        if hint is not None:
            interval = max(interval, min(hint, MAX_SERVER_HINT))
    return interval


def _jittered(interval: timedelta) -> timedelta:
    """±10 %, so feeds fetched together drift apart instead of arriving in waves."""
    return interval * random.uniform(0.9, 1.1)


# --------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------


def feed_fetch(*, feed_id: int, lease: str | None = None, host_wait_seconds: float = 0.0) -> FetchOutcome | None:
    """Fetch one feed now. Returns None when there is nothing to do.

    ``lease`` is the ``next_fetch_at`` the scheduler set when it claimed the
    feed; if the feed no longer carries it (fetched meanwhile, or claimed
    again after the lease ran out), this call is a stale duplicate and does
    nothing. Raises scheduler.HostBusy when the host has no free slot.
    """
    feeds = _leased_feeds([feed_id], lease)
    if not feeds:
        return None
    feed = feeds[0]
    started_at = timezone.now()
    clock = time.monotonic()
    with host_slot(feed.url, wait_seconds=host_wait_seconds):
        if lease is not None:
            # Taken once the host has room (HostBusy leaves the queue lease as
            # it was), held for the request's deadline and a little more.
            seconds = settings.FEED_FETCH_DEADLINE_SECONDS + RUNNING_LEASE_SECONDS
            taken, _held = feeds_take(feed_ids=[feed_id], lease=lease, seconds=seconds)
            if not taken:
                return None
            feed = taken[0]
        result = _request(feed)
    return _record_result(feed, result, started_at=started_at, clock=clock)


def _leased_feeds(feed_ids: list[int], lease: str | None) -> list[Feed]:
    """The active, non-demo feeds among ``feed_ids`` that still carry the
    lease (all of them without one), in the order given. A look only: the
    feeds are taken with scheduler.feeds_take."""
    # With their WebSub state (a join, no extra query): a pushed feed's next poll is the daily safety net.
    feeds = Feed.objects.filter(pk__in=feed_ids, status=Feed.Status.ACTIVE, is_demo=False).annotate(
        **websub_feed_annotations()
    )
    if lease is not None:
        feeds = feeds.filter(next_fetch_at=datetime.fromisoformat(lease))
    by_id = {feed.pk: feed for feed in feeds}
    return [by_id[pk] for pk in dict.fromkeys(feed_ids) if pk in by_id]


def _request(feed: Feed, session: FetchSession | None = None) -> FetchResult | FetchError:
    """The conditional GET (no database access: fetch threads run this)."""
    try:
        return fetch(
            feed.url,
            etag=feed.etag or None,
            last_modified=feed.last_modified or None,
            max_bytes=settings.FEED_MAX_BYTES,
            deadline_seconds=settings.FEED_FETCH_DEADLINE_SECONDS,
            session=session,
        )
    except FetchError as exc:
        return exc


def _record_result(feed: Feed, result: FetchResult | FetchError, *, started_at: datetime, clock: float) -> FetchOutcome:
    """Parse and record what the fetch brought (any status, or its error)."""
    if isinstance(result, FetchError):
        return _record_error(feed, started_at=started_at, clock=clock, message=str(result))
    status = result.status
    size = len(result.content)
    if status == 304:
        return _record_not_modified_many([_Fetched(feed, result, started_at, time.monotonic() - clock)])[0]
    if status == 410:
        return _record_gone(feed, started_at=started_at, clock=clock)
    if status in (429, 503):
        message = (
            _("The server asked plnorg to slow down (429 Too Many Requests).")
            if status == 429
            else _("The server is temporarily unavailable (503).")
        )
        return _record_error(
            feed, started_at=started_at, clock=clock, message=message, http_status=status, headers=result.headers
        )
    if not 200 <= status < 300:
        return _record_error(
            feed,
            started_at=started_at,
            clock=clock,
            message=_status_message(status),
            http_status=status,
            size=size,
            headers=result.headers,
        )
    try:
        parsed = parse_feed(result.content, url=result.url, content_type=result.headers.get("content-type", ""))
    except ParseError as exc:
        return _record_error(feed, started_at=started_at, clock=clock, message=str(exc), http_status=status, size=size)
    moved_to = normalize_url(result.permanent_url) if result.redirects else ""
    return _record_success(
        feed,
        parsed,
        started_at=started_at,
        clock=clock,
        http_status=status,
        size=size,
        headers=result.headers,
        moved_to=moved_to if moved_to and moved_to != feed.url else "",
    )


# --------------------------------------------------------------------------
# Batches: many feeds per task, fetched concurrently
# --------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    outcomes: list[FetchOutcome]
    # Not fetched: their host stayed busy, or the batch ran out of time.
    # The caller queues them again (same lease).
    postponed: list[int]


@dataclass
class _Fetched:
    feed: Feed
    result: FetchResult | FetchError | None  # None: not fetched (postponed)
    started_at: datetime | None = None
    seconds: float = 0.0  # how long the request took


_WAIT = "<wait>"  # no host name contains "<"
_RENEW = object()  # no result for a while: time to renew the lease anyway


class _HostQueues:
    """The batch's feeds by host, handed out to fetch threads.

    A thread takes a host (at most ``limit`` threads per host in this batch),
    holds one of its slots across every worker (scheduler.host_slot) and
    fetches that host's feeds one after another while any are left; other
    threads may join it on the same host up to the limit. A host whose slots
    stay taken by others for ``wait_seconds`` has its feeds postponed.

    ``room`` bounds the responses in memory: a thread takes a place before
    each request and the recording thread gives it back once the response is
    recorded, so a slow recorder holds at most ``rooms`` bodies (each under
    FEED_MAX_BYTES), however fast the servers answer.
    """

    def __init__(self, feeds: list[Feed], *, limit: int, wait_seconds: float, give_up_at: float, rooms: int) -> None:
        self.room = threading.Semaphore(rooms)
        self.pending: dict[str, deque[Feed]] = {}
        self.urls: dict[str, str] = {}  # host -> one of its feeds' URLs, for host_slot
        for feed in feeds:
            host = (urlsplit(feed.url).hostname or "").lower()
            self.pending.setdefault(host, deque()).append(feed)
            self.urls.setdefault(host, feed.url)
        self.lock = threading.Lock()
        self.threads_on: Counter[str] = Counter()
        self.busy_since: dict[str, float] = {}
        self.retry_at: dict[str, float] = {}
        self.limit, self.wait_seconds, self.give_up_at = limit, wait_seconds, give_up_at
        self.stop = threading.Event()

    def take_host(self) -> str | None:
        """A host to work on; WAIT when every host with feeds left is taken
        or waiting; None when nothing is left to do."""
        with self.lock:
            now = time.monotonic()
            if self.stop.is_set() or now >= self.give_up_at:
                return None
            hosts = [host for host, queue in self.pending.items() if queue]
            if not hosts:
                return None
            for host in sorted(hosts, key=lambda host: self.threads_on[host]):
                if self.threads_on[host] < self.limit and self.retry_at.get(host, 0) <= now:
                    self.threads_on[host] += 1
                    return host
            return _WAIT

    def next_feed(self, host: str) -> Feed | None:
        """The host's next feed, with a place in ``room`` taken for its response."""
        with self.lock:
            self.busy_since.pop(host, None)
        while not self.room.acquire(timeout=0.1):
            if self.stop.is_set():
                return None
        with self.lock:
            queue = self.pending[host]
            if not queue or self.stop.is_set() or time.monotonic() >= self.give_up_at:
                self.room.release()
                return None
            return queue.popleft()

    def leave(self, host: str) -> None:
        with self.lock:
            self.threads_on[host] -= 1

    def busy(self, host: str) -> list[Feed]:
        """The host's slots are all taken elsewhere: try again shortly, or
        give up on its feeds after ``wait_seconds``; returns the feeds given up."""
        with self.lock:
            now = time.monotonic()
            self.threads_on[host] -= 1
            since = self.busy_since.setdefault(host, now)
            if now - since < self.wait_seconds:
                self.retry_at[host] = now + random.uniform(0.02, 0.1)
                return []
            given_up = list(self.pending[host])
            self.pending[host].clear()
            return given_up

    def keep_only(self, ids: set[int]) -> None:
        """Drop the feeds not in ``ids`` from what is left to start."""
        with self.lock:
            for host, queue in self.pending.items():
                if any(feed.pk not in ids for feed in queue):
                    self.pending[host] = deque(feed for feed in queue if feed.pk in ids)

    def left_over(self) -> list[Feed]:
        with self.lock:
            feeds = [feed for queue in self.pending.values() for feed in queue]
            for queue in self.pending.values():
                queue.clear()
            return feeds


def feeds_fetch_batch(
    *,
    feed_ids: list[int],
    lease: str | None = None,
    threads: int | None = None,
    host_wait_seconds: float = 5.0,
    budget_seconds: float = 120.0,
) -> BatchOutcome:
    """Fetch many feeds at once: the service behind ``feeds.fetch_feeds``.

    Up to ``threads`` (``FETCH_BATCH_THREADS``) conditional GETs run at once
    in threads, within the per-host limit; this thread parses and records each
    response as it arrives (one short transaction per changed feed, none
    open while any request is in flight on its behalf) and records every 304
    together: one UPDATE of the feeds and one INSERT of their fetch logs.
    Feeds not started within ``budget_seconds``, or whose host stayed busy for
    ``host_wait_seconds``, come back in ``postponed``. Stale leases are
    skipped as in `feed_fetch`.
    """
    feeds, held = feeds_take(feed_ids=feed_ids, lease=lease)
    outcomes: list[FetchOutcome] = []
    postponed: list[int] = []
    if not feeds:
        return BatchOutcome(outcomes, postponed)
    limit = max(1, settings.FETCH_PER_HOST_LIMIT)
    workers = max(1, min(threads or settings.FETCH_BATCH_THREADS, len(feeds)))
    queues = _HostQueues(
        feeds,
        limit=limit,
        wait_seconds=host_wait_seconds,
        give_up_at=time.monotonic() + budget_seconds,
        rooms=workers + 1,
    )
    results: SimpleQueue[_Fetched | None] = SimpleQueue()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plnorg-fetch")
    for _n in range(workers):
        pool.submit(_fetch_thread, queues, results)
    not_modified: list[_Fetched] = []
    finished = 0
    try:
        while finished < workers:
            try:
                item = results.get(timeout=LEASE_RENEW_SECONDS)
            except Empty:
                item = _RENEW
            if (still_held := held.renew()) is not None:
                # The hold on what is not recorded yet was renewed; feeds
                # someone else took meanwhile (this thread stalled past the
                # lease) are not started here any more.
                queues.keep_only(still_held)
            if item is _RENEW:
                continue
            if item is None:
                finished += 1
            elif item.result is None:
                postponed.append(item.feed.pk)
            elif not isinstance(item.result, FetchError) and item.result.status == 304:
                queues.room.release()  # a 304 holds no body
                not_modified.append(item)
                if len(not_modified) >= 100:
                    outcomes.extend(_record_not_modified_many(not_modified))
                    not_modified = []
            else:
                outcome = _record_fetched(item)
                queues.room.release()
                if outcome is not None:
                    outcomes.append(outcome)
    finally:
        queues.stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        if not_modified:
            outcomes.extend(_record_not_modified_many(not_modified))
    postponed.extend(feed.pk for feed in queues.left_over())
    held.give_back(postponed)
    return BatchOutcome(outcomes, postponed)


def _fetch_thread(queues: _HostQueues, results: SimpleQueue) -> None:
    """One fetch thread: take a host, hold a slot, fetch its feeds; repeat.
    Puts one _Fetched per feed it took, and None when it is done. The
    thread's session keeps one connection per host between its feeds."""
    try:
        with FetchSession() as session:
            _fetch_hosts(queues, results, session)
    finally:
        results.put(None)


def _fetch_hosts(queues: _HostQueues, results: SimpleQueue, session: FetchSession) -> None:
    """The loop of `_fetch_thread`, fetching through its session."""
    while (host := queues.take_host()) is not None:
        if host is _WAIT:
            time.sleep(0.02)
            continue
        try:
            with host_slot(queues.urls[host]):
                while (feed := queues.next_feed(host)) is not None:
                    started_at, clock = timezone.now(), time.monotonic()
                    try:
                        result = _request(feed, session)
                    except Exception:  # noqa: BLE001 - a bug must not stop the batch; the lease retries it
                        log.exception("fetching feed %s failed unexpectedly", feed.pk)
                        queues.room.release()
                        continue
                    results.put(_Fetched(feed, result, started_at, time.monotonic() - clock))
        except HostBusy:
            for feed in queues.busy(host):
                results.put(_Fetched(feed, None))
            continue
        queues.leave(host)


def _record_fetched(item: _Fetched) -> FetchOutcome | None:
    """Record one fetched feed. A database error for this feed (a deadlock, a
    race on a moved URL) is logged and its lease brings the feed back, so one
    feed cannot sink the batch; anything else (a bug, the task's time limit)
    stops the batch as it would stop a single fetch."""
    try:
        return _record_result(item.feed, item.result, started_at=item.started_at, clock=time.monotonic() - item.seconds)
    except DatabaseError:
        log.exception("recording the fetch of feed %s failed; it is fetched again after its lease", item.feed.pk)
        return None


def feed_ingest_document(
    *, feed: Feed, content: bytes, content_type: str = "", shift: timedelta | None = None
) -> FetchOutcome:
    """Store a feed document we already hold (the bundled demo feeds) through
    the same parse/sanitize/store path as a fetch. ``shift`` moves every
    entry's date (demo feeds are re-dated to look recent)."""
    parsed = parse_feed(content, url=feed.url, content_type=content_type)
    if shift:
        for entry in parsed.entries:
            if entry.published_at is not None:
                entry.published_at += shift
    return _record_success(
        feed, parsed, started_at=timezone.now(), clock=time.monotonic(), http_status=None, size=len(content)
    )


def feed_fetch_timed_out(*, feed_id: int) -> FetchOutcome | None:
    """The fetch task hit its time limit: record it like any other error."""
    feed = Feed.objects.filter(pk=feed_id).first()
    if feed is None:
        return None
    return _record_error(
        feed, started_at=timezone.now(), clock=time.monotonic(), message=_("Fetching the feed took too long.")
    )


def feed_fetch_request(*, feed: Feed) -> bool:
    """A member's "fetch now" / "try again": make the feed due now, at most
    once a minute. Returns False when it was fetched or requested within the
    last minute. A paused feed becomes active again with a clean slate."""
    now = timezone.now()
    # Requests within the minute are refused (a cache outage only drops this
    # part: the last_fetched_at condition below still holds).
    if cache.add(f"feeds:fetch-now:{feed.pk}", 1, 60) is False:
        return False
    lease_until = now + timedelta(seconds=settings.FETCH_LEASE_SECONDS)
    with transaction.atomic():
        changed = (
            Feed.objects.filter(pk=feed.pk, is_demo=False, status__in=[Feed.Status.ACTIVE, Feed.Status.PAUSED])
            .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - timedelta(minutes=1)))
            .update(status=Feed.Status.ACTIVE, error_count=0, next_fetch_at=lease_until)
        )
        if changed:
            lease = lease_until.isoformat()
            transaction.on_commit(lambda: _queue_fetch(feed_id=feed.pk, lease=lease))
    return bool(changed)


def _queue_fetch(*, feed_id: int, lease: str) -> None:
    from .tasks import fetch_feed

    try:
        fetch_feed.apply_async(kwargs={"feed_id": feed_id, "lease": lease}, retry=False)
    except Exception as exc:  # noqa: BLE001 - broker down: the lease expires and the scheduler claims it
        log.warning("could not queue a fetch of feed %s now (%s); the scheduler will", feed_id, exc)


def fetch_logs_purge(*, older_than_days: int | None = None) -> int:
    """Delete fetch logs older than FETCH_LOG_RETENTION_DAYS (30 by default)."""
    days = settings.FETCH_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = FetchLog.objects.filter(started_at__lt=cutoff).delete()
    return deleted


# --------------------------------------------------------------------------
# Recording outcomes (one short transaction each)
# --------------------------------------------------------------------------


def _duration_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


def _status_message(status: int) -> str:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = _("unexpected status")
    # The reason phrase stays in English: it is the server's own word.
    values = {"status": status, "phrase": phrase}
    if status == 404:
        return _("The feed address was not found (404). The site may have moved it.")
    if status in (401, 403):
        return _("The site refused access to the feed (%(status)d %(phrase)s).") % values
    if status >= 500:
        return _("The site had a server error (%(status)d %(phrase)s).") % values
    return _("The site answered %(status)d %(phrase)s instead of the feed.") % values


def _record_success(
    feed: Feed,
    parsed: ParsedFeed,
    *,
    started_at: datetime,
    clock: float,
    http_status: int | None,
    size: int,
    headers: dict[str, str] | None = None,
    moved_to: str = "",
) -> FetchOutcome:
    headers = headers or {}
    now = timezone.now()
    with transaction.atomic():
        target = feed
        if moved_to:
            feed = Feed.objects.select_for_update().get(pk=feed.pk)
            target = _feed_move(feed, new_url=moved_to, started_at=started_at, clock=clock, http_status=http_status)
        stored = entries_store(feed=target, entries=parsed.entries, fetched_at=now)
        dates = [entry_published_at(entry, now) for entry in parsed.entries]
        interval = _not_before(_jittered(publishing_interval(dates, now=now)), _max_age(headers))
        # A fetched document may advertise a WebSub hub; while updates arrive
        # by push, this poll is only the daily safety net.
        if http_status is not None and websub_feed_fetched(feed=target, parsed=parsed, headers=headers, now=now):
            interval = max(interval, _jittered(SAFETY_NET_INTERVAL))
        next_fetch_at = now + interval
        newest = max(dates, default=None)
        # One UPDATE with expressions: no read-modify-write, so a concurrent
        # fetch of the same feed cannot lose an update.
        changes: dict = {
            "last_fetched_at": now,
            "last_success_at": now,
            "error_count": 0,
            "last_error": "",
            "fetch_notice": parsed.notice,
            "next_fetch_at": next_fetch_at,
        }
        if http_status is not None:
            changes["etag"] = (headers.get("etag") or "")[:300]
            changes["last_modified"] = (headers.get("last-modified") or "")[:100]
        if newest:
            changes["last_published_at"] = Greatest(Coalesce("last_published_at", Value(newest)), Value(newest))
        if parsed.title:
            changes["title"] = Case(
                When(title="", then=Value(parsed.title)), default=F("title"), output_field=Feed._meta.get_field("title")
            )
        if parsed.site_url:
            changes["site_url"] = Case(
                When(site_url="", then=Value(parsed.site_url[:1000])),
                default=F("site_url"),
                output_field=Feed._meta.get_field("site_url"),
            )
        Feed.objects.filter(pk=target.pk).update(**changes)
        if http_status is not None:  # a fetch, not a bundled demo document
            FetchLog.objects.create(
                feed=target,
                started_at=started_at,
                outcome=FetchLog.Outcome.OK if (stored.new or stored.updated) else FetchLog.Outcome.NOT_MODIFIED,
                http_status=http_status,
                duration_ms=_duration_ms(clock),
                bytes_received=size,
                new_entries=stored.new,
                updated_entries=stored.updated,
                error=" ".join(filter(None, [parsed.warning, parsed.notice])),
            )
    return FetchOutcome(
        feed_id=target.pk,
        outcome=FetchLog.Outcome.MOVED if target.pk != feed.pk else FetchLog.Outcome.OK,
        http_status=http_status,
        new_entries=stored.new,
        updated_entries=stored.updated,
        error=" ".join(filter(None, [parsed.warning, parsed.notice])),
        next_fetch_at=next_fetch_at,
    )


def _feed_move(feed: Feed, *, new_url: str, started_at: datetime, clock: float, http_status: int | None) -> Feed:
    """The feed moved permanently (301/308) to ``new_url``; returns the feed
    that now stands for it. Runs inside the caller's transaction."""
    target = Feed.objects.filter(url=new_url).exclude(pk=feed.pk).first()
    if target is None:
        try:
            with transaction.atomic():
                Feed.objects.filter(pk=feed.pk).update(url=new_url)
            feed.url = new_url
            return feed
        except IntegrityError:  # another worker created or moved a feed there meanwhile
            target = Feed.objects.get(url=new_url)
    taken = Subscription.objects.filter(feed=target).values("member_id")
    Subscription.objects.filter(feed=feed).exclude(member_id__in=taken).update(feed=target)
    # Members already subscribed to the new URL keep that subscription.
    Subscription.objects.filter(feed=feed).delete()
    Feed.objects.filter(pk=feed.pk).update(
        status=Feed.Status.RETIRED,
        moved_to=target,
        last_fetched_at=timezone.now(),
        last_error=_("The feed moved permanently to %(url)s.") % {"url": new_url},
    )
    FetchLog.objects.create(
        feed=feed,
        started_at=started_at,
        outcome=FetchLog.Outcome.MOVED,
        http_status=http_status,
        duration_ms=_duration_ms(clock),
        error=_("Moved permanently to %(url)s; merged into feed %(feed_id)d.") % {"url": new_url, "feed_id": target.pk},
    )
    return target


def _record_not_modified_many(items: list[_Fetched]) -> list[FetchOutcome]:
    """Record 304s (one feed's, or a whole batch's): only the timestamps and
    the schedule change, in one UPDATE, with one INSERT of their fetch logs.
    With no entries to look at, the time since the last post sets the pace."""
    now = timezone.now()
    logs: list[FetchLog] = []
    outcomes: list[FetchOutcome] = []
    for item in items:
        feed = item.feed
        dates = [feed.last_published_at, feed.last_published_at] if feed.last_published_at else []
        interval = _not_before(_jittered(publishing_interval(dates, now=now)), _max_age(item.result.headers))
        if websub_pushed(feed, now=now):  # updates arrive by WebSub: the daily safety net
            interval = max(interval, _jittered(SAFETY_NET_INTERVAL))
        feed.last_fetched_at = feed.last_success_at = now
        feed.error_count, feed.last_error, feed.next_fetch_at = 0, "", now + interval
        logs.append(
            FetchLog(
                feed=feed,
                started_at=item.started_at,
                outcome=FetchLog.Outcome.NOT_MODIFIED,
                http_status=304,
                duration_ms=int(item.seconds * 1000),
            )
        )
        outcomes.append(
            FetchOutcome(
                feed_id=feed.pk,
                outcome=FetchLog.Outcome.NOT_MODIFIED,
                http_status=304,
                next_fetch_at=feed.next_fetch_at,
            )
        )
    with transaction.atomic():
        _feeds_not_modified_update(now, [(item.feed.pk, item.feed.next_fetch_at) for item in items])
        FetchLog.objects.bulk_create(logs)
    return outcomes


def _feeds_not_modified_update(now: datetime, next_fetches: list[tuple[int, datetime]]) -> None:
    """One UPDATE for every 304 of a batch: the same timestamps for all, each
    feed its own next fetch time from a VALUES list (plain SQL that PostgreSQL
    and SQLite both read; ``bulk_update``'s CASE per row cost more CPU than
    the fetches themselves)."""
    ops, quote = connection.ops, connection.ops.quote_name
    table = quote(Feed._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(next_fetches))
    params: list = [ops.adapt_datetimefield_value(now)] * 2
    for pk, next_fetch_at in next_fetches:
        params += [pk, ops.adapt_datetimefield_value(next_fetch_at)]
    # Only our own table and column names and %s placeholders go into the text.
    sql = (
        f"UPDATE {table} SET {quote('last_fetched_at')} = %s, {quote('last_success_at')} = %s, "  # noqa: S608
        f"{quote('error_count')} = 0, {quote('last_error')} = '', {quote('next_fetch_at')} = v.column2 "
        f"FROM (VALUES {rows}) AS v WHERE {table}.{quote('id')} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_gone(feed: Feed, *, started_at: datetime, clock: float) -> FetchOutcome:
    now = timezone.now()
    message = _("The site says this feed is gone for good (410 Gone), so plnorg stopped fetching it.")
    with transaction.atomic():
        Feed.objects.filter(pk=feed.pk).update(
            status=Feed.Status.RETIRED, last_fetched_at=now, last_error=message, last_error_at=now
        )
        log_row = FetchLog.objects.create(
            feed=feed,
            started_at=started_at,
            outcome=FetchLog.Outcome.GONE,
            http_status=410,
            duration_ms=_duration_ms(clock),
            error=message,
        )
        _tell_owners(feed, event="gone", log_row=log_row, message=message)
    return FetchOutcome(feed_id=feed.pk, outcome=FetchLog.Outcome.GONE, http_status=410, error=message)


def _record_error(
    feed: Feed,
    *,
    started_at: datetime,
    clock: float,
    message: str,
    http_status: int | None = None,
    size: int = 0,
    headers: dict[str, str] | None = None,
) -> FetchOutcome:
    now = timezone.now()
    headers = headers or {}
    with transaction.atomic():
        feed = Feed.objects.select_for_update().get(pk=feed.pk)
        feed.error_count += 1
        delay = _not_before(backoff_interval(feed.error_count), retry_after(headers, now=now), _max_age(headers))
        feed.last_fetched_at = now
        feed.last_error = message
        feed.last_error_at = now
        feed.next_fetch_at = now + delay
        paused = feed.error_count >= PAUSE_AFTER_ERRORS and feed.status == Feed.Status.ACTIVE
        if paused:
            feed.status = Feed.Status.PAUSED
        feed.save(
            update_fields=["error_count", "last_fetched_at", "last_error", "last_error_at", "next_fetch_at", "status"]
        )
        log_row = FetchLog.objects.create(
            feed=feed,
            started_at=started_at,
            outcome=FetchLog.Outcome.ERROR,
            http_status=http_status,
            duration_ms=_duration_ms(clock),
            bytes_received=size,
            error=message,
        )
        if paused:
            _tell_owners(feed, event="paused", log_row=log_row, message=message)
    return FetchOutcome(
        feed_id=feed.pk,
        outcome=FetchLog.Outcome.ERROR,
        http_status=http_status,
        error=message,
        next_fetch_at=feed.next_fetch_at,
    )


def _tell_owners(feed: Feed, *, event: str, log_row: FetchLog, message: str) -> None:
    """Email each member who registered the feed, unless they turned off
    feed-problem emails. Inside the transaction that records the event."""
    subscriptions = (
        Subscription.objects.filter(feed=feed, member__user__is_active=True)
        .select_related("member__user")
        .order_by("pk")
    )
    name = feed.display_title
    if event == "gone":
        subject = _("%(name)s is gone") % {"name": name}
        what = _("plnorg stopped fetching it. If the site moved its feed, add the new address in My PLN.")
    else:
        subject = _("%(name)s is paused after repeated errors") % {"name": name}
        what = _(
            'plnorg tried %(count)d times in a row and paused it. Open My PLN and press "Try again" once the '
            "site works again."
        ) % {"count": PAUSE_AFTER_ERRORS}
    my_pln = settings.SITE_URL + reverse("feeds:my_pln")
    for subscription in subscriptions:
        member = subscription.member
        greeting = _("Hello %(name)s,") % {"name": member.name}
        problem = _("The feed %(name)s (%(url)s) that you registered in plnorg has a problem:") % {
            "name": name,
            "url": feed.url,
        }
        body = f"{greeting}\n\n{problem}\n\n{message}\n\n{what}\n{my_pln}\n"
        # Only to owners who want it; carries the one-click unsubscribe link.
        optional_email_enqueue(
            member=member,
            kind=FEED_PROBLEMS_EMAIL,
            subject=subject,
            body_text=body,
            idempotency_key=f"feed-{event}:{log_row.pk}:{member.pk}",
        )
