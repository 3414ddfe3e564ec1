"""bench/reader.py --smoke runs end to end (figures are printed, not asserted)."""

import pytest

from tests.bench_smoke import bench_smoke_run


@pytest.mark.timeout(300)
def test_reader_benchmark_smoke_run():
    result = bench_smoke_run("bench/reader.py", timeout=290)
    rows = [
        line.split("  ")[1].strip() for line in result.stdout.splitlines() if line.startswith("  ") and "  " in line[2:]
    ]
    labels = [row for row in rows if not row.startswith("request")]
    assert labels == [
        "floor (base.html)",
        "web stream, first page",
        "contents n=100",
        "contents n=100, unread only",
        "contents n=100, new member",
        "contents n=100, unread, new member",
        "unread-count",
        "unread-count, new member",
        "fever unread_item_ids",
    ]
    assert "read state: 25 markers" in result.stdout
