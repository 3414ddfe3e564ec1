"""The project's own model: the heartbeat of periodic processes (read by
/healthz and /metrics)."""

from django.db import models


class Heartbeat(models.Model):
    """Last time a periodic process reported in (e.g. "beat")."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
