"""Scale the demo organization up for the load test (used by bench/load.py).

Bulk inserts with generate_series keep this to seconds; running it again is a
no-op once the data is there.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection, transaction
from django.utils import timezone

LOAD_DOMAIN = "load.example.com"
LOAD_TEAMS = 20


@dataclass
class World:
    members: int
    entries: int
    workshops: int
    time_entries: int
    member_ids: list[int]
    manager_ids: list[int]
    leader_ids: list[int]
    entry_ids: list[int]
    workshop_ids: list[int]

    def summary(self) -> str:
        return (
            f"{self.members} members, {self.entries} entries, {self.workshops} workshops, "
            f"{self.time_entries} time entries"
        )


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


@transaction.atomic
def _scale_members(n: int) -> None:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password

    from members.models import Member, Team, User
    from members.services import role_grant

    have = User.objects.filter(email__endswith="@" + LOAD_DOMAIN).count()
    if have >= n:
        return
    teams = [Team.objects.get_or_create(name=f"Load team {i:02d}")[0] for i in range(LOAD_TEAMS)]
    password = make_password(None)  # unusable: load users get sessions directly
    users = User.objects.bulk_create(
        [User(email=f"load{i:04d}@{LOAD_DOMAIN}", password=password) for i in range(have, n)]
    )
    EmailAddress.objects.bulk_create([EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users])
    Member.objects.bulk_create(
        [
            Member(user=u, display_name=f"Load Person {i + have}", team=teams[(i + have) % LOAD_TEAMS])
            for i, u in enumerate(users)
        ]
    )
    for team in teams:
        if team.manager_id is None:
            first = Member.objects.filter(team=team).order_by("id").first()
            if first:
                team.manager = first.user
                team.save(update_fields=["manager"])
    leader = User.objects.get(email=f"load0000@{LOAD_DOMAIN}")
    role_grant(user=leader, group_name="Leaders")


@transaction.atomic
def _scale_feeds_and_entries(entries: int) -> None:
    """2 feeds per member (one account, one source), entries spread over 180 days."""
    if _count("SELECT count(*) FROM feeds_feed WHERE url LIKE 'https://load-%%'") == 0:
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO feeds_feed (url, site_url, title, platform, status, is_demo, next_fetch_at,
                    last_error, error_count, fetch_notice, etag, last_modified, hidden_reason, created_at)
                SELECT 'https://load-' || g || '.example.net/feed.xml', 'https://load-' || g || '.example.net/',
                       'Load feed ' || g, (ARRAY['blog','mastodon','bluesky','youtube','podcast'])[1 + g %% 5],
                       'active', true, now() + interval '100 years', '', 0, '', '', '', '', now()
                FROM generate_series(1, 1000) g
                """,
                [],
            )
            cur.execute(
                """
                INSERT INTO feeds_subscription (member_id, feed_id, kind, is_shared, topics, profile_url, handle, added_at)
                SELECT m.id, f.id, CASE WHEN f.rn %% 2 = 0 THEN 'account' ELSE 'source' END, true,
                       CASE WHEN f.rn %% 3 = 0 THEN '["data"]'::jsonb ELSE '["learning"]'::jsonb END, '', '',
                       now() - (f.rn %% 180) * interval '1 day'
                FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM members_member
                      WHERE user_id IN (SELECT id FROM members_user WHERE email LIKE %s)) m
                JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM feeds_feed
                      WHERE url LIKE 'https://load-%%') f
                  ON f.rn IN (m.rn * 2 - 1, m.rn * 2)
                ON CONFLICT DO NOTHING
                """,
                [f"%@{LOAD_DOMAIN}"],
            )
    have = _count(
        "SELECT count(*) FROM feeds_entry e JOIN feeds_feed f ON f.id = e.feed_id WHERE f.url LIKE 'https://load-%%'"
    )
    if have >= entries:
        return
    words = "learning network data teaching research podcast mastodon bluesky python climate design".split()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO feeds_entry (feed_id, identity, title, link, author, published_at, summary, content,
                enclosure_url, enclosure_type, image_url, content_hash, first_seen_at, updated_at, hidden_reason)
            SELECT f.id, 'load:' || g, (%s::text[])[1 + g %% 11] || ' notes number ' || g,
                   'https://load.example.net/posts/' || g, '', now() - (g %% 259200) * interval '1 minute',
                   '<p>About ' || (%s::text[])[1 + (g * 7) %% 11] || ' and ' || (%s::text[])[1 + (g * 3) %% 11] || '.</p>',
                   '<p>Longer text on ' || (%s::text[])[1 + (g * 5) %% 11] || ' for the load test.</p>', '', '', '', '',
                   now(), now(), ''
            FROM generate_series(%s, %s) g
            JOIN LATERAL (SELECT id FROM feeds_feed WHERE url = 'https://load-' || (1 + g %% 1000) || '.example.net/feed.xml') f ON true
            """,
            [words, words, words, words, have + 1, entries],
        )


def scale_up(*, members: int, entries: int, workshops: int, time_entries: int) -> World:
    from feeds.models import Entry
    from members.models import Member, Team

    _scale_members(members)
    _scale_feeds_and_entries(entries)
    extra = _scale_app_data(workshops=workshops, time_entries=time_entries)
    # Fresh planner statistics: right after a bulk load autovacuum has not
    # analyzed yet, and the stream's plan on empty-table estimates is 7x slower.
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    load_members = Member.objects.filter(user__email__endswith="@" + LOAD_DOMAIN)
    member_ids = list(load_members.values_list("id", flat=True))
    manager_ids = list(load_members.filter(user__in=Team.objects.values("manager")).values_list("id", flat=True))
    leader_ids = list(load_members.filter(user__groups__name="Leaders").values_list("id", flat=True))
    entry_ids = list(
        Entry.objects.filter(feed__url__startswith="https://load-")
        .order_by("-published_at")
        .values_list("id", flat=True)[:2000]
    )
    return World(
        members=len(member_ids),
        entries=_count("SELECT count(*) FROM feeds_entry"),
        workshops=extra.get("workshops", 0),
        time_entries=extra.get("time_entries", 0),
        member_ids=member_ids,
        manager_ids=manager_ids,
        leader_ids=leader_ids,
        entry_ids=entry_ids,
        workshop_ids=extra.get("workshop_ids", []),
    )


def _scale_app_data(*, workshops: int, time_entries: int) -> dict:
    """Upcoming workshops (one session each) and several weeks of time entries."""
    from datetime import timedelta

    from members.models import Member
    from workshops.models import Workshop, WorkshopSession

    have = Workshop.objects.filter(title__startswith="Load workshop").count()
    if have < workshops:
        now = timezone.now()
        made = Workshop.objects.bulk_create(
            [
                Workshop(
                    title=f"Load workshop {i}",
                    description="A workshop for the load test.",
                    capacity=30,
                    status=Workshop.Status.PUBLISHED,
                )
                for i in range(have, workshops)
            ]
        )
        WorkshopSession.objects.bulk_create(
            [
                WorkshopSession(
                    workshop=w,
                    starts_at=now + timedelta(days=3 + i % 20),
                    ends_at=now + timedelta(days=3 + i % 20, hours=2),
                    time_zone="UTC",
                    mode=WorkshopSession.Mode.IN_PERSON,
                    room="Room L",
                )
                for i, w in enumerate(made)
            ]
        )
    load_ids = list(Member.objects.filter(user__email__endswith="@" + LOAD_DOMAIN).values_list("id", flat=True))
    have_entries = _count("SELECT count(*) FROM workshops_timeentry WHERE note = 'load'")
    if have_entries < time_entries and load_ids:
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO workshops_timeentry (member_id, member_label, team_id, team_name, date, minutes, activity,
                    source, stream_title, stream_link, note, status, rejection_reason, flag_over_allowance,
                    flag_overlap, flag_timer_capped, version, approver_email, created_at, updated_at)
                SELECT m.id, '', m.team_id, '', current_date - (g %% 120), 15 + (g %% 4) * 15,
                       (ARRAY['seek','sense','share','workshop','mentoring'])[1 + g %% 5], 'manual', '', '', 'load',
                       (ARRAY['approved','approved','submitted','draft'])[1 + g %% 4], '', false, false, false, 1, '',
                       now(), now()
                FROM generate_series(%s, %s) g
                JOIN LATERAL (SELECT id, team_id FROM members_member WHERE id = (%s::int[])[1 + g %% %s]) m ON true
                """,
                [have_entries + 1, time_entries, load_ids, len(load_ids)],
            )
    return {
        "workshops": Workshop.objects.filter(title__startswith="Load workshop").count(),
        "time_entries": _count("SELECT count(*) FROM workshops_timeentry"),
        "workshop_ids": list(Workshop.objects.filter(title__startswith="Load workshop").values_list("id", flat=True)),
    }


