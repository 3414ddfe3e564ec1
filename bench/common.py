"""What the benchmarks share: a database of their own, percentiles, platforms.

Each benchmark runs in a PostgreSQL database created beside the configured
one (``<name>_bench_<label>``, never the test or production database) and
dropped at the end, whatever happens.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def platform_slugs() -> list[str]:
    """Every platform plnorg knows (feeds.platforms), for spreading bench
    feeds over them. Call it after django.setup()."""
    from feeds.platforms import PLATFORMS

    return [platform.slug for platform in PLATFORMS]


def admin_sql(admin_url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def bench_database(label: str, *, unique: bool = False) -> Iterator[str]:
    """Create ``<DATABASE_URL's name>_bench_<label>`` (with this process's id
    when ``unique``, so parallel runs do not meet), point DATABASE_URL at it,
    yield its name, and drop it at the end."""
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/plnorg"
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"the {label} benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
    name = f"{parts.path.lstrip('/') or 'plnorg'}_bench_{label}" + (f"_{os.getpid()}" if unique else "")
    admin = urlunsplit(parts._replace(path="/postgres"))
    admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(admin, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield name
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet; the drop below forces it
            pass
        admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure_in_turn(calls: dict[str, Callable[[], object]], *, rounds: int) -> dict[str, dict[str, float]]:
    """Time each call ``rounds`` times, one call of each per round, so that a
    machine whose speed drifts during the run (a shared 2-core VM does, by
    2x within minutes) slows every call alike and ratios between them stay
    comparable. Per label: p50 and p95 wall ms, median CPU ms of this process."""
    wall: dict[str, list[float]] = {label: [] for label in calls}
    cpu: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(rounds):
        for label, call in calls.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            cpu[label].append((time.process_time() - started_cpu) * 1000)
            wall[label].append((time.perf_counter() - started) * 1000)
    return {
        label: {
            "p50": statistics.median(wall[label]),
            "p95": percentile(wall[label], 0.95),
            "cpu": statistics.median(cpu[label]),
        }
        for label in calls
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
