"""bench/ingest.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(180)
def test_ingest_benchmark_smoke_run():
    result = bench_smoke_run("bench/ingest.py", timeout=170)
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
    assert all(" connections opened" in line for line in result.stdout.splitlines() if line.startswith("pass "))
    targets = [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith(("PASS ", "MISS "))]
    assert [target.split(" ", 1)[1] for target in targets] == [
        "first pass ≥ 1.4× ceiling",
        "304 pass ≥ 15× ceiling",
        "peak worker RSS < 250 MB",
    ]
