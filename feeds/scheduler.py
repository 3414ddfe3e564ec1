"""Which feeds to fetch now, and how many at once per host.

The beat task runs `feeds_schedule_due` every minute. It claims due feeds
(active, not demo, ``next_fetch_at <= now``) with ``SELECT … FOR UPDATE SKIP
LOCKED``, moves their ``next_fetch_at`` forward by the lease
(``FETCH_LEASE_SECONDS``) in the same transaction, and queues them after
commit as ``feeds.fetch_feeds`` tasks of up to ``FETCH_BATCH_SIZE`` feeds
(interleaved by host), each carrying the lease. A batch fetches its feeds
concurrently and records all its 304s in one statement (feeds.ingest). So:

- two schedulers at once claim disjoint sets (SKIP LOCKED), and a feed
  claimed once is not due again until its lease runs out;
- a task lost with a dead worker or a restarted broker is not retried by
  anyone: the feed simply becomes due again when its lease expires;
- a task that arrives after its feed was fetched or re-claimed sees a
  different ``next_fetch_at`` than its lease and does nothing (idempotent).

`host_slot` limits concurrent fetches per host name across every worker
(``FETCH_PER_HOST_LIMIT``, default 4) with a Redis sorted set used as a
counting semaphore whose slots expire, so a worker killed mid-fetch cannot
hold a slot for ever. A holder may fetch several feeds of the host in a row;
`HostSlot.keep` renews the slot before each, so it never expires while held. Without Redis (embedded mode), or while Redis is
unreachable, the limit is not enforced: one embedded worker is polite anyway,
and nothing can be queued while the broker is down.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Feed

log = logging.getLogger(__name__)

# A host slot expires this long after it was taken or last renewed: above
# one fetch's deadline, so a live holder renews it in time.
SLOT_SECONDS = 240
# A holder renews its slot once it is this old.
SLOT_RENEW_AFTER_SECONDS = 60


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
        self.renewed = time.monotonic()

    def keep(self) -> None:
        """Renew the slot if it is getting old; call before each fetch."""
        if self.client is None or time.monotonic() - self.renewed < SLOT_RENEW_AFTER_SECONDS:
            return
        with contextlib.suppress(Exception):  # fail open, as when taking it
            self.client.zadd(self.key, {self.token: time.time() + SLOT_SECONDS}, xx=True)
        self.renewed = time.monotonic()


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
            acquired = bool(client.eval(_ACQUIRE, 1, key, now, now + SLOT_SECONDS, token, limit, SLOT_SECONDS * 2))
        except Exception as exc:  # noqa: BLE001 - fail open: see the module docstring
            log.warning("scheduler: per-host limit unavailable (%s); fetching %s without it", exc, host)
            yield HostSlot()
            return
        if acquired or time.monotonic() >= give_up:
            break
        time.sleep(0.1)
    if not acquired:
        raise HostBusy(host)
    try:
        yield HostSlot(client, key, token)
    finally:
        with contextlib.suppress(Exception):
            client.zrem(key, token)
