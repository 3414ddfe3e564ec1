"""Benchmark: the reading APIs at 1,000,000 entries and 1,000 members.

The same organization as bench/stream.py (its data builders, 2,000 feeds in
10 teams), with 1,000 members, every one with read state: 900 have a marker
somewhere in the last weeks (up to 25,000 entries behind), 20 read
exceptions above it and 3 entries kept unread below it; 100 have never read
anything, so the whole unread window (READER_UNREAD_DAYS) is unread for them
(about 41,000 entries at this size: the worst case for counting).

Measured in the same run, through Django's full middleware stack (the test
client), each at least 200 times:

- the floor (base.html) and the web stream's first page, as a member;
- Google Reader ``stream/contents`` of 100 items of the reading list, and of
  its unread items only (``xt=…/read``), for a reader with read state and a
  new one;
- ``unread-count`` (per feed, per label and in total) for both;
- Fever ``unread_item_ids`` for the reader with read state.

Target (issue 19): ``stream/contents`` of 100 items and ``unread-count``
within 3x the web stream's first page (p50).

    python bench/reader.py            # full size (several minutes)
    python bench/reader.py --smoke    # tiny, for the test suite (no targets)
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database, percentile  # noqa: E402

TARGET_RATIO = 3.0
MEMBERS = 1000
FRESH_MEMBERS = 100

READ_STATE_SQL = """
INSERT INTO reader_readmarker (member_id, read_through_id, updated_at)
SELECT m.id, GREATEST(0, %(newest)s - ((m.id * 7919) %% %(spread)s)), now()
FROM members_member m WHERE m.id > %(first_fresh)s;

INSERT INTO reader_readmark (member_id, entry_id, is_read, marked_at)
SELECT k.member_id, k.read_through_id + g * 37, true, now()
FROM reader_readmarker k, generate_series(1, 20) AS g
WHERE k.read_through_id + g * 37 <= %(newest)s
ON CONFLICT DO NOTHING;

INSERT INTO reader_readmark (member_id, entry_id, is_read, marked_at)
SELECT k.member_id, k.read_through_id - g * 101, false, now()
FROM reader_readmarker k, generate_series(1, 3) AS g
WHERE k.read_through_id - g * 101 > 0
ON CONFLICT DO NOTHING;

ANALYZE reader_readmarker;
ANALYZE reader_readmark;
"""


def _read_state(*, newest: int, spread: int, first_fresh: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(READ_STATE_SQL, {"newest": newest, "spread": spread, "first_fresh": first_fresh})
    return time.perf_counter() - started


def _vacuum() -> float:
    """Mark the freshly inserted pages all-visible, as autovacuum does after
    a table has grown by a fifth: index-only scans (the unread counts' covering
    index, reader_entry_window_idx) rely on it. The web stream is measured
    on the same table."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) feeds_entry")
    return time.perf_counter() - started


def _measure(call, *, requests: int, expect: bytes) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = call()
    if response.status_code != 200 or expect not in response.content:
        raise SystemExit(f"status {response.status_code}, {expect!r} missing: {response.content[:300]!r}")
    query_count = len(queries.captured_queries)
    for _ in range(3):  # warm-up
        call()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(timings), "p95": percentile(timings, 0.95), "queries": query_count}


def _greader(member) -> dict[str, str]:
    from django.test import Client

    from feeds.reader.services.app_passwords import app_password_create

    made = app_password_create(member=member, name="bench")
    response = Client().post("/api/greader/accounts/ClientLogin", {"Email": member.user.email, "Passwd": made.password})
    auth = response.content.decode().split("Auth=")[1].strip()
    return {"headers": {"Authorization": f"GoogleLogin auth={auth}"}, "password": made.password}


