from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="plnorg.beat_heartbeat")
def beat_heartbeat() -> None:
    Heartbeat.objects.update_or_create(name="beat", defaults={"beat_at": timezone.now()})
