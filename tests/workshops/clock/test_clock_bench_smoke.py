"""bench/clock.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(300)
def test_clock_benchmark_smoke_run():
    result = bench_smoke_run("bench/clock.py", timeout=290)
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
