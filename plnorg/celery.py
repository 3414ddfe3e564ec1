"""The Celery application. Settings come from Django settings (namespace CELERY).

The periodic schedule is declared here and nowhere else.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")

app = Celery("plnorg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_observability() -> None:
    from core.observability import connect_celery_signals

    connect_celery_signals()


_connect_observability()

# Every periodic task, in one place. Tasks look themselves up by name.
app.conf.beat_schedule = {
    "send-pending-email": {
        "task": "members.send_pending_emails",
        "schedule": 60.0,
    },
    "heartbeat": {
        "task": "plnorg.beat_heartbeat",
        "schedule": 60.0,
    },
    "refresh-dashboard": {
        "task": "plnorg.refresh_dashboard",
        "schedule": crontab(minute="*/30"),
    },
    # Often, so feeds a killed worker held are fetched again seconds after
    # their short running lease lapses (feeds/scheduler.py); a tick with
    # nothing due is one indexed query.
    "schedule-due-feeds": {
        "task": "feeds.schedule_due_feeds",
        "schedule": 15.0,
    },
    "purge-fetch-logs": {
        "task": "feeds.purge_fetch_logs",
        "schedule": crontab(hour=3, minute=41),
    },
    "send-digests": {
        "task": "feeds.send_digests",
        "schedule": crontab(hour=6, minute=11),
    },
    "purge-expired-entries": {
        "task": "feeds.purge_expired_entries",
        "schedule": crontab(hour=4, minute=7),
    },
    "compact-read-state": {
        "task": "reader.compact_read_state",
        "schedule": crontab(hour=4, minute=37),
    },
    "maintain-websub-subscriptions": {
        "task": "websub.maintain_subscriptions",
        "schedule": crontab(minute="2-59/5"),
    },
    "refresh-network-figures": {
        "task": "feeds.refresh_network_figures",
        "schedule": crontab(minute="*/15"),
    },
    "compute-introductions": {
        "task": "plnorg.compute_introductions",
        "schedule": crontab(hour=2, minute=23),
    },
    "introduction-follow-ups": {
        "task": "plnorg.introduction_follow_ups",
        "schedule": crontab(hour=9, minute=7),
    },
    "workshop-reminders": {
        "task": "workshops.send_reminders",
        "schedule": crontab(minute="*/15"),
    },
    "close-finished-workshops": {
        "task": "workshops.close_finished_workshops",
        "schedule": crontab(minute="7-59/15"),
    },
    "cap-overdue-timers": {
        "task": "workshops.cap_overdue_timers",
        "schedule": crontab(minute="*/5"),
    },
    "send-due-chat-deliveries": {
        "task": "chat.send_due_deliveries",
        "schedule": 60.0,
    },
    "announce-weekly-digest-in-chat": {
        "task": "chat.announce_weekly_digest",
        "schedule": crontab(day_of_week="mon", hour=8, minute=5),
    },
    "announce-introductions-month-in-chat": {
        "task": "chat.announce_introductions_month",
        "schedule": crontab(day_of_month=1, hour=8, minute=25),
    },
    "purge-old-chat-deliveries": {
        "task": "chat.purge_old_deliveries",
        "schedule": crontab(hour=3, minute=29),
    },
    "purge-sent-email": {
        "task": "members.purge_old_emails",
        "schedule": crontab(hour=3, minute=17),
    },
}
