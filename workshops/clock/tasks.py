"""Celery tasks: thin wrappers around the services (schedules in plnorg/celery.py)."""

from celery import shared_task


@shared_task(name="workshops.cap_overdue_timers")
def cap_overdue_timers() -> int:
    from .services import timers_cap_overdue

    return timers_cap_overdue()
