"""bench/dashboard.py --smoke runs end to end (figures are printed, not asserted)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_dashboard_benchmark_smoke_run():
    db = connection.settings_dict
    env = {
        **os.environ,
        # The benchmark makes (and drops) its own database named after this one.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }

    result = subprocess.run(
        [sys.executable, "bench/dashboard.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=290,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "data",
        "snapshot task (3 periods)",
        "floor (base.html)",
        "dashboard, cold cache",
        "dashboard, warm cache",
    ]
    assert lines[0].startswith("data: 30 members in 3 teams, 60 feeds")
    assert "3,000 entries, 600 time entries, 6 workshops (60 registrations, 30 feedback answers)" in lines[0]
    assert "(4w " in lines[1] and "quarter " in lines[1] and "year " in lines[1]
