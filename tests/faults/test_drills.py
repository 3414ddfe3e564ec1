"""Fault drills: break one service while the site serves pages and ingests
feeds, then check nothing was lost, duplicated or shown as a traceback.

Every drill runs against its own world (tests/faults/conftest.py): a clone of
a migrated template database on a PRIVATE PostgreSQL cluster, private broker
and cache Redis, a gunicorn serving the site, real Celery workers and a file
email backend. The machine's shared services are never stopped.

Each drill ends with `consistency_check`: no duplicated feed entries, no
orphaned registrations, time entries (when the clock exists) neither lost nor
duplicated, and every outbox row marked sent delivered exactly once (an
"unknown" one, interrupted mid-send, at most once).
"""

from __future__ import annotations

import statistics
import time

import pytest
import redis

from tests.faults.conftest import FEED_HOST, Site
from tests.faults.helper import DRILL_FEEDS
from tests.faults.smtp import SmtpServer
from tests.feeds.servers import numbered_items, rss
from tests.feeds.test_workers import wait_for

# django_db: makes pytest-django create the run's test database, which the
# private template is copied from (the drills themselves never use it).
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

PAGES = ["/home/", "/stream/", "/workshops/", "/me/transparency/"]
LEASE_SECONDS = 4
ITEMS = 15
UNAVAILABLE = "plnorg is temporarily unavailable"


def _serve_feeds(feed_server, *, slow: set[int] = frozenset(), tag: str = "drill") -> None:
    for n in range(DRILL_FEEDS):
        feed_server.set(
            f"/drill/{n}.xml", rss(numbered_items(ITEMS, prefix=f"{tag}{n}")), delay_seconds=30 if n in slow else 0
        )


def _count(site: Site, sql: str, params: tuple = ()) -> int:
    return site.query(sql, params)[0][0]


def _fetch_logs(site: Site, outcome: str = "ok") -> int:
    return _count(site, "SELECT count(*) FROM feeds_fetchlog WHERE outcome = %s", (outcome,))


def _drill_entries(site: Site) -> int:
    return _count(site, "SELECT count(*) FROM feeds_entry e JOIN feeds_feed f ON f.id = e.feed_id WHERE NOT f.is_demo")


def _table_exists(site: Site, table: str) -> bool:
    return bool(_count(site, "SELECT count(*) FROM information_schema.tables WHERE table_name = %s", (table,)))


def snapshot(site: Site) -> dict[str, set]:
    """Row ids that must survive a drill untouched."""
    rows = {"registrations": {row[0] for row in site.query("SELECT id FROM workshops_registration")}}
    if _table_exists(site, "workshops_timeentry"):
        rows["time_entries"] = {row[0] for row in site.query("SELECT id FROM workshops_timeentry")}
    return rows


def consistency_check(site: Site, before: dict[str, set], delivered: list[str] | None = None) -> dict[str, int]:
    duplicated_entries = site.query(
        "SELECT feed_id, identity, count(*) FROM feeds_entry GROUP BY feed_id, identity HAVING count(*) > 1"
    )
    assert duplicated_entries == [], "feed entries stored twice"
    orphaned = _count(
        site,
        "SELECT count(*) FROM workshops_registration r "
        "LEFT JOIN workshops_workshop w ON w.id = r.workshop_id LEFT JOIN members_member m ON m.id = r.member_id "
        "WHERE w.id IS NULL OR m.id IS NULL",
    )
    assert orphaned == 0, "registrations without their workshop or member"
    after = snapshot(site)
    assert after["registrations"] >= before["registrations"], "registrations lost"
    if "time_entries" in before:
        # Nobody records time during a drill: exactly the same rows.
        assert after["time_entries"] == before["time_entries"], "time entries lost or added"
        duplicated_time = site.query(
            "SELECT member_id, started_at, count(*) FROM workshops_timeentry WHERE started_at IS NOT NULL "
            "AND deleted_at IS NULL GROUP BY member_id, started_at HAVING count(*) > 1"
        )
        assert duplicated_time == [], "time entries recorded twice"
    sent = _count(site, "SELECT count(*) FROM members_outboundemail WHERE status = 'sent'")
    # An "unknown" row was interrupted mid-send: delivered once, or not at all.
    unknown = _count(site, "SELECT count(*) FROM members_outboundemail WHERE status = 'unknown'")
    delivered = site.sent_messages() if delivered is None else delivered
    assert len(delivered) == len(set(delivered)), "an email was delivered twice"
    assert sent <= len(delivered) <= sent + unknown, (
        f"{sent} outbox rows marked sent ({unknown} unknown), {len(delivered)} messages delivered"
    )
    return {"entries": _drill_entries(site), "emails_sent": sent, "registrations": len(after["registrations"])}


