"""Which feeds to fetch now, and how many at once per host.

The beat task runs `feeds_schedule_due` every 15 seconds. It claims due feeds
(active, not demo, ``next_fetch_at <= now``) with ``SELECT … FOR UPDATE SKIP
LOCKED``, moves their ``next_fetch_at`` forward by the queue lease
(``FETCH_LEASE_SECONDS``) in the same transaction, and queues them after
commit as ``feeds.fetch_feeds`` tasks of up to ``FETCH_BATCH_SIZE`` feeds
(interleaved by host), each carrying the lease. A batch fetches its feeds
concurrently and records all its 304s in one statement (feeds.ingest).

Two leases, so a dead worker costs seconds, not minutes:

- the queue lease covers a task's wait in the queue: a task lost with a
  restarted broker is not retried by anyone, its feeds simply become due
  again when the queue lease expires;
- a worker that starts a task takes its feeds (`feeds_take`): one
  conditional UPDATE moves them from the queue lease to a short running lease
  (``RUNNING_LEASE_SECONDS``) that the running batch renews every
  ``LEASE_RENEW_SECONDS`` until it records each feed. A worker killed mid-batch
  stops renewing, so its unrecorded feeds are due again within
  ``RUNNING_LEASE_SECONDS`` and the next tick claims them for the living.

So two schedulers at once claim disjoint sets (SKIP LOCKED); of two copies of
a task (a redelivery racing the original) only one takes each feed; and a task
that arrives after its feed was fetched or re-claimed sees a different
``next_fetch_at`` than its lease and does nothing (idempotent). Entries are
unique per feed and identity whatever happens.

`host_slot` limits concurrent fetches per host name across every worker
(``FETCH_PER_HOST_LIMIT``, default 4) with a Redis sorted set used as a
counting semaphore whose slots expire ``SLOT_SECONDS`` after their last
renewal. A heartbeat thread in each worker process renews every slot the
process holds every ``SLOT_RENEW_SECONDS`` while its fetches run, so a live
holder never loses its slot and a killed worker's slots free themselves
within ``SLOT_SECONDS``. Without Redis (embedded mode), or while Redis is
unreachable, the limit is not enforced: one embedded worker is polite anyway,
and nothing can be queued while the broker is down.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Feed
from .websub.services import websub_feed_annotations

log = logging.getLogger(__name__)

# A host slot expires this long after it was taken or last renewed; the
# holding process's heartbeat renews it every SLOT_RENEW_SECONDS.
SLOT_SECONDS = 20
SLOT_RENEW_SECONDS = 5
# A started feed is held this long at a time, renewed every LEASE_RENEW_SECONDS
# by the batch fetching it (so a recorder may stall for 15 s without losing it).
RUNNING_LEASE_SECONDS = 20
LEASE_RENEW_SECONDS = 5


class HostBusy(Exception):
    """Every slot for this host is taken; try again shortly."""


def lease_seconds() -> int:
    return settings.FETCH_LEASE_SECONDS


def queue_depth() -> int | None:
    """Messages waiting in the Celery queue (Redis LLEN); None when unknown
    (the filesystem broker, or Redis unreachable)."""
    client = _redis()
    if client is None:
        return None
    try:
        return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
    except Exception:  # noqa: BLE001 - any Redis failure means "unknown"
        return None


def feeds_claim_due(*, now: datetime | None = None, limit: int | None = None) -> tuple[list[tuple[int, str]], datetime]:
    """Claim up to ``limit`` due feeds; returns [(id, url)] and the lease end.

    Runs in its own transaction; rows another scheduler holds are skipped.
    """
    now = now or timezone.now()
    limit = settings.FETCH_CLAIM_BATCH if limit is None else limit
    lease_until = now + timedelta(seconds=lease_seconds())
    if limit <= 0:
        return [], lease_until
    with transaction.atomic():
        claimed = list(
            Feed.objects.select_for_update(skip_locked=True)
            .filter(status=Feed.Status.ACTIVE, is_demo=False, next_fetch_at__lte=now)
            .order_by("next_fetch_at", "pk")
            .values_list("pk", "url")[:limit]
        )
        if claimed:
            Feed.objects.filter(pk__in=[pk for pk, _ in claimed]).update(next_fetch_at=lease_until)
    return claimed, lease_until


@dataclass
class RunningLease:
    """A worker's hold on the feeds it has started (see the module docstring).

    ``ids`` are the feeds still held: taken, and neither recorded (which moves
    ``next_fetch_at`` on) nor taken by someone else since. Its methods run in
    the thread that records the fetches, on its database connection.
    """

    ids: set[int]
    until: datetime | None  # None: no lease was given, nothing is held
    queued: datetime | None
    renewed: float = field(default_factory=time.monotonic)

    def renew(self) -> set[int] | None:
        """Hold the feeds not recorded yet for another RUNNING_LEASE_SECONDS,
        once LEASE_RENEW_SECONDS have passed since the last renewal; returns
        the ids still held, or None when it was not time yet."""
        if self.until is None or time.monotonic() - self.renewed < LEASE_RENEW_SECONDS:
            return None
        until = timezone.now() + timedelta(seconds=RUNNING_LEASE_SECONDS)
        with transaction.atomic():
            Feed.objects.filter(pk__in=self.ids, next_fetch_at=self.until).update(next_fetch_at=until)
            self.ids = set(Feed.objects.filter(pk__in=self.ids, next_fetch_at=until).values_list("pk", flat=True))
        self.until, self.renewed = until, time.monotonic()
        return self.ids

    def give_back(self, ids: list[int]) -> None:
        """Feeds this worker will not fetch after all (their host stayed busy,
        or the batch ran out of time) carry their queue lease again, so the
        task that queues them again with it finds them."""
        if self.until is None or not ids:
            return
        Feed.objects.filter(pk__in=ids, next_fetch_at=self.until).update(next_fetch_at=self.queued)
        self.ids.difference_update(ids)


def feeds_take(
    *, feed_ids: list[int], lease: str | None, seconds: float | None = None
) -> tuple[list[Feed], RunningLease]:
    """Take the feeds among ``feed_ids`` that are active, real and still carry
    the queue ``lease``: one conditional UPDATE moves them to a running lease
    of ``seconds`` (RUNNING_LEASE_SECONDS by default), so of two tasks racing
    for a feed exactly one gets it.
    Returns them (in the order given) and the lease that holds them. Without
    a lease (``fetch_feeds --all``, tests) nothing is taken or held, and every
    active feed among ``feed_ids`` is returned."""
    feeds = Feed.objects.filter(pk__in=feed_ids, status=Feed.Status.ACTIVE, is_demo=False)
    # Read with their WebSub state (a join): a pushed feed's next poll is the daily safety net.
    pushed = websub_feed_annotations()
    if lease is None:
        found, held = list(feeds.annotate(**pushed)), RunningLease(ids=set(), until=None, queued=None)
    else:
        queued = datetime.fromisoformat(lease)
        until = timezone.now() + timedelta(seconds=RUNNING_LEASE_SECONDS if seconds is None else seconds)
        with transaction.atomic():
            feeds.filter(next_fetch_at=queued).update(next_fetch_at=until)
            found = list(Feed.objects.filter(pk__in=feed_ids, next_fetch_at=until).annotate(**pushed))
        held = RunningLease(ids={feed.pk for feed in found}, until=until, queued=queued)
    by_id = {feed.pk: feed for feed in found}
    return [by_id[pk] for pk in dict.fromkeys(feed_ids) if pk in by_id], held


def interleaved_by_host(feeds: list[tuple[int, str]]) -> list[int]:
    """Feed ids ordered round-robin across hosts, so the queue does not hand
    every worker the same host at once."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for pk, url in feeds:
        by_host[urlsplit(url).hostname or ""].append(pk)
    ordered: list[int] = []
    queues = list(by_host.values())
    while queues:
        ordered.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return ordered


