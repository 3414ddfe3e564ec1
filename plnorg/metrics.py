"""Prometheus metrics at /metrics, protected by a bearer token (METRICS_TOKEN).

Request latency is measured in each web process by core.observability (set
PROMETHEUS_MULTIPROC_DIR when gunicorn runs several workers so their samples
are combined). Figures
that live in the database or the broker (fetches by outcome, queue depth, beat
heartbeat age, outbox backlog, the dashboard snapshots' age) are read at scrape
time, so every web process reports the same truth whatever process did the work.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.observability import REQUEST_LATENCY


class DatabaseCollector:
    """Gauges computed from the database and the broker at scrape time."""

    def collect(self):
        from feeds.models import FetchLog
        from members.models import OutboundEmail

        since = timezone.now() - timedelta(hours=24)
        fetches = GaugeMetricFamily(
            "plnorg_fetches_last_24h", "Feed fetches in the last 24 hours, by outcome.", labels=["outcome"]
        )
        counts = _fetch_counts(since)
        for outcome, _label in FetchLog.Outcome.choices:
            fetches.add_metric([outcome], counts.get(outcome, 0))
        yield fetches
        backlog = OutboundEmail.objects.filter(status__in=["pending", "sending"]).count()
        yield GaugeMetricFamily("plnorg_outbox_backlog", "Emails waiting to be sent.", value=backlog)
        unknown = OutboundEmail.objects.filter(status=OutboundEmail.Status.UNKNOWN).count()
        yield GaugeMetricFamily(
            "plnorg_outbox_unknown",
            "Emails interrupted mid-send (delivered or not): review and resend them in the admin.",
            value=unknown,
        )
        depth = queue_depth()
        if depth is not None:
            yield GaugeMetricFamily("plnorg_queue_depth", "Tasks waiting in the Celery queue.", value=depth)
        age = beat_age_seconds()
        if age is not None:
            yield GaugeMetricFamily("plnorg_beat_heartbeat_age_seconds", "Seconds since beat last ran.", value=age)
        yield dashboard_ages()
        yield from websub_gauges()


def websub_gauges():
    """Instant updates: subscriptions by state, and the pushes counted on
    them (accepted, and refused by reason: unsigned, wrong signature, too large)."""
    from feeds.websub.services import websub_figures

    figures = websub_figures()
    states = GaugeMetricFamily("plnorg_websub_subscriptions", "WebSub subscriptions, by state.", labels=["state"])
    for state, count in figures.by_state.items():
        states.add_metric([state], count)
    yield states
    yield GaugeMetricFamily(
        "plnorg_websub_pushes_received",
        "Correctly signed pushes received by current subscriptions.",
        value=figures.pushes_received,
    )
    refused = GaugeMetricFamily(
        "plnorg_websub_pushes_refused",
        "Pushes ignored by current subscriptions, by reason (unsigned, bad_signature, too_large).",
        labels=["reason"],
    )
    for reason, count in figures.refused.items():
        refused.add_metric([reason], count)
    yield refused


def dashboard_ages() -> GaugeMetricFamily:
    """Age of each period's dashboard snapshot: it grows past an hour (two
    refreshes) only when the refresh fails or does not run."""
    from .health import dashboard_snapshot_times

    now = timezone.now()
    ages = GaugeMetricFamily(
        "plnorg_dashboard_snapshot_age_seconds",
        "Seconds since the leaders' dashboard figures were computed, by period.",
        labels=["period"],
    )
    for period, computed_at in dashboard_snapshot_times().items():
        ages.add_metric([period], int((now - computed_at).total_seconds()))
    return ages


def beat_age_seconds() -> int | None:
    from .models import Heartbeat

    beat_at = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    return int((timezone.now() - beat_at).total_seconds()) if beat_at else None


def queue_depth() -> int | None:
    from .health import queue_depth as health_queue_depth

    depth = health_queue_depth()
    return depth if isinstance(depth, int) else None


def _fetch_counts(since) -> dict[str, int]:
    from django.db.models import Count

    from feeds.models import FetchLog

    rows = FetchLog.objects.filter(started_at__gte=since).values("outcome").annotate(n=Count("id"))
    return {row["outcome"]: row["n"] for row in rows}


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(DatabaseCollector())
    return registry


@never_cache
def metrics(request):
    token = settings.METRICS_TOKEN
    supplied = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
    if not token or not supplied or not hmac.compare_digest(token, supplied):
        return HttpResponse(
            "metrics: a valid token is required (Authorization: Bearer METRICS_TOKEN).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