def _no_tracebacks(traffic) -> None:
    for _at, path, status, _seconds, body in traffic.answers:
        assert "Traceback" not in body and "OperationalError" not in body, f"{path} ({status}) leaked an error"


def _healthz(site: Site) -> tuple[int, dict]:
    response = site.get("/healthz", signed_in=False)
    return response.status_code, response.json()


@pytest.fixture
def feeds(feed_server):
    _serve_feeds(feed_server)
    yield feed_server
    _serve_feeds(feed_server)


def test_worker_sigkill_feeds_fetched_again_after_lease_no_duplicates(site, feeds, traffic):
    """SIGKILL a worker mid-fetch: its feed is fetched again once the lease
    runs out, nothing is stored twice, and a fresh pool takes over."""
    site.env["FETCH_LEASE_SECONDS"] = str(LEASE_SECONDS)
    before = snapshot(site)
    _serve_feeds(feeds, slow={0})
    doomed = site.worker("doomed", concurrency=2, FETCH_LEASE_SECONDS=str(LEASE_SECONDS)).wait_ready()

    with traffic(site, PAGES) as pages:
        assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"
        wait_for(lambda: _fetch_logs(site) == DRILL_FEEDS - 1 and feeds.hits["/drill/0.xml"] >= 1, what="5 fetches")
        doomed.kill()
        assert _count(site, "SELECT count(*) FROM feeds_entry e JOIN feeds_feed f ON f.id = e.feed_id "
                      "WHERE f.url LIKE %s", ("%/drill/0.xml",)) == 0  # fmt: skip
        _serve_feeds(feeds)
        rescuer = site.worker("rescuer", concurrency=2, FETCH_LEASE_SECONDS=str(LEASE_SECONDS)).wait_ready()
        due_again = "SELECT next_fetch_at <= now() FROM feeds_feed WHERE url LIKE %s"
        wait_for(lambda: site.query(due_again, ("%/drill/0.xml",)) == [(True,)], what="the lease to run out")
        assert site.manage("fetch_feeds").strip() == "queued 1 feeds"
        wait_for(lambda: _fetch_logs(site) == DRILL_FEEDS, what="the killed worker's feed")

        # The pool keeps working: a second full round stores nothing new.
        site.helper("due")
        assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"
        wait_for(lambda: _count(site, "SELECT count(*) FROM feeds_fetchlog") == 2 * DRILL_FEEDS, what="round two")

    assert rescuer.process.poll() is None
    assert _drill_entries(site) == DRILL_FEEDS * ITEMS
    assert feeds.hits["/drill/0.xml"] == 3  # killed, rescued, round two
    assert set(pages.statuses()) == {200}
    _no_tracebacks(pages)
    figures = consistency_check(site, before)
    assert figures["entries"] == DRILL_FEEDS * ITEMS


def test_broker_restart_pages_work_health_reports_it_and_work_resumes(site, feeds, traffic):
    """Stop the broker Redis: pages keep working, /healthz names the broker,
    mail caused meanwhile waits in the outbox. Start it again: /healthz is
    fine, queued fetches lost with Redis are claimed again after their lease,
    and the outbox sweep sends the waiting mail exactly once."""
    site.env["FETCH_LEASE_SECONDS"] = str(LEASE_SECONDS)
    before = snapshot(site)
    worker = site.worker("broker", concurrency=2, FETCH_LEASE_SECONDS=str(LEASE_SECONDS)).wait_ready()
    site.helper("enqueue-email", "drill-before")
    wait_for(lambda: len(site.sent_messages()) == 1, what="the first email")

    with traffic(site, PAGES) as pages:
        worker.kill()  # fetches are queued with nobody to take them ...
        assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"
        site.broker.stop()  # ... and Redis (without persistence) loses them
        status, report = _healthz(site)
        assert (status, report["status"], report["database"]) == (503, "failing: broker", "ok")
        assert report["broker"].startswith("broker unreachable")
        site.helper("enqueue-email", "drill-during")  # committed; queueing it fails quietly
        down_at = time.monotonic()
        time.sleep(1)
        site.broker.start()
        wait_for(lambda: _healthz(site)[0] == 200, what="/healthz to recover")

        site.worker("broker-again", concurrency=2, FETCH_LEASE_SECONDS=str(LEASE_SECONDS)).wait_ready()
        site.helper("send-task", "members.send_pending_emails")
        wait_for(lambda: len(site.sent_messages()) == 2, what="the email written while the broker was down")
        wait_for(lambda: time.monotonic() - down_at > LEASE_SECONDS + 0.5, what="the lease")
        assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"
        wait_for(lambda: _fetch_logs(site) == DRILL_FEEDS, what="the fetches lost with the broker")
        site.helper("send-task", "members.send_pending_emails")  # a second sweep sends nothing again
        time.sleep(2)

    assert _count(site, "SELECT count(*) FROM members_outboundemail WHERE status = 'sent'") == 2
    assert set(pages.statuses()) == {200}
    _no_tracebacks(pages)
    figures = consistency_check(site, before)
    assert (figures["entries"], figures["emails_sent"]) == (DRILL_FEEDS * ITEMS, 2)


