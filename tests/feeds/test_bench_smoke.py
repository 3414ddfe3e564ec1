"""bench/ingest.py --smoke runs end to end (figures are printed, not asserted)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_ingest_benchmark_smoke_run():
    db = connection.settings_dict
    env = {
        **os.environ,
        # The benchmark makes (and drops) its own database named after this one.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }

    result = subprocess.run(
        [sys.executable, "bench/ingest.py", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=170
    )

    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith("{")]
    assert lines[:7] == [
        "feeds",
        "documents",
        "pass 1 (all new)",
        "pass 2 (all 304)",
        "pass 3 (1 feeds changed)",
        "fetch outcomes",
        "ceiling",
    ]
    assert "fetch outcomes: {'not_modified': 23, 'ok': 13}" in result.stdout