# --- Signed-in virtual users ----------------------------------------------------------


def virtual_users(world: World, *, count: int):
    """Sessions created directly in the session store (as a login would)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    from members.models import Member

    from .load import VirtualUser

    rng = random.Random(7)
    picks = [("leader", i) for i in world.leader_ids[:2]] + [
        ("manager", i) for i in world.manager_ids[: max(2, count // 8)]
    ]
    employees = [i for i in world.member_ids if i not in world.manager_ids and i not in world.leader_ids]
    picks += [("employee", i) for i in rng.sample(employees, min(len(employees), count - len(picks)))]
    users = []
    for role, member_id in picks:
        member = Member.objects.select_related("user", "team").get(pk=member_id)
        session = SessionStore()
        session[SESSION_KEY] = str(member.user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = member.user.get_session_auth_hash()
        session.create()
        secret = _get_new_csrf_string()
        cookies = f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={secret}"
        users.append(
            VirtualUser(
                cookies=cookies,
                csrf=_mask_cipher_secret(secret),
                role=role,
                context={
                    "member_id": member_id,
                    "team_id": member.team_id,
                    "entry_ids": world.entry_ids,
                    "world": world,
                },
            )
        )
    return users


# --- The mix ------------------------------------------------------------------------------


def mix_action(user, rng: random.Random):
    """(name, method, url, data, expected statuses) for one request of the mix."""
    from django.urls import reverse

    entry_ids = user.context["entry_ids"]
    roll = rng.random()
    if user.role == "leader" and roll < 0.5:
        return ("dashboard", "GET", reverse("dashboard"), None, {200})
    if roll < 0.35:
        return ("stream", "GET", reverse("feeds:stream"), None, {200})
    if roll < 0.45:
        return ("stream team filter", "GET", f"{reverse('feeds:stream')}?team={user.context['team_id']}", None, {200})
    if roll < 0.55:
        word = rng.choice(["learning", "climate", "python", "mastodon"])
        return ("search", "GET", f"{reverse('feeds:stream')}?q={word}", None, {200})
    if roll < 0.75:
        return ("entry", "GET", reverse("feeds:entry", args=[rng.choice(entry_ids)]), None, {200})
    if roll < 0.85:
        return ("home", "GET", reverse("home"), None, {200})
    return _app_mix_action(user, rng) or ("my pln", "GET", reverse("feeds:my_pln"), None, {200})


def _app_mix_action(user, rng):
    import uuid
    from datetime import timedelta

    from django.urls import reverse

    workshop_ids = user.context["world"].workshop_ids
    roll = rng.random()
    if user.role == "manager" and roll < 0.4:
        return ("approvals", "GET", reverse("workshops:approvals"), None, {200})
    if roll < 0.25:
        return ("workshops", "GET", reverse("workshops:list"), None, {200})
    if roll < 0.5 and workshop_ids:
        return ("workshop detail", "GET", reverse("workshops:detail", args=[rng.choice(workshop_ids)]), None, {200})
    if roll < 0.6 and workshop_ids:
        # Registering again is refused with a message (302 back to the page).
        return ("register", "POST", reverse("workshops:register", args=[rng.choice(workshop_ids)]), {}, {200, 302})
    if roll < 0.8:
        day = (timezone.localdate() - timedelta(days=rng.randint(1, 6))).isoformat()
        data = {
            "date": day,
            "duration": "30",
            "activity": "seek",
            "note": "load test",
            "idempotency_key": str(uuid.uuid4()),
            "confirmed": "30",
        }
        return ("log time", "POST", reverse("workshops:clock_entry_new"), data, {200, 302})
    return ("clock", "GET", reverse("workshops:clock"), None, {200})


def floor_action(user, rng: random.Random):
    from django.urls import reverse

    return ("floor (transparency page)", "GET", reverse("transparency"), None, {200})


# --- Feeds ingested while the site is under load ------------------------------------------


class FeedServer:
    """Serves `count` small RSS feeds from 127.0.0.2-127.0.0.5, honouring ETag."""

    def __init__(self, *, count: int, port: int = 8765):
        self.count = count
        self.port = port
        self.hosts = [f"127.0.0.{i}" for i in range(2, 6)]
        self.hits = 0
        self._servers: list[ThreadingHTTPServer] = []

    def url(self, i: int) -> str:
        return f"http://{self.hosts[i % len(self.hosts)]}:{self.port}/feed/{i}.xml"

    def body(self, i: int) -> bytes:
        now = format_datetime(timezone.now())
        items = "".join(
            f"<item><title>Load feed {i} post {j}</title><link>https://load-feeds.example.net/{i}/{j}</link>"
            f"<guid>load-feed-{i}-{j}</guid><pubDate>{now}</pubDate>"
            f"<description>&lt;p&gt;Post {j} of feed {i} about learning networks.&lt;/p&gt;</description></item>"
            for j in range(20)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Load feed {i}</title>'
            f"<link>https://load-feeds.example.net/{i}</link><description>x</description>{items}</channel></rss>"
        ).encode()

    def start(self) -> None:
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server_self.hits += 1
                try:
                    i = int(self.path.rsplit("/", 1)[-1].removesuffix(".xml"))
                except ValueError:
                    self.send_error(404)
                    return
                etag = f'"load-{i}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                body = server_self.body(i)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for host in self.hosts:
            server = ThreadingHTTPServer((host, self.port), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


def register_feed_server_feeds(server: FeedServer) -> None:
    """Register the served feeds for load members and make them due now."""
    from feeds.models import Feed, Subscription
    from members.models import Member

    members = list(Member.objects.filter(user__email__endswith="@" + LOAD_DOMAIN).order_by("id")[: server.count])
    now = timezone.now()
    for i in range(server.count):
        feed, _ = Feed.objects.update_or_create(
            url=server.url(i),
            defaults={"title": f"Load feed {i}", "next_fetch_at": now, "etag": "", "status": "active"},
        )
        if members:
            Subscription.objects.get_or_create(
                member=members[i % len(members)], feed=feed, defaults={"kind": "source", "is_shared": True}
            )
    server.started_at = time.monotonic()


def ingest_progress(server: FeedServer) -> str:
    from feeds.models import Entry, Feed

    feeds = Feed.objects.filter(url__in=[server.url(i) for i in range(server.count)])
    fetched = feeds.filter(last_success_at__isnull=False).count()
    entries = Entry.objects.filter(feed__in=feeds).count()
    return f"{fetched}/{server.count} feeds fetched, {entries} entries stored, {server.hits} requests served"