def batches(ids: list[int], size: int | None = None) -> list[list[int]]:
    """``ids`` cut into batches of at most ``FETCH_BATCH_SIZE``, order kept."""
    size = max(1, settings.FETCH_BATCH_SIZE if size is None else size)
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def feeds_queue(ids: list[int], *, lease: str | None, countdown: float | None = None) -> int:
    """Queue ``feeds.fetch_feeds`` batches for ``ids``; returns how many feeds
    were queued (fewer when the broker failed: their leases expire and the
    scheduler claims them again)."""
    from .tasks import fetch_feeds

    queued = 0
    for batch in batches(ids):
        try:
            fetch_feeds.apply_async(kwargs={"feed_ids": batch, "lease": lease}, countdown=countdown, retry=False)
        except Exception as exc:  # noqa: BLE001 - broker down: the leases expire and we claim again
            log.warning(
                "scheduler: could not queue %d fetches (%s); they are retried after the lease", len(ids) - queued, exc
            )
            break
        queued += len(batch)
    return queued


def feeds_schedule_due(*, now: datetime | None = None) -> int:
    """Claim due feeds and queue their fetches in batches. Returns how many.

    Claims no more than the queue has room for (``FETCH_CLAIM_BATCH`` minus
    what is already waiting, counting each waiting task as a full batch), so
    a backlog does not grow with every tick.
    """
    depth = queue_depth() or 0
    room = settings.FETCH_CLAIM_BATCH - depth * max(1, settings.FETCH_BATCH_SIZE)
    claimed, lease_until = feeds_claim_due(now=now, limit=room)
    feeds_queue(interleaved_by_host(claimed), lease=lease_until.isoformat())
    return len(claimed)


