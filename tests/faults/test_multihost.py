"""Celery workers on several machines: two worker machines and a feed host,
each a network namespace of its own (tests/faults/netns.py), sharing one
private PostgreSQL and one broker Redis over the bridge, as production's
machines share theirs over the network.

With real workers it shows: every feed fetched, every entry stored once,
the per-host limit held across machines (seen by the feed host itself), and
the outbox sending each email at most once, with one worker machine's
processes all SIGKILLed in the middle of the work. MULTIHOST_FEEDS scales
the number of feeds (`make multihost MULTIHOST_FEEDS=300`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.faults import feedhost
from tests.faults.conftest import (
    PYTHON,
    ROOT,
    TEMPLATE_DB,
    PrivatePostgres,
    PrivateRedis,
    _copy_test_database,
    helper,
    manage,
    private_env,
)
from tests.faults.netns import Network, machines, namespaces_or_skip, remove_leftovers
from tests.faults.smtp import SmtpServer
from tests.feeds.test_workers import Worker, wait_for

# django_db: pytest-django creates the run's test database, copied into the
# private cluster (the tests themselves only use the private one).
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(600)]

FEEDS = int(os.environ.get("MULTIHOST_FEEDS", "30"))
ITEMS = 5
DELAY_SECONDS = 1.0
PER_HOST_LIMIT = 2
LEASE_SECONDS = 4
RECOVERY_BOUND_SECONDS = 45
INVITATIONS = 50


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    with machines() as net:
        yield net


@pytest.fixture(scope="module")
def cluster(network, django_db_setup_name) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL on the bridge's address with a migrated template."""
    postgres = PrivatePostgres(listen=f"127.0.0.1,{network.root_address}", trusted_network=network.subnet)
    try:
        postgres.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        if not _copy_test_database(postgres, django_db_setup_name):
            folder = Path(tempfile.mkdtemp(prefix="plnorg-multihost-setup-"))
            env = private_env(
                database_url=postgres.url(TEMPLATE_DB),
                broker_url="redis://127.0.0.1:9/0",
                cache_url="",
                email_dir=folder,
                queue="plnorg-multihost-setup",
            )
            manage(env, "migrate", "--noinput")
            shutil.rmtree(folder, ignore_errors=True)
        yield postgres
    finally:
        postgres.destroy()


@dataclass
class World:
    network: Network
    postgres: PrivatePostgres
    database: str
    broker: PrivateRedis
    folder: Path
    env: dict[str, str]
    workers: dict[str, Worker] = field(default_factory=dict)
    feed_host: subprocess.Popen | None = None

    def worker(self, machine: str, **env: str) -> Worker:
        """A worker on machine "a" or "b", reaching PostgreSQL and Redis over the bridge."""
        names = ("DATABASE_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY", "CELERY_QUEUE")
        worker = Worker(
            f"multihost-{machine}",
            concurrency=2,
            redis_url=self.env["REDIS_URL"],
            prefix=self.network.prefix_command(machine),
            FETCH_ALLOWED_PRIVATE_NETWORKS=self.network.subnet,
            FETCH_PER_HOST_LIMIT=str(PER_HOST_LIMIT),
            FETCH_LEASE_SECONDS=str(LEASE_SECONDS),
            **{name: self.env[name] for name in names},
            **env,
        )
        self.workers[machine] = worker
        return worker

    def serve_feeds(self) -> list[str]:
        """Start the feed host; returns the feeds' URLs."""
        hosts = self.network.feed_hosts()
        self.feed_host = subprocess.Popen(
            [*self.network.prefix_command("feeds"), PYTHON, "-m", "tests.faults.feedhost", str(self.stats_file),
             str(FEEDS), str(ITEMS), str(DELAY_SECONDS), *hosts],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.folder / "feedhost.log", "w"),
        )  # fmt: skip
        wait_for(self.stats_file.exists, what="the feed host")
        return [feedhost.feed_url(hosts, n) for n in range(FEEDS)]

    @property
    def stats_file(self) -> Path:
        return self.folder / "feedhost.json"

    def stats(self) -> dict:
        return json.loads(self.stats_file.read_text())

    def machine_requests(self, machine: str) -> int:
        return self.stats()["clients"].get(self.network.address(machine), 0)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.postgres.query(self.database, sql, params)

    def count(self, sql: str, params: tuple = ()) -> int:
        return self.query(sql, params)[0][0]

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        if self.feed_host and self.feed_host.poll() is None:
            self.feed_host.terminate()
            self.feed_host.wait(10)


