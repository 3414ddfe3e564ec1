"""Benchmark: every page of the load mix (bench/load.py) against the bare page.

Builds the bench/scale.py dataset (the one `make load` uses, at its default
sizes) in a database of its own, created here and dropped at the end (never
the test or production database). Each page is requested in-process through
Django's full middleware stack with the test client, signed in with the role
the mix requests it for (an employee, a team manager for approvals, a leader
for the dashboard). The floor is bench/stream.py's: a trivial signed-in view
that renders base.html only, measured in the same run so ratios compare.

The pages are measured in turn, one request of each per round, so a machine
whose speed drifts during the run slows them alike. Per page: p50/p95 in ms,
the ratio of p50 to the floor's, SQL queries, CPU ms
of this process (the database's own CPU is not in it), response KiB, and a
PASS/MISS against the issue-22 target of at most 3x the floor. The mix's two
POSTs (register, log time) are actions, not pages, and are left out.

    python bench/pages.py                  # load-mix sizes (a few minutes)
    python bench/pages.py --smoke          # tiny, for the test suite (no verdict)
    python bench/pages.py --profile search # pyinstrument text profile of one page
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database, measure_in_turn  # noqa: E402

TARGET_FLOOR_RATIO = 3.0
FLOOR = "floor (base.html)"
SIZES = {"members": 500, "entries": 100_000, "workshops": 50, "time_entries": 50_000}
SMOKE_SIZES = {"members": 30, "entries": 2_000, "workshops": 5, "time_entries": 500}
SEARCH_WORD = "learning"


@dataclass
class Page:
    label: str
    role: str
    url: str
    expect: str


def _pages(world) -> list[Page]:
    """The load mix's GET pages (bench/scale.py mix_action), plus the floor."""
    from django.urls import reverse

    from bench.stream import FLOOR_NAME
    from members.models import Member

    team_id = Member.objects.get(pk=_employee_id(world)).team_id
    stream = reverse("feeds:stream")
    return [
        Page(FLOOR, "employee", reverse(FLOOR_NAME), "</main>"),
        Page("stream", "employee", stream, "<article"),
        Page("stream team filter", "employee", f"{stream}?team={team_id}", "<article"),
        Page(f"search ({SEARCH_WORD})", "employee", f"{stream}?q={SEARCH_WORD}", "<mark>"),
        Page("entry", "employee", reverse("feeds:entry", args=[world.entry_ids[0]]), "</main>"),
        Page("home", "employee", reverse("home"), "</main>"),
        Page("my pln", "employee", reverse("feeds:my_pln"), "</main>"),
        Page("network", "employee", reverse("feeds:network"), "</main>"),
        Page("workshops", "employee", reverse("workshops:list"), "Load workshop"),
        Page("workshop detail", "employee", reverse("workshops:detail", args=[world.workshop_ids[0]]), "</main>"),
        Page("clock", "employee", reverse("workshops:clock"), "</main>"),
        Page("approvals", "manager", reverse("workshops:approvals"), "</main>"),
        Page("dashboard", "leader", reverse("dashboard"), "</main>"),
    ]


def _employee_id(world) -> int:
    return next(i for i in world.member_ids if i not in world.manager_ids and i not in world.leader_ids)


def _clients(world) -> dict:
    from django.test import Client

    from members.models import Member

    ids = {"employee": _employee_id(world), "manager": world.manager_ids[0], "leader": world.leader_ids[0]}
    clients = {}
    for role, member_id in ids.items():
        client = Client()
        client.force_login(Member.objects.select_related("user").get(pk=member_id).user)
        clients[role] = client
    return clients


def _measure(clients: dict, pages: list[Page], *, requests: int) -> dict[str, dict]:
    """Each page checked (status, expected text, queries, size), then all
    timed in turn (bench.common.measure_in_turn)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    checked = {}
    for page in pages:
        client = clients[page.role]
        for _ in range(3):  # warm-up: one-time rows, caches, template loading
            client.get(page.url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        body = response.content.decode()
        if response.status_code != 200 or page.expect not in body:
            found = "found" if page.expect in body else "missing"
            raise SystemExit(f"{page.label} {page.url}: status {response.status_code}, {page.expect!r} {found}")
        # Counted now: the next request resets the log.
        checked[page.label] = {"queries": len(queries.captured_queries), "kib": len(response.content) / 1024}
    timed = measure_in_turn(
        {page.label: functools.partial(clients[page.role].get, page.url) for page in pages}, rounds=requests
    )
    return {label: {**timed[label], **checked[label]} for label in timed}


def _report(results: dict, *, verdict: bool) -> int:
    floor = results[FLOOR]["p50"]
    print(
        f"  {'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8} {'queries':>8} {'CPU ms':>8} {'KiB':>7}"
        + ("  target <= 3x" if verdict else "")
    )
    misses = 0
    for label, r in results.items():
        ratio = r["p50"] / floor
        mark = ""
        if verdict and label != FLOOR:
            mark = "  PASS" if ratio <= TARGET_FLOOR_RATIO else "  MISS"
            misses += ratio > TARGET_FLOOR_RATIO
        print(
            f"  {label:<22} {r['p50']:8.1f} {r['p95']:8.1f} {ratio:8.2f} {r['queries']:8d} {r['cpu']:8.1f} "
            f"{r['kib']:7.1f}{mark}"
        )
    if verdict:
        print(f"\n{len(results) - 1 - misses} of {len(results) - 1} pages within 3x the floor; load {_load()}")
    return misses


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"average {one:.2f} {five:.2f} {fifteen:.2f}"


def _profile(client, page: Page, *, requests: int) -> None:
    from pyinstrument import Profiler

    for _ in range(3):
        client.get(page.url)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(requests):
        client.get(page.url)
    profiler.stop()
    print(f"\n{page.label}: {requests} requests of {page.url} as {page.role}")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    parser.add_argument("--profile", metavar="PAGE", help="print a pyinstrument profile of one page (its label)")
    parser.add_argument("--requests", type=int, help="requests per page (default 100; 3 with --smoke)")
    args = parser.parse_args()
    sizes = SMOKE_SIZES if args.smoke else SIZES
    requests = args.requests or (3 if args.smoke else 100)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "*")
    with bench_database("pages", unique=args.smoke) as name:
        # Its own cache keys: the pages' caches must start empty and not meet a test run's.
        os.environ["CACHE_KEY_PREFIX"] = f"plnorg-{name}"
        import django

        django.setup()
        from django.conf import settings
        from django.core.cache import cache
        from django.core.management import call_command

        from bench import scale

        settings.ROOT_URLCONF = "bench.stream"  # the product's URLs plus stream.py's floor view
        settings.MFA_REQUIRED_FOR_PRIVILEGED = False
        call_command("migrate", verbosity=0)
        cache.clear()
        started = time.perf_counter()
        world = scale.scale_up(**sizes)
        print(f"data: {world.summary()} (built in {time.perf_counter() - started:.1f} s)")
        clients = _clients(world)
        pages = _pages(world)
        if args.profile:
            page = next((p for p in pages if p.label == args.profile), None)
            if page is None:
                raise SystemExit(f"no page {args.profile!r}; pages: {', '.join(p.label for p in pages)}")
            _profile(clients[page.role], page, requests=requests)
            return 0
        results = _measure(clients, pages, requests=requests)
        print(f"\n{requests} requests per page, in-process (Django test client), the pages in turn")
        _report(results, verdict=not args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
