"""bench/websub.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(180)
def test_websub_benchmark_smoke_run():
    result = bench_smoke_run("bench/websub.py", timeout=170)

    lines = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith("{")]
    assert lines == [
        "websub",
        "subscribed",
        "publish → in the stream",
        "callback answer (202, push stored for the worker)",
        "entries",
        "polling baseline",
        "push ÷ polling",
        "machine load average (1, 5, 15 min)",
    ]
    assert "websub: 2 feeds on a local hub, 6 publishes, 2 worker processes" in result.stdout
    assert "entries: 8 stored for 8 posts (6 by push); polling every feed again added 0" in result.stdout
    assert "the scheduler's minimum interval is 900 s" in result.stdout
