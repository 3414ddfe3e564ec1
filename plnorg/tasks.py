from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="plnorg.beat_heartbeat")
def beat_heartbeat() -> None:
    Heartbeat.objects.update_or_create(name="beat", defaults={"beat_at": timezone.now()})


@shared_task(name="plnorg.refresh_dashboard")
def refresh_dashboard() -> None:
    from .dashboard import dashboard_refresh

    dashboard_refresh()


# Connectors' sampled betweenness takes most of a minute on a dense graph of
# 1,000 members, so this task has limits of its own (still well below the
# broker's one-hour visibility timeout).
@shared_task(name="plnorg.compute_introductions", soft_time_limit=900, time_limit=1200)
def compute_introductions() -> None:
    """Nightly: introduction suggestions and connectors (each skipped when
    switched off in the organization settings)."""
    from .introductions import introductions_compute

    introductions_compute()


@shared_task(name="plnorg.introduction_follow_ups")
def introduction_follow_ups() -> None:
    """Ask "did you meet?" two weeks after both accepted (once per introduction)."""
    from members.introductions import introductions_follow_up

    introductions_follow_up()