def test_cache_restart_pages_keep_working(site, traffic):
    """Stop the cache Redis: every page still answers (without the cache),
    /healthz names the cache; start it again and /healthz is fine."""
    before = snapshot(site)
    with traffic(site, PAGES, pause=0.05) as pages:
        time.sleep(2)
        healthy_count = len(pages.answers)
        site.cache.stop()
        time.sleep(3)
        status, report = _healthz(site)
        assert (status, report["status"]) == (503, "failing: cache")
        down_answers = pages.answers[healthy_count:]
        site.cache.start()
        wait_for(lambda: _healthz(site)[0] == 200, what="/healthz to recover")
        time.sleep(1)

    assert set(pages.statuses()) == {200}
    assert len(down_answers) >= 3
    _no_tracebacks(pages)
    consistency_check(site, before)
    usual = statistics.median(answer[3] for answer in pages.answers[:healthy_count])
    degraded = statistics.median(answer[3] for answer in down_answers)
    print(f"cache drill: median page {usual:.3f}s with the cache, {degraded:.3f}s without it")
    assert degraded < 5  # slower perhaps, never stuck


def test_postgres_restart_clean_503_then_pages_again(site, feeds, traffic):
    """Stop PostgreSQL: pages answer the 503 page (no traceback), /healthz
    names the database; start it again and pages and fetching work."""
    before = snapshot(site)
    worker = site.worker("postgres", concurrency=1).wait_ready()
    with traffic(site, PAGES) as pages:
        time.sleep(1)
        site.postgres.stop("immediate")
        time.sleep(3)
        down = site.get("/stream/")
        status, report = _healthz(site)
        site.postgres.start()
        wait_for(lambda: site.get("/home/").status_code == 200, what="pages after the restart")
        time.sleep(1)

    assert down.status_code == 503
    assert UNAVAILABLE in down.text and down.headers["Retry-After"] == "30"
    assert (status, report["status"]) == (503, "failing: database")
    assert report["database"].startswith("database unreachable")
    statuses = pages.statuses()
    assert set(statuses) <= {200, 503} and 503 in statuses and statuses[-1] == 200
    for _at, _path, code, _seconds, body in pages.answers:
        assert code == 200 or UNAVAILABLE in body
    _no_tracebacks(pages)

    site.helper("due")
    assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"
    wait_for(lambda: _fetch_logs(site) == DRILL_FEEDS, timeout=45, what="fetching after the restart")
    assert worker.process.poll() is None
    consistency_check(site, before)


INVITATIONS = 150
STALL_ON = 60


def _invitations(site: Site, status: str) -> int:
    """The drill's invitation emails in ``status``."""
    return _count(
        site,
        "SELECT count(*) FROM members_outboundemail WHERE kind = 'invitation' "
        "AND \"to\" LIKE 'invitee%%@example.org' AND status = %s",
        (status,),
    )


def test_worker_killed_mid_send_no_email_is_delivered_twice(site):
    """SIGKILL the mail worker at the worst moment: the SMTP server has the
    whole message but has not answered. Whatever time passes and however
    often the sweep runs, no Message-ID is delivered twice; the interrupted
    row is marked "unknown" for an admin instead of being sent again."""
    before = snapshot(site)
    smtp = SmtpServer(stall_on=STALL_ON)
    try:
        site.env["EMAIL_URL"] = smtp.url()
        doomed = site.worker("mailer", concurrency=1).wait_ready()
        assert site.helper("invite", str(INVITATIONS)) == str(INVITATIONS)
        assert smtp.stalled.wait(60), "the SMTP server never stalled"
        doomed.kill()

        site.worker("mailer-again", concurrency=1).wait_ready()
        wait_for(lambda: _invitations(site, "sent") == INVITATIONS - 1, timeout=90, what="the other invitations")
        # The interrupted row's lease runs out (10 minutes, moved back here
        # instead of waited for), then the sweep runs, twice.
        site.query(
            "UPDATE members_outboundemail SET claimed_at = claimed_at - interval '11 minutes' "
            "WHERE status = 'sending' RETURNING id"
        )
        for _sweep in range(2):
            site.helper("send-task", "members.send_pending_emails")
            wait_for(lambda: _invitations(site, "sending") == 0, what="the sweep")
            time.sleep(2)
        deliveries = smtp.deliveries()
        delivered = smtp.message_ids()
    finally:
        smtp.stop()

    twice = sorted(message_id for message_id, n in deliveries.items() if n > 1)
    print(f"mail drill: {len(twice)} of {INVITATIONS} invitations delivered twice, {len(deliveries)} distinct")
    assert twice == []
    assert len(deliveries) == INVITATIONS  # the interrupted one reached the server once
    rows = site.query(
        "SELECT status, attempts, count(*) FROM members_outboundemail WHERE kind = 'invitation' "
        "AND \"to\" LIKE 'invitee%%@example.org' GROUP BY status, attempts ORDER BY status"
    )
    assert rows == [("sent", 1, INVITATIONS - 1), ("unknown", 1, 1)]
    consistency_check(site, before, delivered=delivered)


