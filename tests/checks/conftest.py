"""Fixtures of the page checks: one crawl per run, shared by every check.

How the checks stay fast as pages are added:

- `crawl` runs the crawler ONCE per test run, for every persona, on the
  seeded test database with the Django test client (no browser, no server),
  inside a transaction that is rolled back, so samples that create rows
  (a calendar token) leave nothing behind. The crawler, CSRF, header and
  accessibility tests all read its responses instead of crawling again.
- The accessibility check needs a real browser and so a real server, which
  cannot see the test transaction. Instead of pytest-django's `live_server`
  (it needs a transactional test, which would flush the demo data for every
  test after it), `checks_server` (see tests/checks/a11y.py) clones the
  seeded test database once with PostgreSQL's CREATE DATABASE ... TEMPLATE
  (a file copy, well under a second) and starts ONE server process on the
  clone; `a11y_check_pages` drives ONE headless Chromium with one stored
  login per persona (a session cookie in a browser context's storage state).

All of these are session-scoped and requested only by tests marked
`django_db`, which pytest-django runs before any transactional test: the
demo data is still intact when they start.
"""

from __future__ import annotations

import os

import pytest
from django.db import transaction

from tests.checks.crawler import Crawl, crawl_all, format_table

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# from the test thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_REPORT: list[str] = []


@pytest.fixture(scope="session")
def crawl(django_db_setup, django_db_blocker) -> dict[str, Crawl]:
    """Every persona's crawl, done once and rolled back."""
    from django.core.cache import cache

    with django_db_blocker.unblock():
        cache.clear()
        with transaction.atomic():
            crawls = crawl_all()
            transaction.set_rollback(True)
        cache.clear()
    _REPORT.append("Pages x roles checked by the crawler\n" + format_table(crawls))
    return crawls


@pytest.fixture(scope="session")
def checks_server(django_db_setup, django_db_blocker):
    """ONE server process on ONE clone of the seeded test database."""
    from django.db import connection

    from tests.checks.a11y import CheckServer, database_clone, database_drop, database_url

    settings_dict = dict(connection.settings_dict)
    clone = f"{settings_dict['NAME']}_pages"
    with django_db_blocker.unblock():
        database_clone(settings_dict, clone)
    server = CheckServer.start(database_url(settings_dict, clone))
    yield server
    server.stop()
    database_drop(settings_dict, clone)


def report(text: str) -> None:
    """Add a block to the page-check report printed at the end of the run."""
    _REPORT.append(text)


def pytest_terminal_summary(terminalreporter):
    # Printed on every run (not only with -s) so the CI log shows what was checked.
    for block in _REPORT:
        terminalreporter.write_sep("-", "page checks")
        terminalreporter.write_line(block)
