"""The leaders' dashboard's stored figures."""

from django.db import models


class DashboardSnapshot(models.Model):
    """Precomputed leaders' dashboard figures for one period (the page reads
    these; a periodic task refreshes them)."""

    period = models.CharField(max_length=12, unique=True, help_text="4w, quarter or year")
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)

    class Meta:
        db_table = "plnorg_dashboardsnapshot"  # its table from before it moved out of plnorg

    def __str__(self) -> str:
        return f"{self.period} at {self.computed_at:%Y-%m-%d %H:%M}"
