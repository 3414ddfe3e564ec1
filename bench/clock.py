"""Clock benchmark: timesheet, approvals and the organization CSV export at scale.

1,000 members in 20 teams of 50 and 200,000 time entries over about ten
months, in a database of its own (``<DATABASE_URL's name>_bench_clock_<pid>``,
created and dropped here). Measures, through the real URL stack (Django test
client, middleware included):

- the weekly timesheet of one member (p50/p95 over repeated requests),
- a manager's approval page for a team of 50 (p50/p95),
- the whole-organization CSV export for one month (~20k rows) and for the whole
  period (~200k rows): time and peak Python memory while streaming
  (tracemalloc). Streaming means memory stays flat as rows grow 10x.

Targets: pages p95 < 100 ms; export peak memory flat (within 2x) from 20k to 200k rows.
``--smoke`` runs a tiny data set (used by the test suite; figures not asserted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database  # noqa: E402

TARGET_P95_MS = 100.0


def _populate(*, members: int, team_size: int, entries: int, days: int, seed: int = 7):
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from members.models import Member, Team, User
    from workshops.clock.models import ClockPolicy, TimeEntry

    rng = random.Random(seed)
    password = make_password("bench")
    today = dt.date.today()
    with transaction.atomic():
        ClockPolicy.objects.create(team=None, weekly_allowance_minutes=120, hourly_cost=Decimal("60.00"))
        users = User.objects.bulk_create(
            [User(email=f"person{i}@bench.example", password=password) for i in range(members)], batch_size=2000
        )
        teams = Team.objects.bulk_create([Team(name=f"Team {t}") for t in range(members // team_size)])
        people = Member.objects.bulk_create(
            [Member(user=u, display_name=f"Person {i}", team=teams[i // team_size]) for i, u in enumerate(users)],
            batch_size=2000,
        )
        for t, team in enumerate(teams):
            team.manager = users[t * team_size]
        Team.objects.bulk_update(teams, ["manager"])
    per_member = entries // members
    batch = []
    activities = ["seek", "sense", "share", "workshop", "mentoring"]
    for i, member in enumerate(people):
        team = teams[i // team_size]
        approver = users[(i // team_size) * team_size].email
        for n in range(per_member):
            day = today - dt.timedelta(days=(n * days) // per_member)
            recent = (today - day).days < 14
            status = "submitted" if recent else ("approved" if rng.random() < 0.9 else "rejected")
            batch.append(
                TimeEntry(
                    member=member,
                    team=team,
                    team_name=team.name,
                    date=day,
                    minutes=rng.choice([15, 20, 30, 45, 60, 90]),
                    activity=rng.choice(activities),
                    status=status,
                    approver_email="" if recent else approver,
                    note="Reading and notes",
                )
            )
            if len(batch) >= 10_000:
                TimeEntry.objects.bulk_create(batch)
                batch = []
    TimeEntry.objects.bulk_create(batch)
    return users, teams, people


def _timed(client, url: str, runs: int) -> tuple[float, float, int]:
    times = []
    status = 0
    client.get(url)  # warm up caches and connections
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return statistics.median(times), p95, status


def _export(client, query: str) -> tuple[int, float, float]:
    """(rows, seconds, peak MB) for streaming one CSV export to the end."""
    from django.urls import reverse

    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(reverse("workshops:clock_export_csv") + query)
    rows = -1
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows, seconds, peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    args = parser.parse_args()
    size = (
        {"members": 20, "team_size": 10, "entries": 2000, "days": 300}
        if args.smoke
        else {"members": 1000, "team_size": 50, "entries": 200_000, "days": 300}
    )
    runs = 3 if args.smoke else 40
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    with bench_database("clock", unique=True):
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        users, teams, _people = _populate(**size)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        print(
            f"data: {size['members']} members in {len(teams)} teams of {size['team_size']}, "
            f"{size['entries']} entries over {size['days']} days ({time.perf_counter() - started:.1f} s to insert)"
        )
        member_client = Client()
        member_client.force_login(users[1])
        # For context: a simple page of the same site on the same machine.
        b50, b95, status = _timed(member_client, reverse("transparency"), runs)
        print(
            f"baseline (transparency page): p50 {b50:.1f} ms, p95 {b95:.1f} ms over {runs} requests (status {status})"
        )
        p50, p95, status = _timed(member_client, reverse("workshops:clock"), runs)
        print(f"timesheet: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {runs} requests (status {status})")
        manager_client = Client()
        manager_client.force_login(users[0])
        p50a, p95a, status = _timed(manager_client, reverse("workshops:approvals"), runs)
        print(
            f"approvals (team of {size['team_size']}): p50 {p50a:.1f} ms, p95 {p95a:.1f} ms "
            f"over {runs} requests (status {status})"
        )
        admin = users[-1]
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
        admin_client = Client()
        admin_client.force_login(admin)
        today = dt.date.today()
        month_start = today - dt.timedelta(days=29)
        all_start = today - dt.timedelta(days=size["days"] + 1)
        small = _export(admin_client, f"?start={month_start}&end={today}")
        large = _export(admin_client, f"?start={all_start}&end={today}")
        for label, (rows, seconds, peak) in (("one month", small), ("whole period", large)):
            print(f"export {label}: {rows} rows in {seconds:.2f} s, peak Python memory {peak:.2f} MB (tracemalloc)")
        growth = large[2] / small[2] if small[2] else float("inf")
        print(f"export memory growth for {large[0] / max(small[0], 1):.1f}x rows: {growth:.2f}x")
        if not args.smoke:
            ok = p95 < TARGET_P95_MS and p95a < TARGET_P95_MS and growth < 2
            print("within targets" if ok else "OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
