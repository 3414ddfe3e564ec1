"""What the benchmarks share: a database of their own, percentiles, platforms.

Each benchmark runs in a PostgreSQL database created beside the configured
one (``<name>_bench_<label>``, never the test or production database) and
dropped at the end, whatever happens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
