"""bench/stream.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(300)
def test_stream_benchmark_smoke_run():
    result = bench_smoke_run("bench/stream.py", timeout=290)
    rows = [
        line.split("  ")[1].strip() for line in result.stdout.splitlines() if line.startswith("  ") and "  " in line[2:]
    ]
    labels = [row for row in rows if not row.startswith("request")]
    assert labels[:8] == [
        "floor (base.html)",
        "first page",
        "50th page (keyset)",
        "team filter",
        "unread only",
        "search common (learning)",
        "search rare (zephyrine)",
        "relevance common (learning)",
    ]
    first_page = next(line for line in result.stdout.splitlines() if line.strip().startswith("first page"))
    assert first_page.split()[-1] == "50"  # articles on the page
