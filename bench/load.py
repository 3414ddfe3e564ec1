"""Load the production setup the way a busy organization would (`make load`).

Runs against `make prod-local` on 127.0.0.1 (started here if it is not up):
1. scales the demo organization up (members, entries, workshops, time
   entries; see bench/scale.py) in the prod-local database, once;
2. serves N feeds from a local feed server and marks them due, so the Celery
   workers ingest while the site is under load;
3. signs in a pool of members, managers and leaders (sessions created
   directly, so password hashing does not dominate);
4. runs a bounded mix of page views and actions for --seconds (default 60),
   then the same load against one trivial signed-in page (the floor);
5. prints requests/s, p50/p95/p99 per page, errors, CPU seconds per process
   and the mix's requests/s as a share of the floor's.

Only 127.0.0.1 is ever contacted. Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


MIX_SHARE_TARGET = 0.5  # the mix's requests/s as a share of the floor's
P95_TARGET_MS = 250


def prod_env() -> dict[str, str]:
    out = subprocess.run([str(ROOT / "bin/prod-local"), "env"], capture_output=True, text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'\"")
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
    import django

    django.setup()


def ensure_prod_local(base: str, env: dict[str, str]) -> None:
    try:
        if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
            return
    except httpx.HTTPError:
        pass
    print("starting prod-local ...", flush=True)
    subprocess.run(
        [str(ROOT / "bin/prod-local")],
        check=True,
        env={**os.environ, "PROD_DETACH": "1", "FETCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8"},
    )


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    requests: int = 0

    def record(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.requests += 1
        self.latencies[name].append(seconds)
        if not ok:
            self.errors[name] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{name}: {detail}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


@dataclass
class VirtualUser:
    cookies: str
    csrf: str
    role: str
    context: dict


async def run_load(*, base: str, users: list[VirtualUser], actions, seconds: float, concurrency: int) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits, follow_redirects=False) as client:

        async def worker(index: int) -> None:
            rng = random.Random(index)
            user = users[index % len(users)]
            headers = {
                "Cookie": user.cookies,
                "X-Forwarded-Proto": "https",
                "X-CSRFToken": user.csrf,
                "Referer": f"https://{base.removeprefix('http://')}/",
            }
            while time.monotonic() < deadline:
                name, method, url, data, expect = actions(user, rng)
                started = time.perf_counter()
                try:
                    response = await client.request(method, url, headers=headers, data=data)
                    ok = response.status_code in expect
                    detail = f"{response.status_code} {url}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{exc.__class__.__name__} {url}"
                stats.record(name, time.perf_counter() - started, ok, detail)

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return stats


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, IndexError, ValueError):
            continue
    return out


def process_table() -> dict[int, str]:
    """Our production processes: gunicorn master/workers, celery worker/beat."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    procs = {}
    for line in out.splitlines():
        pid_text, _, args = line.strip().partition(" ")
        if "plnorg.wsgi" in args:
            procs[int(pid_text)] = "gunicorn"
        elif "celery" in args and "worker" in args and "plnorg" in args:
            procs[int(pid_text)] = "celery worker"
        elif "celery" in args and "beat" in args and "plnorg" in args:
            procs[int(pid_text)] = "celery beat"
        elif "redis-server" in args and ("6380" in args or "6381" in args):
            procs[int(pid_text)] = "redis " + ("broker" if "6380" in args else "cache")
        elif args.startswith("postgres:"):
            procs[int(pid_text)] = "postgres"
    return procs


def report(title: str, stats: Stats, seconds: float) -> float:
    rps = stats.requests / seconds
    print(
        f"\n{title}: {stats.requests} requests in {seconds:.0f} s = {rps:.1f} req/s, errors {sum(stats.errors.values())}"
    )
    print(f"{'page':<28}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        print(
            f"{name:<28}{len(values):>8}{pct(values, 50):>10.1f}{pct(values, 95):>10.1f}"
            f"{pct(values, 99):>10.1f}{stats.errors.get(name, 0):>8}"
        )
    for sample in stats.error_samples:
        print("  error:", sample)
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--workshops", type=int, default=50)
    parser.add_argument("--time-entries", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PROD_PORT", "8001")))
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600.0)  # bounded, whatever is asked

    base = f"http://127.0.0.1:{args.port}"
    env = prod_env()
    env["FETCH_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"
    ensure_prod_local(base, env)
    setup_django(env)
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from bench import scale

    started = time.monotonic()
    world = scale.scale_up(
        members=args.members, entries=args.entries, workshops=args.workshops, time_entries=args.time_entries
    )
    print(f"data: {world.summary()} (prepared in {time.monotonic() - started:.1f} s)", flush=True)

    feed_server = scale.FeedServer(count=args.feeds)
    feed_server.start()
    scale.register_feed_server_feeds(feed_server)
    users = scale.virtual_users(world, count=max(args.concurrency * 2, 40))
    print(f"feeds: {args.feeds} served from {feed_server.hosts} and due now; users: {len(users)}", flush=True)

    procs = process_table()
    cpu_before = cpu_seconds(list(procs))
    mix_stats = asyncio.run(
        run_load(base=base, users=users, actions=scale.mix_action, seconds=args.seconds, concurrency=args.concurrency)
    )
    # Processes started during the mix (PostgreSQL backends for new
    # connections, respawned workers) count from zero.
    procs.update(process_table())
    cpu_after = cpu_seconds(list(procs))
    ingested = scale.ingest_progress(feed_server)
    floor_stats = asyncio.run(
        run_load(
            base=base,
            users=users,
            actions=scale.floor_action,
            seconds=min(args.seconds, 20),
            concurrency=args.concurrency,
        )
    )
    feed_server.stop()

    mix_rps = report("MIX", mix_stats, args.seconds)
    floor_rps = report("FLOOR (one trivial signed-in page)", floor_stats, min(args.seconds, 20))
    by_kind: dict[str, float] = defaultdict(float)
    for pid, after in cpu_after.items():
        by_kind[procs[pid]] += after - cpu_before.get(pid, 0.0)
    print("\nCPU seconds during the mix, by process kind:")
    for kind, used in sorted(by_kind.items()):
        print(f"  {kind:<16}{used:>8.1f} s ({used / args.seconds * 100:.0f}% of one core)")
    p95_all = pct([v for values in mix_stats.latencies.values() for v in values], 95)
    print(f"\ningestion during the mix: {ingested}")
    share = mix_rps / floor_rps
    errors = sum(mix_stats.errors.values())
    mix_requests = sum(len(values) for values in mix_stats.latencies.values())
    if mix_requests and by_kind.get("gunicorn"):
        print(f"gunicorn CPU per mix request: {by_kind['gunicorn'] / mix_requests * 1000:.1f} ms")

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    # Issue 22's targets, at the default 16 clients on 2 cores.
    print(
        f"\nSUMMARY mix {mix_rps:.1f} req/s = {share * 100:.0f}% of the floor's {floor_rps:.1f} req/s "
        f"(target >= {MIX_SHARE_TARGET * 100:.0f}%: {verdict(share >= MIX_SHARE_TARGET)}); "
        f"errors {errors} (target 0: {verdict(errors == 0)}); "
        f"p95 over the mix {p95_all:.0f} ms (target < {P95_TARGET_MS} ms: {verdict(p95_all < P95_TARGET_MS)})"
    )


if __name__ == "__main__":
    main()
