"""/healthz reports the database, the cache and the broker; pages survive a
cache outage."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.demo import DEMO_PASSWORD
from plnorg.dashboard.models import DashboardSnapshot
from plnorg.models import Heartbeat
from tests.pages import text_of

pytestmark = pytest.mark.django_db

REPORT_FIELDS = {
    "database",
    "cache",
    "broker",
    "beat_last_run",
    "beat_age_seconds",
    "dashboard_computed_at",
    "dashboard_age_seconds",
    "dashboard_stale",
    "queue_depth",
    "mode",
    "elapsed_ms",
    "status",
}


@pytest.fixture
def empty_queue():
    from feeds.scheduler import _redis

    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    yield
    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def test_healthz_all_ok(client, empty_queue):
    beat_at = timezone.now() - timedelta(seconds=30)
    Heartbeat.objects.update_or_create(name="beat", defaults={"beat_at": beat_at})
    computed_at = timezone.now() - timedelta(minutes=20)
    DashboardSnapshot.objects.update(computed_at=computed_at)
    DashboardSnapshot.objects.filter(period="year").update(computed_at=computed_at - timedelta(minutes=5))

    before = timezone.now()
    response = client.get("/healthz")
    after = timezone.now()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    report = response.json()
    elapsed = report.pop("elapsed_ms")
    age = report.pop("beat_age_seconds")
    assert int((before - beat_at).total_seconds()) <= age <= int((after - beat_at).total_seconds())
    # The oldest snapshot (the year's) is the one reported.
    oldest = computed_at - timedelta(minutes=5)
    dashboard_age = report.pop("dashboard_age_seconds")
    assert int((before - oldest).total_seconds()) <= dashboard_age <= int((after - oldest).total_seconds())
    assert isinstance(elapsed, float) and 0 <= elapsed < 2000
    assert report == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "beat_last_run": beat_at.isoformat(),
        "dashboard_computed_at": oldest.isoformat(),
        "dashboard_stale": False,
        "queue_depth": 0,
        "mode": "production",
        "status": "ok",
    }


def test_healthz_names_the_broker_when_redis_is_unreachable(client, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert set(report) == REPORT_FIELDS
    assert (report["database"], report["cache"]) == ("ok", "ok")
    assert report["broker"] == "broker unreachable: OperationalError"
    assert report["queue_depth"] == "n/a"
    assert report["status"] == "failing: broker"
    assert report["elapsed_ms"] < 5000


def test_healthz_names_the_cache_when_it_is_unreachable(client, cache_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    report = response.json()
    assert (report["database"], report["broker"]) == ("ok", "ok")
    assert report["cache"] == "cache unreachable: ConnectionError"
    assert report["status"] == "failing: cache"


def test_healthz_answers_only_get(client):
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.content == b""


def test_pages_render_with_the_cache_unreachable(cache_down, client_as):
    from django.core.cache import cache

    assert cache.get("anything") is None  # django-redis swallows the error
    landing = Client().get(reverse("landing"))
    home = client_as("employee").get(reverse("home"))

    assert landing.status_code == 200
    assert "personal learning network" in text_of(landing)
    assert home.status_code == 200
    assert "Your PLN at a glance" in text_of(home)


def test_sign_in_works_with_the_cache_unreachable(cache_down):
    client = Client()

    response = client.post(reverse("account_login"), {"login": "employee@example.com", "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert "Hello, Ana Silva" in text_of(home)