_numbers = iter(range(1, 1000))


@pytest.fixture
def world(network, cluster) -> Iterator[World]:
    database = f"plnorg_multihost_{next(_numbers)}"
    cluster.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE_DB}")
    broker = PrivateRedis(set(), bind=f"127.0.0.1 {network.root_address}")
    folder = Path(tempfile.mkdtemp(prefix="plnorg-multihost-"))
    env = private_env(
        database_url=f"postgres://postgres@{network.root_address}:{cluster.port}/{database}",
        broker_url=broker.url(0, host=network.root_address),
        cache_url=broker.url(1, host=network.root_address),
        email_dir=folder,
        # The broker is private; the queue name is the one Worker (tests/feeds) consumes.
        queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
    )
    env.update(FETCH_BATCH_SIZE="5", FETCH_LEASE_SECONDS=str(LEASE_SECONDS))
    site = World(network, cluster, database, broker, folder, env)
    try:
        yield site
    finally:
        site.stop()
        broker.destroy()
        cluster.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)


def _fetch_logs(world: World) -> int:
    return world.count(
        "SELECT count(*) FROM feeds_fetchlog l JOIN feeds_feed f ON f.id = l.feed_id WHERE NOT f.is_demo"
    )


def _assert_entries_stored_once(world: World) -> None:
    assert world.count("SELECT count(*) FROM feeds_entry e JOIN feeds_feed f ON f.id = e.feed_id "
                       "WHERE NOT f.is_demo") == FEEDS * ITEMS  # fmt: skip
    assert world.query("SELECT feed_id, identity FROM feeds_entry GROUP BY feed_id, identity HAVING count(*) > 1") == []


def _start(world: World) -> list[str]:
    urls = world.serve_feeds()
    assert helper(world.env, "add-feeds", *urls) == str(FEEDS)
    for machine in ("a", "b"):
        world.worker(machine)
    for worker in world.workers.values():
        worker.wait_ready(timeout=120)
    return urls


def test_every_feed_fetched_once_and_the_per_host_limit_held_across_machines(world):
    _start(world)
    started = time.monotonic()
    assert manage(world.env, "fetch_feeds").strip() == f"queued {FEEDS} feeds"
    wait_for(lambda: _fetch_logs(world) == FEEDS, timeout=300, what="every feed fetched")
    print(f"multihost: {FEEDS} feeds fetched by two machines in {time.monotonic() - started:.1f}s")

    stats = world.stats()
    assert stats["hits"] == {feedhost.feed_path(n): 1 for n in range(FEEDS)}
    assert world.query("SELECT outcome, count(*) FROM feeds_fetchlog GROUP BY outcome") == [("ok", FEEDS)]
    _assert_entries_stored_once(world)
    assert set(stats["peak"]) == set(world.network.feed_hosts())
    assert max(stats["peak"].values()) <= PER_HOST_LIMIT, stats["peak"]
    a, b = world.machine_requests("a"), world.machine_requests("b")
    print(f"multihost: machine a fetched {a}, machine b {b}; peaks per host {stats['peak']}")
    assert a > 0 and b > 0 and a + b == FEEDS


def test_a_machine_killed_mid_batch_its_feeds_are_fetched_after_the_lease(world):
    _start(world)
    assert manage(world.env, "fetch_feeds").strip() == f"queued {FEEDS} feeds"
    wait_for(lambda: world.machine_requests("a") >= 2, timeout=120, what="machine a fetching")
    assert world.network.kill_machine("a")
    killed_at = time.monotonic()
    time.sleep(1)  # requests already on the wire reach the feed host
    fetched_by_a = world.machine_requests("a")

    recovered_after = None
    while time.monotonic() < killed_at + RECOVERY_BOUND_SECONDS * 3 and recovered_after is None:
        manage(world.env, "fetch_feeds")  # the beat's round: claims what the dead machine's lease let go
        if _fetch_logs(world) == FEEDS:
            recovered_after = time.monotonic() - killed_at
        else:
            time.sleep(1)
    print(f"multihost: machine a killed after {fetched_by_a} requests; every feed fetched "
          f"{recovered_after and round(recovered_after, 1)}s after the kill (bound {RECOVERY_BOUND_SECONDS}s)")  # fmt: skip
    assert recovered_after is not None and recovered_after < RECOVERY_BOUND_SECONDS

    stats = world.stats()
    hits = stats["hits"]
    assert sorted(hits) == sorted(feedhost.feed_path(n) for n in range(FEEDS))
    assert set(hits.values()) <= {1, 2}  # at most the killed attempt and the rescue
    assert world.query("SELECT count(DISTINCT feed_id), count(*) FROM feeds_fetchlog") == [(FEEDS, FEEDS)]
    _assert_entries_stored_once(world)
    assert world.machine_requests("a") == fetched_by_a  # nothing more from the dead machine
    assert max(stats["peak"].values()) <= PER_HOST_LIMIT, stats["peak"]
    assert world.workers["b"].process.poll() is None


