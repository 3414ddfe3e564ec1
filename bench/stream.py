"""Benchmark: the shared stream at 10,000, 100,000 and 1,000,000 entries.

200 members in 10 teams, 2,000 feeds (200 accounts, 1,800 shared sources),
entries generated in bulk with ``generate_series`` (so the search trigger and
indexes are real). Runs in a database of its own, created here and dropped at
the end (never the test or production database). Every request goes through
Django's full middleware stack with the test client signed in as a member:

- the floor: a trivial signed-in view that renders base.html only (added
  here, through a bench urlconf, never in the product);
- the first page, the 50th page by keyset, a team filter, the "unread
  only" view, a search for a common word and for a rare word.

Read state is included: the member has read every third of the newest
3,000 entries (read marks, as the reader stores them), so every page marks
its entries read or unread.

Each is requested 200 times, in turn with the others (one request of each per
round, so a machine whose speed drifts slows all alike); the figures are p50/p95 in ms, the ratio
of p50 to the floor's, and the queries per page. Targets (issue 22), each
with PASS/MISS: first and 50th page p50 within 3x the floor's and growing at
most 1.2x from 10k to 1M; both searches p95 within 3x the floor's p95; a
fixed number of queries per page.

    python bench/stream.py            # full size (several minutes)
    python bench/stream.py --smoke    # tiny, for the test suite (no targets)
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database, measure_in_turn, platform_slugs  # noqa: E402

TEAMS = 10
MEMBERS = 200
ACCOUNT_FEEDS = 200
FEEDS = 2000
COMMON_WORD = "learning"  # in about a third of the titles
RARE_WORD = "zephyrine"  # in one entry of 20,000
FLOOR_NAME = "bench_stream_floor"
READ_NEWEST = 3000
TARGET_FLOOR_RATIO = 3.0
TARGET_GROWTH = 1.2

# --- The bench urlconf: the product's URLs plus the floor view ---------------


def _floor(request):
    from django.shortcuts import render

    return render(request, "base.html")


def __getattr__(name: str):
    # Django imports this module as ROOT_URLCONF (settings are ready by then).
    if name == "urlpatterns":
        from django.urls import path

        from core import permissions as perm
        from plnorg.urls import urlpatterns as product

        if FLOOR_NAME not in perm.PERMISSIONS:
            perm.register({FLOOR_NAME: perm.Access(roles=perm.MEMBERS, text=" ")})
        return [path("bench/floor/", _floor, name=FLOOR_NAME), *product]
    raise AttributeError(name)


# --- Database ------------------------------------------------------------------


def _populate_people_and_feeds(*, members: int, teams: int, feeds: int, accounts: int) -> dict:
    import random

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from feeds.models import Feed, Subscription
    from members.models import Member, Team, User

    rng = random.Random(7)
    topics = ["data", "teaching", "design", "leadership", "devops", "research", "ux", "security"]
    with transaction.atomic():
        team_rows = Team.objects.bulk_create([Team(name=f"Bench team {i:02d}") for i in range(teams)])
        password = make_password(None)
        users = User.objects.bulk_create(
            [User(email=f"bench{i:05d}@bench.example.com", password=password) for i in range(members)]
        )
        member_rows = Member.objects.bulk_create(
            [
                Member(user=user, display_name=f"Bench Person {i:03d}", team=team_rows[i % teams])
                for i, user in enumerate(users)
            ]
        )
        slugs = platform_slugs()
        feed_rows = Feed.objects.bulk_create(
            [
                Feed(
                    url=f"https://bench{i}.example.net/feed.xml",
                    title=f"Bench feed {i}",
                    platform=slugs[i % len(slugs)],
                    is_demo=True,
                )
                for i in range(feeds)
            ]
        )
        subs = []
        for i, feed in enumerate(feed_rows[:accounts]):
            subs.append(
                Subscription(
                    member=member_rows[i % members],
                    feed=feed,
                    kind=Subscription.Kind.ACCOUNT,
                    is_shared=True,
                    topics=[topics[i % len(topics)]],
                )
            )
        for i, feed in enumerate(feed_rows[accounts:]):
            for member in rng.sample(member_rows, rng.choice((1, 1, 2, 3, 5))):
                subs.append(
                    Subscription(
                        member=member,
                        feed=feed,
                        kind=Subscription.Kind.SOURCE,
                        is_shared=rng.random() < 0.85,
                        topics=[topics[(i + 3) % len(topics)]],
                    )
                )
        Subscription.objects.bulk_create(subs, batch_size=5000)
    return {
        "member": member_rows[0],
        "team_id": team_rows[3].pk,
        "first_feed": feed_rows[0].pk,
        "feeds": feeds,
    }


ENTRY_SQL = """
INSERT INTO feeds_entry (feed_id, identity, title, link, author, published_at, summary, content,
    enclosure_url, enclosure_type, image_url, content_hash, first_seen_at, updated_at, hidden_reason)
