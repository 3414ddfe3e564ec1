"""Benchmark: the leaders' dashboard at organization scale.

1,000 members in 25 teams, 5,000 feeds (1,000 accounts, 4,000 sources
followed by 1 to 5 members each), 1,000,000 entries over two years, 200,000
time entries and 500 past workshops with registrations, attendance and
feedback, in a database of its own (``<DATABASE_URL's name>_bench_dashboard``,
created and dropped here; never the test or production database).

Prints, with a floor measured in the same run (a trivial signed-in page that
renders base.html only, as in bench/stream.py):

- the snapshot task (``plnorg.refresh_dashboard``: three periods) duration;
- the dashboard page p50/p95 with snapshots present and an empty cache
  (cold: the cache is cleared before every request) and with a warm cache.

Targets (issue 11): snapshot task under 60 s; page p95 under 300 ms cold and
under 100 ms warm.

    python bench/dashboard.py            # full size (several minutes)
    python bench/dashboard.py --smoke    # tiny, for the test suite (no targets)
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database, percentile, platform_slugs  # noqa: E402
from bench.stream import ENTRY_SQL, FLOOR_NAME  # noqa: E402

TARGET_TASK_S = 60.0
TARGET_COLD_P95_MS = 300.0
TARGET_WARM_P95_MS = 100.0
FULL = {"members": 1000, "teams": 25, "feeds": 5000, "accounts": 1000, "entries": 1_000_000,
        "time_entries": 200_000, "workshops": 500}  # fmt: skip
SMOKE = {"members": 30, "teams": 3, "feeds": 60, "accounts": 20, "entries": 3000, "time_entries": 600, "workshops": 6}


# --- Data ------------------------------------------------------------------------------


def _populate_people(*, members: int, teams: int, rng: random.Random):
    """Members joined over the last 18 months; a manager per team; one leader."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from members.models import Member, Team, User
    from members.services import role_grant

    now = timezone.now()
    password = make_password(None)
    with transaction.atomic():
        team_rows = Team.objects.bulk_create([Team(name=f"Team {i:02d}") for i in range(teams)])
        users = User.objects.bulk_create(
            [User(email=f"person{i:04d}@dashboard.example", password=password) for i in range(members)]
        )
        people = Member.objects.bulk_create(
            [Member(user=u, display_name=f"Person {i:04d}", team=team_rows[i % teams]) for i, u in enumerate(users)]
        )
        # created_at is auto_now_add: spread the join dates afterwards.
        for person in people:
            person.created_at = now - timedelta(days=rng.randrange(30, 540))
        Member.objects.bulk_update(people, ["created_at"], batch_size=2000)
        for i, team in enumerate(team_rows):
            team.manager = users[i]
        Team.objects.bulk_update(team_rows, ["manager"])
        leader = users[-1]
        role_grant(user=leader, group_name="Leaders")
    return people, leader


def _populate_feeds(*, people, feeds: int, accounts: int, rng: random.Random) -> dict:
    """Accounts owned by one member each; sources followed by 1 to 5 members,
    85% of them shared; the members who take part (about 70%) added them over
    the last year."""
    from django.db import transaction
    from django.utils import timezone

    from feeds.models import Feed, Subscription

    now = timezone.now()
    taking_part = [p for p in people if rng.random() < 0.7]
    slugs = platform_slugs()
    with transaction.atomic():
        feed_rows = Feed.objects.bulk_create(
            [
                Feed(
                    url=f"https://site{i % 900}.example.net/feed{i}.xml",
                    site_url=f"https://site{i % 900}.example.net/",
                    title=f"Feed {i}",
                    platform=slugs[i % len(slugs)],
                    is_demo=True,
                    error_count=1 if i % 97 == 0 else 0,
                )
                for i in range(feeds)
            ],
            batch_size=2000,
        )
        subs = []
        for i, feed in enumerate(feed_rows[:accounts]):
            owner = taking_part[i % len(taking_part)]
            subs.append(
                Subscription(
                    member=owner,
                    feed=feed,
                    kind=Subscription.Kind.ACCOUNT,
                    is_shared=rng.random() < 0.9,
                    added_at=now - timedelta(days=rng.randrange(0, 365)),
                )
            )
        for feed in feed_rows[accounts:]:
            for person in rng.sample(taking_part, rng.choice((1, 1, 1, 2, 3, 5))):
                subs.append(
                    Subscription(
                        member=person,
                        feed=feed,
                        kind=Subscription.Kind.SOURCE,
                        is_shared=rng.random() < 0.85,
                        added_at=now - timedelta(days=rng.randrange(0, 365)),
                    )
                )
        Subscription.objects.bulk_create(subs, batch_size=5000)
    return {"first_feed": feed_rows[0].pk, "feeds": feeds, "subscriptions": len(subs)}