def _email_states(world: World) -> list[tuple]:
    return world.query(
        "SELECT status, count(*) FROM members_outboundemail WHERE kind = 'invitation' GROUP BY status ORDER BY status"
    )


def test_a_machine_killed_mid_send_no_email_is_delivered_twice(world):
    smtp = SmtpServer(host=world.network.root_address, pause=0.3)
    try:
        world.env["EMAIL_URL"] = smtp.url()
        for machine in ("a", "b"):
            world.worker(machine)
        for worker in world.workers.values():
            worker.wait_ready(timeout=120)
        assert helper(world.env, "invite", str(INVITATIONS)) == str(INVITATIONS)
        wait_for(lambda: len(smtp.message_ids()) >= 10, timeout=120, what="ten emails sent")
        assert world.network.kill_machine("a")
        killed_at = world.query("SELECT now()")[0][0]
        pending = lambda: world.count(  # noqa: E731
            "SELECT count(*) FROM members_outboundemail WHERE kind = 'invitation' AND status = 'pending'"
        )
        # What machine a had taken from the queue waits for the sweep; what it
        # was sending stays "sending" until its lease runs out (moved back here).
        helper(world.env, "send-task", "members.send_pending_emails")
        wait_for(lambda: pending() == 0, timeout=180, what="the pending emails")
        # Machine b's last sends finish; what is still "sending" then was
        # claimed before the kill, by the dead machine.
        sending = "SELECT count(*) FROM members_outboundemail WHERE kind = 'invitation' AND status = 'sending'"
        interrupted = world.count(sending + " AND claimed_at < %s", (killed_at,))
        wait_for(lambda: world.count(sending) == interrupted, what="machine b's sends")
        world.query(
            "UPDATE members_outboundemail SET claimed_at = claimed_at - interval '11 minutes' "
            "WHERE status = 'sending' RETURNING id"
        )
        for _sweep in range(2):
            helper(world.env, "send-task", "members.send_pending_emails")
            wait_for(lambda: world.count("SELECT count(*) FROM members_outboundemail WHERE status = 'sending'") == 0,
                     timeout=120, what="the sweep")  # fmt: skip
        deliveries = smtp.deliveries()
    finally:
        smtp.stop()

    twice = sorted(message_id for message_id, n in deliveries.items() if n > 1)
    print(f"multihost mail: {len(deliveries)} distinct of {INVITATIONS}, {len(twice)} twice, "
          f"{interrupted} interrupted on the killed machine")  # fmt: skip
    assert twice == []
    assert _email_states(world) == [("sent", INVITATIONS - interrupted)] + (
        [("unknown", interrupted)] if interrupted else []
    )
    assert INVITATIONS - interrupted <= len(deliveries) <= INVITATIONS


def test_a_killed_runs_namespaces_are_removed_by_the_next_run():
    """atexit never runs for a SIGKILLed pytest: its namespaces, veths and
    bridge (names carrying its pid) are removed when the next run starts."""
    namespaces_or_skip()
    dead = 4_194_000  # above any pid this machine has handed out (pid_max is 4,194,304)
    while Path(f"/proc/{dead}").exists():
        dead -= 1
    made = subprocess.run(["ip", "netns", "add", f"plnorg-feeds-{dead}"], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"ip netns add failed: {made.stderr.strip()}")
    subprocess.run(["ip", "link", "add", f"mhbr{dead}", "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "add", f"mhb{dead}", "type", "veth", "peer", "name", f"mhb{dead}p"], check=True)

    removed = remove_leftovers()

    assert sorted(name for name in removed if str(dead) in name) == [
        f"mhb{dead}",
        f"mhbr{dead}",
        f"plnorg-feeds-{dead}",
    ]
    assert str(dead) not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert str(dead) not in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