RECOVERY_BOUND_SECONDS = 60
SLOW_SECONDS = 60


def _live_host_slots(site: Site) -> int:
    """Fetch slots of the drill's feed host that have not expired (Redis)."""
    client = redis.Redis.from_url(site.broker.url(0))
    try:
        key = f"{site.env['CELERY_QUEUE']}:fetch-host:{FEED_HOST}"
        return client.zcount(key, f"({time.time()}", "+inf")
    finally:
        client.close()


def test_worker_sigkill_mid_batch_its_slots_and_feeds_are_recovered_within_a_minute(site, feed_server):
    """SIGKILL a worker in the middle of a batch, holding every slot of the
    feeds' host: with beat running its real schedule, the surviving worker
    fetches every feed the dead one had not recorded, each exactly once, well
    before the 300-second queue lease would have run out."""
    before = snapshot(site)
    paths = [f"/drill/{n}.xml" for n in range(DRILL_FEEDS)]
    hits_before = [feed_server.hits[path] for path in paths]  # the feed server serves every drill
    hits = lambda: [feed_server.hits[path] - hits_before[n] for n, path in enumerate(paths)]  # noqa: E731
    fast = {0, 1}
    for n in range(DRILL_FEEDS):
        feed_server.set(
            f"/drill/{n}.xml",
            rss(numbered_items(ITEMS, prefix=f"drill{n}")),
            delay_seconds=0 if n in fast else SLOW_SECONDS,
        )
    try:
        pair = [site.worker(name, concurrency=1) for name in ("one", "two")]
        for worker in pair:
            worker.wait_ready()
        assert site.manage("fetch_feeds").strip() == f"queued {DRILL_FEEDS} feeds"  # one batch
        site.beat()
        wait_for(lambda: hits() == [1] * DRILL_FEEDS and _fetch_logs(site) == len(fast), what="the batch half done")
        # Whichever worker took the batch dies.
        doomed, survivor = sorted(pair, key=lambda worker: "feeds.fetch_feeds" not in worker.log.read_text())
        assert "feeds.fetch_feeds" not in survivor.log.read_text()
        assert _live_host_slots(site) == 4  # FETCH_PER_HOST_LIMIT: all of them, on the slow feeds
        doomed.kill()
        killed_at = time.monotonic()
        _serve_feeds(feed_server)  # the slow feeds answer at once from now on

        slots_free_after = recovered_after = None
        deadline = killed_at + RECOVERY_BOUND_SECONDS
        while time.monotonic() < deadline and recovered_after is None:
            if slots_free_after is None and _live_host_slots(site) == 0:
                slots_free_after = time.monotonic() - killed_at
            if _fetch_logs(site) == DRILL_FEEDS:
                recovered_after = time.monotonic() - killed_at
            time.sleep(0.2)
        print(
            f"worker kill drill: host slots free after {slots_free_after}s, every feed fetched after {recovered_after}s"
        )
        assert recovered_after is not None, (
            f"the killed worker's feeds were not fetched within {RECOVERY_BOUND_SECONDS}s"
        )
        assert slots_free_after is not None and slots_free_after < recovered_after
    finally:
        _serve_feeds(feed_server)

    assert survivor.process.poll() is None
    assert _fetch_logs(site) == DRILL_FEEDS  # one recorded fetch per feed
    assert hits() == [1, 1, 2, 2, 2, 2]  # the slow ones: the killed attempt and the survivor's
    figures = consistency_check(site, before)
    assert figures["entries"] == DRILL_FEEDS * ITEMS
