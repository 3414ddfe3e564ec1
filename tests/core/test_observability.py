"""Request ids in logs and tasks; the token-protected metrics endpoint."""

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from core.observability import JsonFormatter, RequestIdFilter, request_id_var
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


def _samples(exposition: str) -> dict[str, str]:
    """Unlabelled samples of a Prometheus text exposition: name -> value."""
    samples = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, value = line.split(" ", 1)
            samples[name] = value
    return samples


@pytest.fixture
def empty_queue():
    """The run's own Celery queue in the test Redis, empty before and after."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with Connection(settings.CELERY_BROKER_URL) as conn:
        redis = conn.default_channel.client
        redis.delete(queue)
        yield redis, queue
        redis.delete(queue)


def test_metrics_report_queue_depth_and_beat_heartbeat_age(settings, empty_queue):
    from plnorg.models import Heartbeat
    from plnorg.tasks import beat_heartbeat

    redis, queue = empty_queue
    settings.METRICS_TOKEN = "s3cret-token"
    for _ in range(3):
        beat_heartbeat.apply_async()
    # 0.2 s past the whole second, so the scrape's own duration cannot round it up.
    Heartbeat.objects.update_or_create(
        name="beat", defaults={"beat_at": timezone.now() - timedelta(seconds=125, milliseconds=200)}
    )
    client = Client()

    first = _samples(client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode())
    redis.lpop(queue)
    second = _samples(client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode())

    assert (first["plnorg_queue_depth"], first["plnorg_beat_heartbeat_age_seconds"]) == ("3.0", "125.0")
    assert second["plnorg_queue_depth"] == "2.0"


def test_metrics_report_each_dashboard_snapshots_age(settings):
    from plnorg.dashboard.models import DashboardSnapshot

    settings.METRICS_TOKEN = "s3cret-token"
    now = timezone.now()
    # 0.2 s past the whole second, so the scrape's own duration cannot round it up.
    for period, seconds in (("4w", 600), ("quarter", 900), ("year", 3 * 3600)):
        DashboardSnapshot.objects.filter(period=period).update(
            computed_at=now - timedelta(seconds=seconds, milliseconds=200)
        )

    exposition = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()

    lines = [line for line in exposition.splitlines() if line.startswith("plnorg_dashboard_snapshot_age_seconds{")]
    assert lines == [
        'plnorg_dashboard_snapshot_age_seconds{period="4w"} 600.0',
        'plnorg_dashboard_snapshot_age_seconds{period="quarter"} 900.0',
        'plnorg_dashboard_snapshot_age_seconds{period="year"} 10800.0',
    ]


# --- Error reporting (SENTRY_DSN) ------------------------------------------------


class _SentryIngest(ThreadingHTTPServer):
    """A stand-in for Sentry on 127.0.0.1: records each envelope it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, bytes]] = []
        super().__init__(("127.0.0.1", 0), _SentryHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def dsn(self, project: int) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/{project}"

    def events(self) -> list[dict]:
        """The error events received (not sessions or client reports)."""
        found = []
        for _path, raw in self.envelopes:
            _header, _, rest = raw.partition(b"\n")
            while rest.strip():
                item_line, _, rest = rest.partition(b"\n")
                item = json.loads(item_line)
                if "length" in item:
                    payload, rest = rest[: item["length"]], rest[item["length"] + 1 :]
                else:
                    payload, _, rest = rest.partition(b"\n")
                if item.get("type") == "event":
                    found.append(json.loads(payload))
        return found


class _SentryHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        decode = {"": bytes, "gzip": gzip.decompress, "br": brotli.decompress}[self.headers.get("Content-Encoding", "")]
        self.server.envelopes.append((self.path, decode(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


# Run in a fresh interpreter so settings.py reads SENTRY_DSN at import, as in
# production, and serve the site's WSGI application (as gunicorn does) on
# 127.0.0.1. /sentry-probe/boom/ is mounted in front of the site's own URLs
# (same middleware, declared public in the permission map) so an unhandled
# view error can be raised on purpose.
_SENTRY_PROBE = """
import json, sys, threading, types, urllib.error, urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
django.setup()
import sentry_sdk
from django.test.utils import override_settings
from django.urls import include, path

from core import permissions
from plnorg.wsgi import application


def boom(request):
    raise RuntimeError("sentry probe: view failed")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


urls = types.ModuleType("sentry_probe_urls")
urls.urlpatterns = [path("sentry-probe/boom/", boom, name="sentry_probe"), path("", include("plnorg.urls"))]
sys.modules["sentry_probe_urls"] = urls
permissions.register({"sentry_probe": permissions.Access(roles=permissions.PUBLIC, text="Sentry probe")})
client = sentry_sdk.get_client()
print(json.dumps({"active": client.is_active(), "integrations": sorted(client.integrations)}))
if client.is_active():
    sentry_sdk.capture_message("sentry probe: a message")
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/sentry-probe/boom/"
    request = urllib.request.Request(url + "?q=1", headers={"Cookie": "sessionid=secret-session-value"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with override_settings(ROOT_URLCONF="sentry_probe_urls"):
        try:
            status = opener.open(request, timeout=20).status
        except urllib.error.HTTPError as error:
            status = error.code
    server.shutdown()
    print(json.dumps({"status": status, "url": url}))
    sentry_sdk.flush(timeout=10)
"""


PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def _database_url() -> str:
    """This run's test database, for a subprocess (the environment names the
    database the test one is derived from)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _run_probe(**env: str) -> list[dict]:
    # Nothing may leave the machine: no proxy, no DSN but the one given.
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("SENTRY_") and k.lower() not in PROXY_VARIABLES
    }
    result = subprocess.run(
        [sys.executable, "-c", _SENTRY_PROBE],
        cwd=Path(settings.BASE_DIR),
        env={**environment, "DJANGO_SETTINGS_MODULE": "plnorg.settings", "DATABASE_URL": _database_url(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_sentry_reports_messages_and_view_errors_when_a_dsn_is_set():
    ingest = _SentryIngest()
    try:
        printed = _run_probe(SENTRY_DSN=ingest.dsn(42), SENTRY_ENVIRONMENT="drill")
    finally:
        ingest.shutdown()
        ingest.server_close()

    assert printed[0]["active"] is True
    assert "django" in printed[0]["integrations"]
    assert printed[1]["status"] == 500
    assert {path for path, _raw in ingest.envelopes} == {"/api/42/envelope/"}
    events = ingest.events()
    assert [e.get("message") or e.get("logentry", {}).get("message") for e in events if "exception" not in e] == [
        "sentry probe: a message"
    ]
    [error] = [e for e in events if "exception" in e]
    assert [(x["type"], x["value"]) for x in error["exception"]["values"]] == [
        ("RuntimeError", "sentry probe: view failed")
    ]
    assert (error["request"]["method"], error["request"]["url"]) == ("GET", printed[1]["url"])
    assert error["request"]["query_string"] == "q=1"
    assert error["transaction"] == "/sentry-probe/boom/"
    assert {e["environment"] for e in events} == {"drill"}
    # send_default_pii=False: the session cookie never leaves the site.
    assert not any(b"secret-session-value" in raw for _path, raw in ingest.envelopes)
    # Redis keys (session ids, rate-limit emails and addresses) never ride along as breadcrumbs.
    crumbs = [crumb for event in events for crumb in (event.get("breadcrumbs") or {}).get("values", [])]
    assert not [crumb for crumb in crumbs if crumb.get("category") == "redis"]


def test_sentry_stays_off_without_a_dsn():
    printed = _run_probe()
    assert printed == [{"active": False, "integrations": []}]


# --- The request id inside a real worker -------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.timeout(120)
def test_a_worker_logs_the_task_of_a_request_with_its_request_id():
    """A request queues an email; a real `celery worker` process runs it and
    every line the task logs is JSON carrying the request's id. Its SMTP
    server refuses connections, so the task itself logs a warning too."""
    from members.models import OutboundEmail
    from tests.factories import UserFactory
    from tests.feeds.test_workers import Worker, wait_for

    UserFactory(email="rid.worker@example.org")
    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.default_channel.client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    worker = Worker("rid", concurrency=1, LOG_FORMAT="json", EMAIL_URL="smtp://127.0.0.1:9")
    try:
        worker.wait_ready()
        response = Client().post(
            reverse("account_reset_password"),
            {"email": "rid.worker@example.org"},
            HTTP_X_REQUEST_ID="req-worker-0042",
        )
        email = OutboundEmail.objects.get(to="rid.worker@example.org")
        wait_for(
            lambda: OutboundEmail.objects.filter(pk=email.pk, attempts=1).exclude(last_error="").exists(),
            what="the worker's attempt",
        )
        wait_for(lambda: "succeeded" in worker.log.read_text(), what="the task's end in the log")
        lines = [json.loads(line) for line in worker.log.read_text().splitlines() if line.startswith("{")]
    finally:
        worker.stop()

    assert response.status_code == 302
    task_lines = [line for line in lines if line["request_id"] == "req-worker-0042"]
    # The task's own lines (its code logs under members.*), in order: its
    # warning, then Celery's "succeeded". Celery and kombu may log lines of
    # their own while the task runs (on a loaded machine they do, and those
    # carry the id too, rightly), so the task's lines are told by their logger.
    task_own = [line for line in task_lines if line["logger"].startswith("members.")]
    lifecycle = [line for line in task_lines if line["message"].startswith("Task members.send_email[")]
    assert [line["level"] for line in task_own] == ["WARNING"], task_lines
    assert task_own[0]["message"].startswith(f"outbox: sending email {email.pk} failed: "), lines
    assert [line for line in lines if line["logger"].startswith("members.")] == task_own, lines
    assert lifecycle and lifecycle[-1]["level"] == "INFO" and " succeeded in " in lifecycle[-1]["message"], lines
    assert task_lines.index(task_own[0]) < task_lines.index(lifecycle[-1]), lines
