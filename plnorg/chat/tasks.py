"""Chat channels' tasks: thin, named, primitive ids; the schedule is in
plnorg/celery.py."""

from celery import shared_task


@shared_task(name="chat.send_delivery")
def send_delivery(*, delivery_id: int) -> None:
    """Send one delivery (queued when the change that wrote it commits); a
    sent, claimed or vanished row is left alone."""
    from .services.delivery import delivery_send

    delivery_send(delivery_id=delivery_id)


@shared_task(name="chat.send_due_deliveries")
def send_due_deliveries() -> None:
    """Every minute: retries that are due, rows that could not be queued,
    rows a dead worker left behind."""
    from .services.delivery import deliveries_send_due

    deliveries_send_due()


@shared_task(name="chat.announce_weekly_digest")
def announce_weekly_digest() -> None:
    """Mondays: last week's picks and rising topics, to the channels that want them."""
    from .services.delivery import digest_announce

    digest_announce()


@shared_task(name="chat.announce_introductions_month")
def announce_introductions_month() -> None:
    """The 1st of each month: last month's introductions count (groups of 5 or more)."""
    from .services.delivery import introductions_announce

    introductions_announce()


@shared_task(name="chat.purge_old_deliveries")
def purge_old_deliveries() -> None:
    from .services.delivery import deliveries_purge

    deliveries_purge()
