"""The embedded mode (`make run`): SQLite from scratch, demo data, every page as every role."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.checks.conftest import report

BASE_DIR = Path(__file__).resolve().parents[2]
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CACHE_URL")


@pytest.mark.timeout(600)
def test_embedded_mode_migrates_seeds_fetches_and_serves_every_page(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env.update(DEBUG="1", SQLITE_PATH=str(tmp_path / "plnorg.sqlite3"), PYTHONPATH=str(BASE_DIR))
    timings = []

    def run(*args: str) -> str:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=500
        )
        timings.append(f"{' '.join(args[-2:])} {time.perf_counter() - started:.1f} s")
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
        return done.stdout

    run("manage.py", "migrate", "--noinput")
    assert "Demo logins" in run("manage.py", "seed_demo")
    if (BASE_DIR / "feeds/management/commands/fetch_feeds.py").exists():
        assert run("manage.py", "fetch_feeds", "--sync").startswith("fetched ")
    table = run("-m", "tests.checks.embedded_crawl")
    report("Embedded mode (SQLite): " + ", ".join(timings) + "\n" + table)
    assert (tmp_path / "plnorg.sqlite3").stat().st_size > 0
    assert "responses checked" in table
