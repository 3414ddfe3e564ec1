"""Benchmark: the introduction suggestion task at organization scale.

1,000 opted-in members in 20 teams, 5,000 feeds, 20 shared sources per member
(popular feeds are followed more, as in real life), 40 topics. Runs in a
database of its own, created here and dropped at the end. Prints the
suggestion task's duration and peak memory (targets: under 10 s and under
500 MB), and the connectors computation's for reference.

    python bench/introductions.py            # full size
    python bench/introductions.py --smoke    # tiny, for the test suite
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_database  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_MB = 500.0
TOPICS = [f"topic-{i:02d}" for i in range(40)]


def _populate(*, members: int, feeds: int, per_member: int, teams: int, seed: int = 1) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from feeds.models import Feed, Subscription
    from members.models import Member, Team, User

    rng = random.Random(seed)
    with transaction.atomic():
        team_rows = Team.objects.bulk_create([Team(name=f"Bench team {i:02d}") for i in range(teams)])
        password = make_password(None)
        users = User.objects.bulk_create(
            [User(email=f"bench{i:05d}@bench.example.com", password=password) for i in range(members)]
        )
        member_rows = Member.objects.bulk_create(
            [
                Member(
                    user=user,
                    display_name=f"Bench Person {i}",
                    team=team_rows[i % teams],
                    interests=", ".join(rng.sample(TOPICS, 2)),
                    introductions_opt_in=True,
                )
                for i, user in enumerate(users)
            ]
        )
        feed_rows = Feed.objects.bulk_create(
            [
                Feed(url=f"https://bench{i}.example.net/feed.xml", title=f"Bench feed {i}", is_demo=True)
                for i in range(feeds)
            ]
        )
        feed_topics = [rng.sample(TOPICS, rng.choice((1, 2))) for _ in feed_rows]
        # Zipf-like popularity: a few feeds are followed by many, most by few.
        weights = [1 / (rank + 1) ** 0.8 for rank in range(feeds)]
        subscriptions = []
        for member in member_rows:
            chosen: set[int] = set()
            while len(chosen) < min(per_member, feeds):
                chosen.update(rng.choices(range(feeds), weights=weights, k=per_member - len(chosen)))
            subscriptions += [
                Subscription(
                    member=member,
                    feed=feed_rows[index],
                    kind=Subscription.Kind.SOURCE,
                    is_shared=True,
                    topics=feed_topics[index],
                )
                for index in chosen
            ]
        Subscription.objects.bulk_create(subscriptions, batch_size=5000)


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny data set, for the test suite")
    args = parser.parse_args()
    size = (
        {"members": 30, "feeds": 100, "per_member": 5, "teams": 4}
        if args.smoke
        else {"members": 1000, "feeds": 5000, "per_member": 20, "teams": 20}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    with bench_database("intro", unique=True):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, run_syncdb=True)
        started = time.perf_counter()
        _populate(**size)
        print(
            f"data: {size['members']} members, {size['feeds']} feeds, {size['per_member']} shared sources each "
            f"({time.perf_counter() - started:.1f} s to insert)"
        )
        from plnorg.introductions.services.suggestions import connectors_compute, suggestions_compute

        rss_before = _rss_mb()
        started = time.perf_counter()
        result = suggestions_compute()
        seconds = time.perf_counter() - started
        rss_after = _rss_mb()
        # A second run under tracemalloc measures the task's own allocations
        # (tracing slows Python down, so it is not the timed run).
        tracemalloc.start()
        suggestions_compute()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"suggestions: {result['members']} members, {result['suggestions']} pairs stored "
            f"({result['strangers']} strangers) in {seconds:.2f} s (target < {TARGET_SECONDS:.0f} s)"
        )
        print(
            f"peak memory: task allocations {peak / 2**20:.1f} MB (tracemalloc), process RSS {rss_after:.0f} MB "
            f"(was {rss_before:.0f} MB before the task) (target < {TARGET_MB:.0f} MB)"
        )
        started = time.perf_counter()
        connectors = connectors_compute()
        print(
            f"connectors: {connectors['members']} members, {connectors['edges']} edges, "
            f"{connectors['connectors']} connectors in {time.perf_counter() - started:.2f} s"
        )
        if not args.smoke:
            ok = seconds < TARGET_SECONDS and max(peak / 2**20, rss_after) < TARGET_MB
            print("within targets" if ok else "OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
