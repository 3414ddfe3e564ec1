"""bench/dashboard.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(300)
def test_dashboard_benchmark_smoke_run():
    result = bench_smoke_run("bench/dashboard.py", timeout=290)
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
