"""Celery tasks: thin wrappers around the services (schedules in plnorg/celery.py)."""

from celery import shared_task

from .services.reminders import reminders_send, workshops_close_finished


@shared_task(name="workshops.send_reminders")
def send_reminders() -> int:
    return reminders_send()


@shared_task(name="workshops.close_finished_workshops")
def close_finished_workshops() -> int:
    return workshops_close_finished()
