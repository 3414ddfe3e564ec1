"""A 500 under the production setup leaves its traceback in the log.

`bin/prod-local web` starts gunicorn exactly as the full `bin/prod-local` run
does (detached, logging to $RUN/web.log), here on a spare port and against an
empty database on the test PostgreSQL server: the site deployed before
`migrate` ran, so the sign-in page fails with a real ProgrammingError. The
error page says "The error has been logged"; this checks that it was, with the
request id the response carries.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest
from django.conf import settings

from tests.faults.conftest import ROOT, free_port, port_is_free
from tests.feeds.test_workers import wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(240)]


def _admin_connection():
    database = settings.DATABASES["default"]
    connection = psycopg2.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"] or "postgres",
        dbname="postgres",
    )
    connection.autocommit = True
    return connection


@pytest.fixture
def unmigrated_database() -> Iterator[str]:
    database = settings.DATABASES["default"]
    name = f"{database['NAME']}_unmigrated"
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
        yield (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{name}"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        connection.close()


def _stop(pid_file: Path) -> None:
    """Stop the gunicorn this test started (its master, by the pid it wrote)."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def prod_web(tmp_path, unmigrated_database) -> Iterator[tuple[str, Path]]:
    run = tmp_path / "run"
    port = free_port(8900, 8999)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PROD_RUN_DIR": str(run),
        "PROD_PORT": str(port),
        "PROD_WEB_WORKERS": "1",
        "DATABASE_URL": unmigrated_database,
        # The run's own Redis databases (only /healthz and the cache touch them).
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CACHE_URL": settings.CACHES["default"]["LOCATION"],
        "CACHE_KEY_PREFIX": "plnorg-prod-local-test",
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }
    started = subprocess.run(
        [str(ROOT / "bin/prod-local"), "web"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert started.returncode == 0, started.stdout + started.stderr
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: not port_is_free(port), timeout=60, what="gunicorn to listen")
        yield url, run
    finally:
        _stop(run / "web.pid")


def _json_lines(path: Path) -> list[dict]:
    records = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_a_500_under_prod_local_leaves_its_traceback_in_web_log(prod_web):
    url, run = prod_web

    response = httpx.get(f"{url}/accounts/login/", timeout=30)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "The error has been logged." in response.text
    request_id = response.headers["X-Request-ID"]

    def logged() -> list[dict]:
        return [r for r in _json_lines(run / "web.log") if r.get("request_id") == request_id]

    wait_for(lambda: bool(logged()), timeout=15, what="the 500 in web.log")
    (record,) = logged()
    assert (record["level"], record["logger"], record["message"]) == (
        "ERROR",
        "django.request",
        "Internal Server Error: /accounts/login/",
    )
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert 'django.db.utils.ProgrammingError: relation "django_site" does not exist' in record["exception"]
