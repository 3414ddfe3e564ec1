"""Celery tasks for instant updates: thin wrappers over the services.

Each is idempotent (a request re-sent is harmless to a hub; a push is deleted
in the transaction that stores it) and returns quietly when its row is gone.
The hub requests stay well inside their time limit (FEED_FETCH_DEADLINE_SECONDS).
"""

from celery import shared_task

from .services import (
    websub_push_ingest,
    websub_subscribe,
    websub_subscriptions_maintain,
    websub_unsubscribe,
)


@shared_task(name="websub.subscribe", acks_late=True, soft_time_limit=60, time_limit=90)
def subscribe(*, subscription_id: int) -> bool | None:
    return websub_subscribe(subscription_id=subscription_id)


@shared_task(name="websub.unsubscribe", acks_late=True, soft_time_limit=60, time_limit=90)
def unsubscribe(*, subscription_id: int) -> bool | None:
    return websub_unsubscribe(subscription_id=subscription_id)


@shared_task(name="websub.ingest_push", acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def ingest_push(*, push_id: int) -> int | None:
    return websub_push_ingest(push_id=push_id)


@shared_task(name="websub.maintain_subscriptions", soft_time_limit=240, time_limit=280)
def maintain_subscriptions() -> None:
    websub_subscriptions_maintain()