SELECT
    %(first_feed)s + (g::bigint * 7919) %% %(feeds)s,
    'urn:bench:' || g,
    (ARRAY['Notes on', 'Thoughts about', 'A week of', 'Why we changed', 'Field guide to',
           'Lessons from', 'Reading list:', 'How I approach'])[1 + g %% 8]
      || ' ' || (ARRAY['learning', 'teaching', 'networks', 'databases', 'design systems', 'learning in public',
                       'incident reviews', 'onboarding', 'feedback', 'learning paths', 'mentoring', 'search'])[1 + (g / 8) %% 12]
      || CASE WHEN g %% 20000 = 17 THEN ' zephyrine' ELSE '' END
      || ' #' || g,
    'https://bench.example.net/posts/' || g,
    'Bench Author',
    now() - ((g::bigint * 2654435761) %% 63072000) * interval '1 second',
    '<p>' || (ARRAY['A short summary about colleagues and practice.',
                    'What the team found while trying something new.',
                    'Links and notes from the conference, with a few surprises.',
                    'Small experiments, honest results, and what comes next.'])[1 + g %% 4] || '</p>',
    '<p>Longer content for entry ' || g || ': we tried, we measured, we wrote it down. '
      || (ARRAY['Pairing helped more than documents did.', 'Observability matters before scale.',
                'People learn from people they trust.', 'Write things down, then share them.'])[1 + g %% 4]
      || '</p>',
    '', '', '', md5(g::text), now(), now(), ''
FROM generate_series(%(start)s, %(stop)s) AS g
"""


def _insert_entries(*, start: int, stop: int, data: dict) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(ENTRY_SQL, {**data, "start": start, "stop": stop})
        # Fresh statistics for every table (autovacuum would get there later).
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def _mark_read(*, member_id: int) -> None:
    """Every third of the newest entries read by the member (again after
    each insert, as the newest entries change)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reader_readmark (member_id, entry_id, is_read, marked_at)
            SELECT %(member)s, id, true, now()
            FROM (SELECT id, row_number() OVER (ORDER BY published_at DESC, id DESC) AS n
                  FROM feeds_entry ORDER BY published_at DESC, id DESC LIMIT %(newest)s) newest
            WHERE n %% 3 = 0
            ON CONFLICT DO NOTHING
            """,
            {"member": member_id, "newest": READ_NEWEST},
        )
        cursor.execute("ANALYZE reader_readmark")


# --- Measuring ---------------------------------------------------------------


def _check(client, url: str, *, expect: str) -> dict:
    """One request of ``url`` checked (status, expected text), its queries
    counted, then warmed up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    body = response.content.decode()
    query_count = len(queries.captured_queries)  # now: the next request resets the log
    if response.status_code != 200 or expect not in body:
        raise SystemExit(f"{url}: status {response.status_code}, {expect!r} {'found' if expect in body else 'missing'}")
    for _ in range(3):  # warm-up
        client.get(url)
    return {"queries": query_count, "articles": body.count("<article")}


def _cursor_of_page(*, page: int) -> str | None:
    from feeds.stream import StreamFilters, stream_page

    cursor = None
    for _ in range(page - 1):
        cursor = stream_page(StreamFilters(), cursor=cursor).next_cursor
        if cursor is None:
            return None
    return cursor