# --------------------------------------------------------------------------
# Per-host concurrency
# --------------------------------------------------------------------------

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


@functools.cache
def _redis_for(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=10)


def _redis():
    url = getattr(settings, "REDIS_URL", "")
    return _redis_for(url) if url else None


def _slot_key(host: str) -> str:
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}:fetch-host:{host}"


class HostSlot:
    """A held slot (or, without Redis, a stand-in that holds nothing)."""

    def __init__(self, client=None, key: str = "", token: str = "") -> None:
        self.client, self.key, self.token = client, key, token


class _SlotHeartbeat:
    """One daemon thread per process that renews every slot the process
    holds, every SLOT_RENEW_SECONDS, whatever its fetch threads are doing
    (a fetch may take FEED_FETCH_DEADLINE_SECONDS, longer than SLOT_SECONDS).
    When the process dies the renewals stop, and its slots expire."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # A forked child starts with no slots and no thread (and a fresh lock).
        self.lock = threading.Lock()
        self.held: dict[str, tuple[object, str]] = {}  # token -> (Redis client, key)
        self.thread: threading.Thread | None = None

    def hold(self, slot: HostSlot) -> None:
        with self.lock:
            self.held[slot.token] = (slot.client, slot.key)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="plnorg-host-slots", daemon=True)
                self.thread.start()

    def release(self, slot: HostSlot) -> None:
        with self.lock:
            self.held.pop(slot.token, None)

    def _run(self) -> None:
        while True:
            time.sleep(SLOT_RENEW_SECONDS)
            self.renew()

    def renew(self) -> None:
        """Push every held slot's expiry SLOT_SECONDS ahead (only slots still
        in the set: XX never brings back one that expired)."""
        with self.lock:
            held = list(self.held.items())
        by_client: dict[int, tuple[object, list[tuple[str, str]]]] = {}
        for token, (client, key) in held:
            by_client.setdefault(id(client), (client, []))[1].append((token, key))
        for client, slots in by_client.values():
            try:
                pipe = client.pipeline(transaction=False)
                for token, key in slots:
                    pipe.zadd(key, {token: time.time() + SLOT_SECONDS}, xx=True)
                pipe.execute()
            except Exception as exc:  # noqa: BLE001 - fail open, as when taking a slot
                log.warning("scheduler: could not renew %d host slots (%s)", len(slots), exc)


_heartbeat = _SlotHeartbeat()


@contextlib.contextmanager
def host_slot(url: str, *, wait_seconds: float = 0.0) -> Iterator[HostSlot]:
    """Hold one of the host's ``FETCH_PER_HOST_LIMIT`` fetch slots.

    Waits up to ``wait_seconds`` for a free slot, then raises HostBusy.
    """
    client = _redis()
    host = (urlsplit(url).hostname or "").lower()
    if client is None or not host:
        yield HostSlot()
        return
    key = _slot_key(host)
    token = uuid.uuid4().hex
    limit = max(1, settings.FETCH_PER_HOST_LIMIT)
    give_up = time.monotonic() + wait_seconds
    acquired = False
    while True:
        now = time.time()
        try:
            acquired = bool(
                client.eval(_ACQUIRE, 1, key, now, now + SLOT_SECONDS, token, limit, math.ceil(SLOT_SECONDS * 2))
            )
        except Exception as exc:  # noqa: BLE001 - fail open: see the module docstring
            log.warning("scheduler: per-host limit unavailable (%s); fetching %s without it", exc, host)
            yield HostSlot()
            return
        if acquired or time.monotonic() >= give_up:
            break
        time.sleep(0.1)
    if not acquired:
        raise HostBusy(host)
    slot = HostSlot(client, key, token)
    _heartbeat.hold(slot)
    try:
        yield slot
    finally:
        _heartbeat.release(slot)
        with contextlib.suppress(Exception):
            client.zrem(key, token)