TIME_SQL = """
INSERT INTO workshops_timeentry (member_id, member_label, team_id, team_name, date, minutes, activity,
    source, stream_title, stream_link, note, status, rejection_reason, flag_over_allowance,
    flag_overlap, flag_timer_capped, version, approver_email, created_at, updated_at)
SELECT m.id, '', m.team_id, '', current_date - (g %% 365), 15 + (g %% 6) * 15,
       (ARRAY['seek','sense','share','workshop','mentoring'])[1 + g %% 5], 'manual', '', '', 'bench',
       (ARRAY['approved','approved','approved','submitted','rejected'])[1 + (g / 7) %% 5], '', false, false, false,
       1, '', now(), now()
FROM generate_series(1, %(n)s) g
JOIN LATERAL (SELECT id, team_id FROM members_member WHERE id = (%(ids)s::int[])[1 + (g * 31) %% %(count)s]) m ON true
"""


def _populate_time(*, people, time_entries: int) -> None:
    from decimal import Decimal

    from django.db import connection

    from workshops.clock.models import ClockPolicy

    ClockPolicy.objects.create(team=None, weekly_allowance_minutes=120, hourly_cost=Decimal("60.00"))
    ids = [p.pk for p in people]
    with connection.cursor() as cursor:
        cursor.execute(TIME_SQL, {"n": time_entries, "ids": ids, "count": len(ids)})