def _cases(*, web, member, fresh) -> list[tuple[str, object, bytes]]:
    import hashlib
    from urllib.parse import urlencode

    from django.test import Client
    from django.urls import reverse

    from bench.stream import FLOOR_NAME

    reading = "/api/greader/reader/api/0/stream/contents/user/-/state/com.google/reading-list"
    api = Client()
    mine, new = _greader(member), _greader(fresh)
    fever_key = hashlib.md5(f"{member.user.email}:{mine['password']}".encode()).hexdigest()
    unread = {"n": 100, "xt": "user/-/state/com.google/read"}

    def get(url: str, who: dict, params: dict | None = None):
        query = "?" + urlencode(params) if params else ""
        return lambda: api.get(url + query, headers=who["headers"])

    return [
        ("floor (base.html)", lambda: web.get(reverse(FLOOR_NAME)), b"</main>"),
        ("web stream, first page", lambda: web.get(reverse("feeds:stream")), b"<article"),
        ("contents n=100", get(reading, mine, {"n": 100}), b'"items":[{'),
        ("contents n=100, unread only", get(reading, mine, unread), b'"items":[{'),
        ("contents n=100, new member", get(reading, new, {"n": 100}), b'"items":[{'),
        ("contents n=100, unread, new member", get(reading, new, unread), b'"items":[{'),
        ("unread-count", get("/api/greader/reader/api/0/unread-count", mine, {"output": "json"}), b'"max":'),
        ("unread-count, new member", get("/api/greader/reader/api/0/unread-count", new, {"output": "json"}), b'"max":'),
        (
            "fever unread_item_ids",
            lambda: api.post(
                "/api/fever/?api&unread_item_ids",
                urlencode({"api_key": fever_key}),
                content_type="application/x-www-form-urlencoded",
            ),
            b'"unread_item_ids":"',
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    args = parser.parse_args()
    if args.smoke:
        people = {"members": 30, "teams": 4, "feeds": 40, "accounts": 8}
        size, requests, fresh_members, spread = 3000, 3, 5, 500
    else:
        people = {"members": MEMBERS, "teams": 10, "feeds": 2000, "accounts": 200}
        size, requests, fresh_members, spread = 1_000_000, 200, FRESH_MEMBERS, 25_000
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    with bench_database("reader", unique=args.smoke) as name:
        os.environ["CACHE_KEY_PREFIX"] = f"plnorg-{name}"
        import django

        django.setup()
        from django.conf import settings
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db.models import Max, Min
        from django.test import Client

        from bench.stream import _insert_entries, _populate_people_and_feeds
        from feeds.models import Entry
        from members.models import Member

        settings.ROOT_URLCONF = "bench.stream"  # the product's URLs plus the floor view
        settings.MFA_REQUIRED_FOR_PRIVILEGED = False
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        data = _populate_people_and_feeds(**people)
        print(
            f"data: {people['members']} members in {people['teams']} teams, {people['feeds']} feeds "
            f"({people['accounts']} accounts), {time.perf_counter() - started:.1f} s"
        )
        seconds = _insert_entries(start=1, stop=size, data=data)
        print(f"inserted {size:,} entries in {seconds:.1f} s (generate_series, trigger, indexes)")
        seconds = _vacuum()
        print(f"VACUUM (ANALYZE) feeds_entry in {seconds:.1f} s (what autovacuum does to a table that grew)")
        ids = Member.objects.aggregate(first=Min("pk"))
        first_fresh = ids["first"] + fresh_members - 1
        newest = Entry.objects.aggregate(newest=Max("pk"))["newest"]
        seconds = _read_state(newest=newest, spread=spread, first_fresh=first_fresh)
        from feeds.reader.models import ReadMark, ReadMarker

        print(
            f"read state: {ReadMarker.objects.count():,} markers, {ReadMark.objects.count():,} exceptions "
            f"({people['members'] - ReadMarker.objects.count()} members never read), {seconds:.1f} s"
        )
        member = Member.objects.select_related("user").filter(pk__gt=first_fresh).order_by("pk").first()
        fresh = Member.objects.select_related("user").get(pk=ids["first"])
        web = Client()
        web.force_login(member.user)
        cache.clear()
        results = {}
        for label, call, expect in _cases(web=web, member=member, fresh=fresh):
            results[label] = _measure(call, requests=requests, expect=expect)
        _print(results, size=size)
        if not args.smoke:
            _verdict(results)
    return 0


def _print(results: dict, *, size: int) -> None:
    base = results["web stream, first page"]["p50"]
    print(f"\n{size:,} entries")
    print(f"  {'request':<36} {'p50 ms':>8} {'p95 ms':>8} {'x page':>8} {'queries':>8}")
    for label, r in results.items():
        print(f"  {label:<36} {r['p50']:8.1f} {r['p95']:8.1f} {r['p50'] / base:8.2f} {r['queries']:8d}")


def _verdict(results: dict) -> None:
    base = results["web stream, first page"]["p50"]
    print("\ntargets (p50 within 3x the web stream's first page):")
    for label, r in results.items():
        if label.startswith(("contents", "unread-count")):
            ratio = r["p50"] / base
            print(f"  {label}: {ratio:.2f}x ({'ok' if ratio <= TARGET_RATIO else 'MISS'})")


if __name__ == "__main__":
    sys.exit(main())
