"""bench/pages.py --smoke runs end to end and prints a line for every page of
the load mix (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(300)
def test_pages_benchmark_smoke_run():
    result = bench_smoke_run("bench/pages.py", timeout=290)
    rows = [line[2:24].strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert rows == [
        "page",
        "floor (base.html)",
        "stream",
        "stream team filter",
        "search (learning)",
        "entry",
        "home",
        "my pln",
        "network",
        "workshops",
        "workshop detail",
        "clock",
        "approvals",
        "dashboard",
    ]