def _populate_workshops(*, people, workshops: int, rng: random.Random) -> dict:
    """Past workshops over the last year, one session each, about 20 seats
    taken, attendance marked and half the attendees answering feedback."""
    from django.db import transaction
    from django.utils import timezone

    from workshops.models import Attendance, Feedback, Registration, Workshop, WorkshopSession

    now = timezone.now()
    with transaction.atomic():
        rows = Workshop.objects.bulk_create(
            [
                Workshop(title=f"Workshop {i}", description="Bench.", capacity=24, status=Workshop.Status.PUBLISHED)
                for i in range(workshops)
            ]
        )
        sessions = WorkshopSession.objects.bulk_create(
            [
                WorkshopSession(
                    workshop=w,
                    starts_at=now - timedelta(days=1 + (i * 365) // workshops, hours=2),
                    ends_at=now - timedelta(days=1 + (i * 365) // workshops),
                    time_zone="UTC",
                    room="Room B",
                )
                for i, w in enumerate(rows)
            ]
        )
        attendees = rng.sample(people, len(people) // 3)  # the rest never attend: the effect's comparison
        registrations = Registration.objects.bulk_create(
            [
                Registration(workshop=w, member=m, status=Registration.Status.ATTENDED)
                for w in rows
                for m in rng.sample(attendees, min(20, len(attendees)))
            ],
            batch_size=5000,
        )
        by_workshop = {s.workshop_id: s for s in sessions}
        marks = [
            Attendance(
                registration=r,
                session=by_workshop[r.workshop_id],
                status=rng.choice([Attendance.Status.ATTENDED] * 8 + [Attendance.Status.NO_SHOW]),
                minutes=120,
            )
            for r in registrations
        ]
        Attendance.objects.bulk_create(marks, batch_size=5000)
        answers = [
            Feedback(registration=r, rating=rng.choice([3, 4, 4, 5, 5]), created_at=by_workshop[r.workshop_id].ends_at)
            for r in registrations[::2]
        ]
        Feedback.objects.bulk_create(answers, batch_size=5000)
    return {"registrations": len(registrations), "answers": len(answers)}


# --- Measuring ------------------------------------------------------------------------


def _timings(client, url: str, *, requests: int, expect: str, clear_cache: bool) -> dict:
    from django.core.cache import cache

    response = client.get(url)
    body = response.content.decode()
    if response.status_code != 200 or expect not in body:
        raise SystemExit(f"{url}: status {response.status_code}, {expect!r} {'found' if expect in body else 'missing'}")
    for _ in range(3):  # warm-up: connections, templates, and (unless cleared) the cache
        client.get(url)
    values = []
    for _ in range(requests):
        if clear_cache:
            cache.clear()
        started = time.perf_counter()
        client.get(url)
        values.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(values), "p95": percentile(values, 0.95), "n": requests}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    args = parser.parse_args()
    size = SMOKE if args.smoke else FULL
    requests = 3 if args.smoke else 100
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    with bench_database("dashboard", unique=args.smoke) as name:
        os.environ["CACHE_KEY_PREFIX"] = f"plnorg-{name}"  # it clears its cache: never another run's keys
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from plnorg.dashboard.models import DashboardSnapshot
        from plnorg.dashboard.tasks import refresh_dashboard

        settings.ROOT_URLCONF = "bench.stream"  # the product's URLs plus the floor view
        settings.MFA_REQUIRED_FOR_PRIVILEGED = False
        call_command("migrate", verbosity=0)
        rng = random.Random(11)
        started = time.perf_counter()
        people, leader = _populate_people(members=size["members"], teams=size["teams"], rng=rng)
        feeds = _populate_feeds(people=people, feeds=size["feeds"], accounts=size["accounts"], rng=rng)
        with connection.cursor() as cursor:
            cursor.execute(ENTRY_SQL, {**feeds, "start": 1, "stop": size["entries"]})
        _populate_time(people=people, time_entries=size["time_entries"])
        shop = _populate_workshops(people=people, workshops=size["workshops"], rng=rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics (autovacuum would get there later)
        print(
            f"data: {size['members']:,} members in {size['teams']} teams, {size['feeds']:,} feeds "
            f"({feeds['subscriptions']:,} subscriptions), {size['entries']:,} entries, "
            f"{size['time_entries']:,} time entries, {size['workshops']} workshops "
            f"({shop['registrations']:,} registrations, {shop['answers']:,} feedback answers); "
            f"{time.perf_counter() - started:.1f} s to insert"
        )

        started = time.perf_counter()
        refresh_dashboard.apply(throw=True)  # the Celery task's own code, run here
        task_s = time.perf_counter() - started
        periods = ", ".join(f"{s.period} {s.duration_ms / 1000:.1f} s" for s in DashboardSnapshot.objects.all())
        print(f"snapshot task (3 periods): {task_s:.1f} s ({periods})")

        leader_client = Client()
        leader_client.force_login(leader)
        dashboard = reverse("dashboard")
        floor = _timings(leader_client, reverse(FLOOR_NAME), requests=requests, expect="</main>", clear_cache=False)
        cold = _timings(leader_client, dashboard, requests=requests, expect="<svg", clear_cache=True)
        warm = _timings(leader_client, dashboard, requests=requests, expect="<svg", clear_cache=False)
        for label, r in (
            ("floor (base.html)", floor),
            ("dashboard, cold cache", cold),
            ("dashboard, warm cache", warm),
        ):
            print(
                f"{label}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms over {r['n']} requests "
                f"({r['p50'] / floor['p50']:.2f}x floor)"
            )
        if not args.smoke:
            print("targets:")
            for label, value, target, unit in (
                ("snapshot task", task_s, TARGET_TASK_S, "s"),
                ("page p95 cold", cold["p95"], TARGET_COLD_P95_MS, "ms"),
                ("page p95 warm", warm["p95"], TARGET_WARM_P95_MS, "ms"),
            ):
                print(
                    f"  {label}: {value:.1f} {unit} ({'ok' if value < target else 'MISS'}, target < {target:g} {unit})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
