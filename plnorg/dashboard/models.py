"""The leaders' dashboard's stored figures."""

from datetime import timedelta

from django.db import models
from django.utils import timezone


class DashboardSnapshot(models.Model):
    """Precomputed leaders' dashboard figures for one period (the page reads
    these; a periodic task refreshes them)."""

    # `plnorg.refresh_dashboard` runs every 30 minutes (plnorg/celery.py). A
    # snapshot older than two of its runs means the refresh is failing (or not
    # running): the page says so and /healthz and /metrics report the age.
    STALE_AFTER = timedelta(hours=1)

    period = models.CharField(max_length=12, unique=True, help_text="4w, quarter or year")
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)

    class Meta:
        db_table = "plnorg_dashboardsnapshot"  # its table from before it moved out of plnorg

    def __str__(self) -> str:
        return f"{self.period} at {self.computed_at:%Y-%m-%d %H:%M}"

    def age(self, *, now=None) -> timedelta:
        return (now or timezone.now()) - self.computed_at

    def is_stale(self, *, now=None) -> bool:
        return self.age(now=now) > self.STALE_AFTER
