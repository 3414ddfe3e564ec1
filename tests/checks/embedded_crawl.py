"""Crawl every page as every persona in the embedded mode: `python -m tests.checks.embedded_crawl`.

Run by tests/checks/test_embedded.py in a subprocess whose environment has no
DATABASE_URL, REDIS_URL or CACHE_URL (SQLite, filesystem broker, local-memory
cache: what `make run` uses), after migrate, seed_demo and fetch_feeds --sync.
Prints the pages x roles table and every problem; exits 1 if there is one.
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> int:
    setup_test_environment()
    from tests.checks.crawler import crawl_all, format_table

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.sqlite3":
        print(f"not the embedded mode: the database engine is {engine}")
        return 2
    crawls = crawl_all()
    print(format_table(crawls))
    problems = [problem for crawl in crawls.values() for problem in crawl.all_problems]
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