def _run_size(client, *, size: int, requests: int, data: dict) -> dict:
    from django.core.cache import cache
    from django.urls import reverse

    cache.clear()
    stream = reverse("feeds:stream")
    cursor = _cursor_of_page(page=50)
    cases = [
        ("floor (base.html)", reverse(FLOOR_NAME), "</main>"),
        ("first page", stream, "<article"),
        ("50th page (keyset)", f"{stream}?cursor={cursor}" if cursor else None, "<article"),
        ("team filter", f"{stream}?team={data['team_id']}", "<article"),
        ("unread only", f"{stream}?unread=1", "<article"),
        (f"search common ({COMMON_WORD})", f"{stream}?q={COMMON_WORD}", "<mark>"),
        (f"search rare ({RARE_WORD})", f"{stream}?q={RARE_WORD}", "<article"),
        (f"relevance common ({COMMON_WORD})", f"{stream}?q={COMMON_WORD}&order=relevance", "<mark>"),
    ]
    cases = [(label, url, expect) for label, url, expect in cases if url is not None]
    checked = {label: _check(client, url, expect=expect) for label, url, expect in cases}
    # Timed in turn (one request of each per round), so a drifting machine slows all alike.
    timed = measure_in_turn(
        {label: functools.partial(client.get, url) for label, url, _expect in cases}, rounds=requests
    )
    results = {label: {**timed[label], **checked[label]} for label in checked}
    floor = results["floor (base.html)"]["p50"]
    print(f"\n{size:,} entries")
    print(f"  {'request':<34} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8} {'queries':>8} {'articles':>9}")
    for label, r in results.items():
        print(
            f"  {label:<34} {r['p50']:8.1f} {r['p95']:8.1f} {r['p50'] / floor:8.2f} {r['queries']:8d} {r['articles']:9d}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    args = parser.parse_args()
    if args.smoke:
        people = {"members": 12, "teams": 4, "feeds": 40, "accounts": 8}
        sizes, requests = [2600, 3000], 3
    else:
        people = {"members": MEMBERS, "teams": TEAMS, "feeds": FEEDS, "accounts": ACCOUNT_FEEDS}
        sizes, requests = [10_000, 100_000, 1_000_000], 200
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    # Its own cache keys: the benchmark clears them, and must not share the
    # cached stream filter choices with a test run on the same Redis.
    with bench_database("stream", unique=args.smoke) as name:
        os.environ["CACHE_KEY_PREFIX"] = f"plnorg-{name}"
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        settings.ROOT_URLCONF = "bench.stream"
        settings.MFA_REQUIRED_FOR_PRIVILEGED = False
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        data = _populate_people_and_feeds(**people)
        print(
            f"data: {people['members']} members in {people['teams']} teams, {people['feeds']} feeds "
            f"({people['accounts']} accounts), {time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(data["member"].user)
        all_results = {}
        done = 0
        for size in sizes:
            seconds = _insert_entries(start=done + 1, stop=size, data=data)
            print(f"inserted entries {done + 1:,}..{size:,} in {seconds:.1f} s (generate_series, trigger, indexes)")
            done = size
            _mark_read(member_id=data["member"].pk)
            all_results[size] = _run_size(client, size=size, requests=requests, data=data)
        if not args.smoke:
            _verdict(all_results)
    return 0


def _verdict(results: dict) -> None:
    small, big = results[min(results)], results[max(results)]
    floor = big["floor (base.html)"]["p50"]
    print("\ntargets at the largest size:")
    for label in ("first page", "50th page (keyset)"):
        ratio = big[label]["p50"] / floor
        growth = big[label]["p50"] / small[label]["p50"]
        print(
            f"  {label}: {ratio:.2f}x floor ({_verdict_word(ratio <= TARGET_FLOOR_RATIO)}, target <= 3x); "
            f"{growth:.2f}x from {min(results):,} ({_verdict_word(growth <= TARGET_GROWTH)}, target <= 1.2x)"
        )
    floor_p95 = big["floor (base.html)"]["p95"]
    for label in big:
        if label.startswith("search"):
            ratio = big[label]["p95"] / floor_p95
            print(
                f"  {label}: p95 {big[label]['p95']:.1f} ms, {ratio:.2f}x the floor's "
                f"({_verdict_word(ratio <= TARGET_FLOOR_RATIO)}, target <= 3x)"
            )
    # The floor is left out: the run's very first request also makes the
    # one-time rows and cache entries (3 more queries at the first size only).
    counts = {
        label: {r[label]["queries"] for r in results.values() if label in r}
        for label in big
        if label != "floor (base.html)"
    }
    fixed = all(len(v) == 1 for v in counts.values())
    print(f"  queries per page the same at every size: {_verdict_word(fixed)}")


def _verdict_word(ok: bool) -> str:
    return "PASS" if ok else "MISS"


if __name__ == "__main__":
    sys.exit(main())
