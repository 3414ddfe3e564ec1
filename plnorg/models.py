from django.db import models


class Heartbeat(models.Model):
    """Last time a periodic process reported in (e.g. "beat")."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class DashboardSnapshot(models.Model):
    """Precomputed leaders' dashboard figures for one period (the page reads
    these; a periodic task refreshes them)."""

    period = models.CharField(max_length=12, unique=True, help_text="4w, quarter or year")
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.period} at {self.computed_at:%Y-%m-%d %H:%M}"
