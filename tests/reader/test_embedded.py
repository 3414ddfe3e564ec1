"""The reader in the embedded mode (`make run`): SQLite from scratch, demo
data, then read state and both APIs (tests/reader/embedded_reader.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CACHE_URL")


@pytest.mark.timeout(600)
def test_read_state_and_both_apis_work_on_sqlite(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env.update(DEBUG="1", SQLITE_PATH=str(tmp_path / "plnorg.sqlite3"), PYTHONPATH=str(BASE_DIR))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=500
        )

    for step in (("manage.py", "migrate", "--noinput"), ("manage.py", "seed_demo")):
        done = run(*step)
        assert done.returncode == 0, done.stderr[-4000:]
    done = run("-m", "tests.reader.embedded_reader")

    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert "PROBLEM" not in done.stdout
    assert done.stdout.count("ok ") == 14, done.stdout
