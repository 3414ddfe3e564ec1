"""Celery tasks for feeds: thin wrappers over the services.

Worker safety: late acknowledgement and rejection on a lost worker (settings)
mean a task whose worker died is delivered again; every task here is
idempotent (the fetch takes its feeds with their lease, entries are upserted),
and the soft time limit lets a stuck fetch record its error before the hard
limit kills it. The feeds of a worker that died are not waiting for that
redelivery: their running lease lapses within seconds and the scheduler
claims them again (feeds/scheduler.py).
"""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from .ingest import feed_fetch, feed_fetch_timed_out, feeds_fetch_batch, fetch_logs_purge
from .scheduler import HostBusy, feeds_queue, feeds_schedule_due

log = logging.getLogger(__name__)

# A fetch is bounded by FEED_FETCH_DEADLINE_SECONDS (30 s by default) well
# inside these limits; its running lease covers the deadline.
FETCH_SOFT_TIME_LIMIT = 60
FETCH_TIME_LIMIT = 90
# A batch starts no fetch after BATCH_BUDGET_SECONDS (the rest are queued
# again), so its last fetch ends well inside the soft limit.
BATCH_BUDGET_SECONDS = 120
BATCH_SOFT_TIME_LIMIT = 200
BATCH_TIME_LIMIT = 230


@shared_task(name="feeds.schedule_due_feeds", soft_time_limit=50, time_limit=55)
def schedule_due_feeds() -> int:
    return feeds_schedule_due()


@shared_task(
    name="feeds.fetch_feed",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=FETCH_SOFT_TIME_LIMIT,
    time_limit=FETCH_TIME_LIMIT,
)
def fetch_feed(self, *, feed_id: int, lease: str | None = None) -> None:
    try:
        feed_fetch(feed_id=feed_id, lease=lease, host_wait_seconds=5)
    except HostBusy:
        # The host's slots are all taken: come back in a moment, same lease.
        fetch_feed.apply_async(kwargs={"feed_id": feed_id, "lease": lease}, countdown=random.uniform(2, 6))
    except SoftTimeLimitExceeded:
        feed_fetch_timed_out(feed_id=feed_id)


@shared_task(
    name="feeds.fetch_feeds",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=BATCH_SOFT_TIME_LIMIT,
    time_limit=BATCH_TIME_LIMIT,
)
def fetch_feeds(*, feed_ids: list[int], lease: str | None = None) -> None:
    """The scheduler's batches: fetch ``feed_ids`` concurrently."""
    try:
        batch = feeds_fetch_batch(feed_ids=feed_ids, lease=lease, budget_seconds=BATCH_BUDGET_SECONDS)
    except SoftTimeLimitExceeded:
        # Feeds not recorded yet keep their running lease, no longer renewed:
        # the scheduler claims them again within seconds.
        log.warning("a batch of %d feeds ran out of time; the rest are fetched after their lease", len(feed_ids))
        return
    if batch.postponed:
        # Their hosts were busy: come back in a moment, same lease.
        feeds_queue(batch.postponed, lease=lease, countdown=random.uniform(2, 6))


@shared_task(name="feeds.purge_fetch_logs")
def purge_fetch_logs() -> int:
    return fetch_logs_purge()


# --- Curation, network, digests, retention (feeds/curation.py and friends) ---


@shared_task(name="feeds.send_digests", soft_time_limit=1500, time_limit=1800)
def send_digests() -> int:
    from .digests import digests_send_due

    return digests_send_due()


@shared_task(name="feeds.purge_expired_entries", soft_time_limit=1500, time_limit=1800)
def purge_expired_entries() -> int:
    from .retention import entries_purge_expired

    return entries_purge_expired()


@shared_task(name="feeds.refresh_network_figures", soft_time_limit=240, time_limit=300)
def refresh_network_figures() -> bool:
    """Does nothing when an admin switched network figures off."""
    from .network import network_figures_refresh

    return network_figures_refresh()
