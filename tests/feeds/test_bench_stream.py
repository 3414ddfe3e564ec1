"""bench/stream.py --smoke runs end to end (figures are printed, not asserted)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_stream_benchmark_smoke_run():
    db = connection.settings_dict
    env = {
        **os.environ,
        # The benchmark makes (and drops) its own database named after this one.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }

    result = subprocess.run(
        [sys.executable, "bench/stream.py", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=290
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        line.split("  ")[1].strip() for line in result.stdout.splitlines() if line.startswith("  ") and "  " in line[2:]
    ]
    labels = [row for row in rows if not row.startswith("request")]
    assert labels[:7] == [
        "floor (base.html)",
        "first page",
        "50th page (keyset)",
        "team filter",
        "search common (learning)",
        "search rare (zephyrine)",
        "relevance common (learning)",
    ]
    first_page = next(line for line in result.stdout.splitlines() if line.strip().startswith("first page"))
    assert first_page.split()[-1] == "50"  # articles on the page
