"""/healthz: the database, the cache and the broker, as JSON (503 when one
fails).

It also reports, without failing on them, how old beat's heartbeat and the
leaders' dashboard figures are: neither is a reason to take the web processes
out of a load balancer, but monitoring should alert on both."""

import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from plnorg.dashboard.models import DashboardSnapshot

from .models import Heartbeat


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def check_cache() -> str | None:
    # django-redis ignores errors for pages; here we ask the server directly.
    client_getter = getattr(getattr(cache, "client", None), "get_client", None)
    try:
        if client_getter is not None:
            client_getter(write=True).ping()
        else:
            cache.set("healthz", "1", 5)
    except Exception as exc:  # noqa: BLE001
        return f"cache unreachable: {exc.__class__.__name__}"
    return None


def check_broker() -> str | None:
    from plnorg.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception as exc:  # noqa: BLE001
        return f"broker unreachable: {exc.__class__.__name__}"
    return None


def queue_depth() -> int | str:
    """Tasks waiting in the Celery queue (LLEN in Redis); "n/a" on the
    filesystem broker or when Redis does not answer."""
    from feeds.scheduler import queue_depth as redis_queue_depth

    depth = redis_queue_depth() if settings.CELERY_BROKER_URL.startswith("redis") else None
    return "n/a" if depth is None else depth


def dashboard_snapshot_times() -> dict[str, datetime]:
    """When each period's dashboard snapshot was computed (period -> time)."""
    return dict(DashboardSnapshot.objects.order_by("period").values_list("period", "computed_at"))


def health_report() -> tuple[bool, dict]:
    started = time.monotonic()
    checks = {"database": check_database(), "cache": check_cache(), "broker": check_broker()}
    report: dict = {name: ("ok" if error is None else error) for name, error in checks.items()}
    heartbeat = None
    if checks["database"] is None:
        heartbeat = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    report["beat_last_run"] = heartbeat.isoformat() if heartbeat else None
    report["beat_age_seconds"] = int((timezone.now() - heartbeat).total_seconds()) if heartbeat else None
    # The oldest snapshot: the stalest figures a leader may be reading.
    oldest = min(dashboard_snapshot_times().values(), default=None) if checks["database"] is None else None
    now = timezone.now()
    report["dashboard_computed_at"] = oldest.isoformat() if oldest else None
    report["dashboard_age_seconds"] = int((now - oldest).total_seconds()) if oldest else None
    report["dashboard_stale"] = bool(oldest) and now - oldest > DashboardSnapshot.STALE_AFTER
    report["queue_depth"] = queue_depth()
    report["mode"] = "embedded" if settings.EMBEDDED else "production"
    report["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    failing = [name for name, error in checks.items() if error is not None]
    report["status"] = "ok" if not failing else "failing: " + ", ".join(failing)
    return not failing, report


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
