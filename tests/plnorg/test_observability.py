"""Request ids in logs and tasks; the token-protected metrics endpoint."""

import json
import logging

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from kombu import Connection

from plnorg.observability import JsonFormatter, RequestIdFilter, request_id_var
from tests.factories import FeedFactory

pytestmark = pytest.mark.django_db


def test_request_id_is_echoed_and_logged(caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-abc12345")
    assert response["X-Request-ID"] == "req-abc12345"
    record = next(r for r in caplog.records if r.name == "django.request")
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-abc12345"
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /no-such-page/"


def test_an_unsafe_incoming_request_id_is_replaced():
    response = Client().get(reverse("landing"), HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_tasks_queued_during_a_request_carry_its_id():
    from plnorg.celery import app
    from plnorg.tasks import beat_heartbeat

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.default_channel.client.delete(queue)
        token = request_id_var.set("req-task-0001")
        try:
            beat_heartbeat.apply_async()
        finally:
            request_id_var.reset(token)
        raw = conn.default_channel.client.lpop(queue)
    message = json.loads(raw)
    assert message["headers"]["task"] == "plnorg.beat_heartbeat"
    assert message["headers"]["request_id"] == "req-task-0001"
    assert app is not None


def test_metrics_refuse_without_the_token(settings):
    settings.METRICS_TOKEN = "s3cret-token"
    client = Client()
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    assert wrong.content.decode().startswith("metrics: a valid token is required")


def test_metrics_report_a_fetch_after_it_happens(settings):
    from feeds.models import FetchLog

    settings.METRICS_TOKEN = "s3cret-token"
    client = Client()
    client.get(reverse("landing"))
    before = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()
    assert 'plnorg_fetches_last_24h{outcome="ok"} 0.0' in before
    FetchLog.objects.create(feed=FeedFactory(), outcome=FetchLog.Outcome.OK, http_status=200, new_entries=3)
    after = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()
    assert 'plnorg_fetches_last_24h{outcome="ok"} 1.0' in after
    assert 'plnorg_request_duration_seconds_count{route="landing",status="2xx"}' in after
    assert "plnorg_outbox_backlog" in after
