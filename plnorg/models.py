from datetime import timedelta

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """Last time a periodic process reported in (e.g. "beat")."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


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

    def __str__(self) -> str:
        return f"{self.period} at {self.computed_at:%Y-%m-%d %H:%M}"

    def age(self, *, now=None) -> timedelta:
        return (now or timezone.now()) - self.computed_at

    def is_stale(self, *, now=None) -> bool:
        return self.age(now=now) > self.STALE_AFTER


class IntroductionSuggestion(models.Model):
    """A computed suggestion that two opted-in members of different teams
    might meet, with the reason. Recomputed by `plnorg.compute_introductions`;
    a row stays (for the funnel's history) but is only shown while `is_current`."""

    member_a = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    member_b = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="The larger of the two similarities, for ordering.")
    source_similarity = models.FloatField(help_text="Jaccard similarity of their shared sources.")
    topic_similarity = models.FloatField(help_text="Jaccard similarity of their topics.")
    common_sources = models.JSONField(default=list, blank=True, help_text="Titles of sources both share (a few).")
    common_topics = models.JSONField(default=list, blank=True, help_text="Topics both have (a few).")
    is_stranger = models.BooleanField(
        default=False, help_text="Similar topics (Jaccard >= 0.3) but different sources (Jaccard < 0.1)."
    )
    is_current = models.BooleanField(default=True, db_index=True)
    first_suggested_at = models.DateTimeField(db_index=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["member_a", "member_b"], name="suggestion_unique_pair")]

    def __str__(self) -> str:
        return f"{self.member_a_id} ↔ {self.member_b_id} ({self.score:.2f})"


class ConnectorStatus(models.Model):
    """Whether a member bridges communities of the shared-source graph.
    Shown to leaders only as counts per team (teams of 5+), and to the member
    privately."""

    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="+")
    is_connector = models.BooleanField(default=False)
    betweenness = models.FloatField(default=0.0)
    communities_spanned = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.member_id} connector={self.is_connector}"


class IntroductionComputation(models.Model):
    """The last run of the suggestions or connectors computation."""

    kind = models.CharField(max_length=20, unique=True, help_text="suggestions or connectors")
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True, help_text="Figures of the run (members, pairs, edges...).")

    def __str__(self) -> str:
        return f"{self.kind} at {self.computed_at:%Y-%m-%d %H:%M}"
