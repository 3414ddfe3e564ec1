"""bench/clock.py --smoke runs end to end (figures are printed, not asserted)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_clock_benchmark_smoke_run():
    db = connection.settings_dict
    env = {
        **os.environ,
        # The benchmark makes (and drops) its own database named after this one.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }

    result = subprocess.run(
        [sys.executable, "bench/clock.py", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=290
    )

    assert result.returncode == 0, result.stderr[-3000:]
    labels = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert labels == [
        "data",
        "baseline (transparency page)",
        "timesheet",
        "approvals (team of 10)",
        "export one month",
        "export whole period",
        "export memory growth for 10.0x rows",
    ]
