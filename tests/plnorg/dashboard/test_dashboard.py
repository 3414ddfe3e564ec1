"""Leaders' dashboard figures on a small hand-made organization."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import User
from plnorg.dashboard.services import dashboard_compute, dashboard_refresh
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    """Team A (5), Team B (5), Team C (4). Demo people are switched off so the
    figures below are exactly this data set."""
    User.objects.update(is_active=False)
    now = timezone.now()
    long_ago = now - timedelta(days=400)
    teams = {name: TeamFactory(name=name) for name in ("Team A", "Team B", "Team C")}
    people = {}
    for team, size in (("Team A", 5), ("Team B", 5), ("Team C", 4)):
        for i in range(1, size + 1):
            key = f"{team[-1].lower()}{i}"
            people[key] = MemberFactory(team=teams[team], display_name=key)
    type(people["a1"]).objects.filter(pk__in=[m.pk for m in people.values()]).update(created_at=long_ago)
    feeds = {
        "f1": FeedFactory(url="https://example.com/f1.xml", site_url="https://example.com/"),
        "f2": FeedFactory(url="https://www.example.com/f2.xml", site_url="https://www.example.com/"),
        "f3": FeedFactory(url="https://other.org/feed", site_url="https://other.org/"),
        "f4": FeedFactory(url="https://third.net/rss", site_url="https://third.net/"),
        "f5": FeedFactory(url="https://a5.blog/feed", site_url="https://a5.blog/", platform="mastodon"),
        "f6": FeedFactory(url="https://b3.blog/feed", site_url="https://b3.blog/"),
    }
    shared_sources = {"a1": ["f1", "f2"], "a2": ["f1", "f2"], "a3": ["f1"], "b1": ["f3"], "b2": ["f3", "f4", "f1"]}
    for who, feed_keys in shared_sources.items():
        for key in feed_keys:
            SubscriptionFactory(member=people[who], feed=feeds[key], kind="source", is_shared=True, added_at=long_ago)
    SubscriptionFactory(member=people["a4"], feed=feeds["f4"], kind="source", is_shared=False, added_at=long_ago)
    SubscriptionFactory(member=people["a5"], feed=feeds["f5"], kind="account", is_shared=True, added_at=long_ago)
    SubscriptionFactory(member=people["b3"], feed=feeds["f6"], kind="account", is_shared=False, added_at=long_ago)
    for days in (1, 2, 3):
        EntryFactory(feed=feeds["f1"], published_at=now - timedelta(days=days))
    EntryFactory(feed=feeds["f3"], published_at=now - timedelta(days=40))
    EntryFactory(feed=feeds["f5"], published_at=now - timedelta(days=5))
    EntryFactory(feed=feeds["f5"], published_at=now - timedelta(days=6))
    EntryFactory(feed=feeds["f6"], published_at=now - timedelta(days=2))
    return people


def test_headline_figures(org):
    data = dashboard_compute(period="4w")
    head = data["headline"]
    # a1 a2 a3 a4 a5 b1 b2 b3 have something registered (unshared counts as a
    # plain count): 8 of 14 active members.
    assert (head["participating"], head["members"]) == (8, 14)
    assert head["participation_rate"]["current"] == round(8 / 14, 4)
    # a5's shared account published; b3's account is not shared.
    assert head["active_sharers"] == {"current": 1, "previous": 0, "change": 1}
    # f1 (3, shared source) + f5 (2, shared account); f6 is unshared; f3's entry is older.
    assert head["entries"] == {"current": 5, "previous": 1, "change": 4}


def test_network_figures(org):
    network = dashboard_compute(period="4w")["network"]
    # Shared sources f1 (4 people), f2 (2), f3 (2), f4 (1): one of four is followed by one person.
    assert network["unique_reach"] == 0.25
    # Shared source subscriptions by domain: example.com 6, other.org 2, third.net 1.
    p = [6 / 9, 2 / 9, 1 / 9]
    assert network["diversity"] == round(math.exp(-sum(x * math.log(x) for x in p)), 2)
    within = [1.0, 0.5, 0.5, 1 / 3]  # a1-a2, a1-a3, a2-a3, b1-b2
    across = [0, 1 / 4, 0, 1 / 4, 0, 1 / 3]  # a1-b1, a1-b2, a2-b1, a2-b2, a3-b1, a3-b2
    assert network["silo_index"] == round((sum(within) / 4) / (sum(across) / 6), 2)
    assert network["portfolio"]["current"] == 5  # f1 f2 f3 f4 f5 (f4 through b2's shared subscription)


def test_small_teams_never_appear_by_name(org):
    data = dashboard_compute(period="4w")
    assert [row["team"] for row in data["teams"]] == ["Team A", "Team B"]
    team_a = data["teams"][0]
    assert (team_a["members"], team_a["participation_rate"], team_a["active_sharers"]) == (5, 1.0, 1)
    dashboard_refresh(periods=["4w"])
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(email="ceo@example.com"))
    User.objects.filter(email="ceo@example.com").update(is_active=True)
    page = text_of(client.get(reverse("dashboard")))
    assert "Team A" in page and "Team B" in page
    assert "Team C" not in page
    csv_body = client.get(reverse("dashboard_export")).content.decode()
    assert "Team C" not in csv_body
    assert "teams,Team A participation_rate,1.0," in csv_body


def test_network_switch_hides_network_figures(org):
    from members.models import OrganizationSettings

    settings_row = OrganizationSettings.get()
    settings_row.network_figures_enabled = False
    settings_row.save()
    assert dashboard_compute(period="4w")["network"] is None


def test_network_switch_hides_a_stored_snapshots_network_figures_at_once(client_as):
    from members.models import OrganizationSettings
    from plnorg.dashboard.services import dashboard_refresh

    client = client_as("leader")
    (snapshot,) = dashboard_refresh(periods=["4w"])
    assert snapshot.data["network"] is not None
    assert "Network health" in text_of(client.get(reverse("dashboard")))  # and cached
    settings_row = OrganizationSettings.get()
    settings_row.network_figures_enabled = False
    settings_row.save()

    page = text_of(client.get(reverse("dashboard")))
    csv_body = client.get(reverse("dashboard_export")).content.decode()

    assert "Network health" not in page
    assert "Silo index" not in page
    assert "network," not in csv_body
    assert "Headline figures" in page


@pytest.mark.parametrize("persona", ["employee", "manager", "facilitator"])
def test_dashboard_and_export_refused_to_other_roles(persona, client_as):
    client = client_as(persona)
    page = client.get(reverse("dashboard"))
    export = client.get(reverse("dashboard_export"))
    assert (page.status_code, export.status_code) == (403, 403)
    assert "You don't have access to this page" in text_of(page)


def test_period_switch_and_snapshot_time(client_as):
    client = client_as("leader")
    quarter = client.get(reverse("dashboard") + "?period=quarter")
    assert 'option value="quarter" selected' in quarter.content.decode()
    assert "Figures computed" in text_of(quarter)


def test_workshop_figures_and_effect(org):
    from tests.workshops.factories import RegistrationFactory, WorkshopFactory
    from workshops.models import Attendance, Feedback, Workshop

    Workshop.objects.all().delete()  # the demo's workshops; this data set is the whole story
    now = timezone.now()
    workshop = WorkshopFactory(sessions=1, sessions__starts_in=timedelta(days=-40))
    session = workshop.sessions.get()
    attendees = [org[k] for k in ("a1", "a2", "b1", "c1", "c2")]
    for i, member in enumerate(attendees):
        registration = RegistrationFactory(workshop=workshop, member=member)
        Attendance.objects.create(registration=registration, session=session, status=Attendance.Status.ATTENDED)
        Feedback.objects.create(registration=registration, rating=4 if i else 5, created_at=now - timedelta(days=3))
    no_show = RegistrationFactory(workshop=workshop, member=org["c3"])
    Attendance.objects.create(registration=no_show, session=session, status=Attendance.Status.NO_SHOW)
    end = session.ends_at
    # c1 and c2 (attendees) add a shared source 10 days after; b4 (not an attendee) too.
    extra_feed = FeedFactory()
    for who in ("c1", "c2", "b4"):
        SubscriptionFactory(
            member=org[who], feed=extra_feed, kind="source", is_shared=True, added_at=end + timedelta(days=10)
        )
    # c3 adds one 60 days after: inside 90 days only.
    SubscriptionFactory(member=org["c3"], feed=FeedFactory(), is_shared=True, added_at=end + timedelta(days=39))

    data = dashboard_compute(period="quarter")
    figures = {f["key"]: f for f in data["extra_figures"]}
    assert figures["workshop_attendance_rate"]["current"] == round(5 / 6, 4)
    assert figures["workshop_feedback"]["current"] == round((5 + 4 * 4) / 5, 2)
    effect = data["workshop_effect"]
    # 5 attendees; 9 others (14 active - 5).
    assert (effect["attendees"], effect["others"]) == (5, 9)
    assert effect["windows"] == [
        {"days": 30, "attendee_share": round(2 / 5, 4), "other_share": round(1 / 9, 4)},
        {"days": 90, "attendee_share": round(2 / 5, 4), "other_share": round(2 / 9, 4)},
    ]


def test_setup_checklist_for_admins_until_complete(client_as):
    from members.models import Invitation
    from workshops.clock.models import ClockPolicy

    Invitation.objects.all().delete()
    ClockPolicy.objects.all().delete()
    admin = client_as("admin")
    admin_page = text_of(admin.get(reverse("dashboard")))
    assert "Set-up checklist" in admin_page
    assert "done Teams created" in admin_page
    assert "done First workshop published" in admin_page
    assert "to do Members invited" in admin_page
    assert "to do Time policy set (allowance, cost, approval)" in admin_page
    assert "Set-up checklist" not in text_of(client_as("leader").get(reverse("dashboard")))

    # Everything done: the checklist goes, the admin tools stay.
    from plnorg.dashboard.services import setup_checklist

    Invitation.objects.create(
        email="new@example.com",
        token="t-checklist",
        invited_by=User.objects.get(email="admin@example.com"),
        expires_at=timezone.now() + timedelta(days=7),
    )
    ClockPolicy.objects.create(team=None, weekly_allowance_minutes=120)
    from members.models import OrganizationSettings

    org = OrganizationSettings.get()
    org.signup_domains = "example.com"
    org.save()
    assert [item["done"] for item in setup_checklist()] == [True] * 6
    done_page = text_of(admin.get(reverse("dashboard")))
    assert "Set-up checklist" not in done_page
    assert "Admin tools Invite people by email" in done_page


def test_network_feed_health_and_portfolio_growth(org):
    from feeds.models import Feed

    now = timezone.now()
    newest = FeedFactory(url="https://new.example.net/feed", site_url="https://new.example.net/")
    SubscriptionFactory(member=org["a3"], feed=newest, kind="source", is_shared=True, added_at=now - timedelta(days=3))
    Feed.objects.filter(url="https://www.example.com/f2.xml").update(error_count=2)
    # f4 both failing and paused: counted once.
    Feed.objects.filter(url="https://third.net/rss").update(error_count=10, status=Feed.Status.PAUSED)

    network = dashboard_compute(period="4w")["network"]

    # Shared: f1 f2 f3 f4 f5 (long ago) and the new feed (this period).
    assert network["portfolio"] == {"current": 6, "previous": 5, "change": 1}
    # Published in the last 90 days: f1 (days 1-3), f3 (day 40), f5 (days 5-6): 3 of 6.
    assert network["feed_health"] == {"publishing_share": 0.5, "failing": 2, "feeds": 6}


def test_weekly_series_participation_and_entries(org):
    now = timezone.now()
    newcomer = MemberFactory(display_name="late joiner")
    type(newcomer).objects.filter(pk=newcomer.pk).update(created_at=now - timedelta(days=10))

    weeks = dashboard_compute(period="4w", now=now)["weekly"]["weeks"]

    assert len(weeks) == 26
    this_monday = (now - timedelta(days=now.weekday())).date()
    assert weeks[-1]["week"] == this_monday.isoformat()
    assert weeks[0]["week"] == (this_monday - timedelta(weeks=25)).isoformat()
    # 8 of 14 members take part in every week; the late joiner (no sources)
    # counts from the week they joined: 8 of 15.
    joined = now - timedelta(days=10)
    for week in weeks:
        end = datetime.fromisoformat(week["week"]).replace(tzinfo=UTC) + timedelta(days=7)
        assert week["participation_rate"] == (round(8 / 15, 4) if joined < end else round(8 / 14, 4)), week
    # Shared entries (f1 x3, f5 x2, f3 x1; f6 is unshared) in the weeks they fell in.
    expected: dict[str, int] = {}
    for days in (1, 2, 3, 5, 6, 40):
        day = (now - timedelta(days=days)).date()
        monday = (day - timedelta(days=day.weekday())).isoformat()
        expected[monday] = expected.get(monday, 0) + 1
    assert {w["week"]: w["entries"] for w in weeks if w["entries"]} == expected


def test_small_teams_merge_into_other_teams_once_five_people(org):
    before = [row["team"] for row in dashboard_compute(period="4w")["teams"]]
    MemberFactory(display_name="no team", team=None)  # Team C's 4 + 1 without a team = 5

    rows = dashboard_compute(period="4w")["teams"]

    assert before == ["Team A", "Team B"]
    assert [row["team"] for row in rows] == ["Team A", "Team B", "Other teams"]
    other = rows[2]
    assert (other["members"], other["participation_rate"], other["active_sharers"]) == (5, 0.0, 0)


def test_introductions_funnel_suggested_sent_accepted_met_and_crossing(org):
    from plnorg.introductions.models import Introduction, IntroductionSuggestion
    from plnorg.introductions.services.funnel import introduction_funnel

    Introduction.objects.all().delete()
    IntroductionSuggestion.objects.all().delete()
    now = timezone.now()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    at = month + timedelta(hours=1)
    for a, b in (("a1", "b1"), ("a2", "b2"), ("a3", "c1")):
        IntroductionSuggestion.objects.create(
            member_a=org[a], member_b=org[b], score=0.5, source_similarity=0.5, topic_similarity=0.0,
            first_suggested_at=at, computed_at=at,
        )  # fmt: skip
    Introduction.objects.create(member_a=org["a1"], member_b=org["b1"], crosses_teams=True, created_at=at,
                                accepted_at=at, met_at=at)  # fmt: skip
    Introduction.objects.create(member_a=org["a2"], member_b=org["b2"], crosses_teams=True, created_at=at,
                                accepted_at=at)  # fmt: skip
    Introduction.objects.create(member_a=org["a3"], member_b=org["a4"], crosses_teams=False, created_at=at)

    rows = introduction_funnel(months=2, now=now)

    assert [r["month"] for r in rows][-1] == month.date()
    latest = {k: rows[-1][k] for k in ("suggested", "sent", "accepted", "met", "crossing", "crossing_share")}
    assert latest == {"suggested": 3, "sent": 3, "accepted": 2, "met": 1, "crossing": 2, "crossing_share": 0.67}
    assert rows[0]["sent"] == 0 and rows[0]["crossing_share"] is None


def test_dashboard_shows_the_introductions_funnel(client_as):
    page = client_as("leader").get(reverse("dashboard"))
    body = page.content.decode()
    assert "Introductions" in text_of(page)
    from plnorg.introductions.models import Introduction

    sent = Introduction.objects.count()
    assert sent > 0  # the demo has introductions in every state
    assert f'data-funnel="sent">{sent}<' in body


def test_paid_hours_cost_and_breakdowns(org):
    from decimal import Decimal

    from workshops.clock.models import ClockPolicy, TimeEntry

    ClockPolicy.objects.all().delete()
    TimeEntry.objects.all().delete()
    ClockPolicy.objects.create(
        team=None, weekly_allowance_minutes=120, hourly_cost=Decimal("60.00"), approval_required=True
    )
    today = timezone.localdate()
    rows = [
        ("a1", 90, "seek", "approved"),
        ("a2", 30, "share", "approved"),
        ("b1", 60, "sense", "approved"),
        ("c1", 120, "seek", "approved"),  # Team C (4 people) counts in totals, never by name
        ("b2", 45, "seek", "submitted"),  # not approved: not paid yet
    ]
    for who, minutes, activity, status in rows:
        member = org[who]
        TimeEntry.objects.create(
            member=member,
            team=member.team,
            team_name=member.team.name,
            date=today - timedelta(days=2),
            minutes=minutes,
            activity=activity,
            status=status,
        )
    data = dashboard_compute(period="4w")
    figures = {f["key"]: f for f in data["extra_figures"]}
    assert figures["paid_hours"]["current"] == round(300 / 60, 2)
    assert figures["paid_cost"]["current"] == 300.0  # 5 h at 60.00
    # 14 active members × 120 minutes × 29/7 weeks (28 days + today, inclusive)
    assert "of the allowance budget of 116 h" in figures["paid_hours"]["note"]
    assert data["time"]["by_activity"] == [
        {"activity": "seek", "hours": 3.5},
        {"activity": "sense", "hours": 1.0},
        {"activity": "share", "hours": 0.5},
    ]
    # Team C's 4 people would be "Other teams", a group under 5: not shown.
    assert data["time"]["by_team"] == [
        {"team": "Team A", "hours": 2.0},
        {"team": "Team B", "hours": 1.0},
    ]
    assert sum(w["hours"] for w in data["time"]["per_week"]) == 5.0


@pytest.fixture
def clocked_org():
    """Team A (5 people, 60 minutes each) and people without a team (30
    minutes each), all approved two days ago; demo people switched off."""
    from decimal import Decimal

    from workshops.clock.models import ClockPolicy, TimeEntry

    User.objects.update(is_active=False)
    ClockPolicy.objects.all().delete()
    TimeEntry.objects.all().delete()
    ClockPolicy.objects.create(team=None, weekly_allowance_minutes=120, hourly_cost=Decimal("60.00"))

    def build(*, teamless: int) -> None:
        from tests.workshops.clock.factories import TimeEntryFactory

        team = TeamFactory(name="Team A")
        day = timezone.localdate() - timedelta(days=2)
        for i in range(5):
            TimeEntryFactory(member=MemberFactory(team=team, display_name=f"a{i}"), date=day, minutes=60,
                             status="approved")  # fmt: skip
        for i in range(teamless):
            TimeEntryFactory(member=MemberFactory(team=None, display_name=f"n{i}"), date=day, minutes=30,
                             status="approved")  # fmt: skip

    return build


@pytest.mark.parametrize(
    ("teamless", "by_team", "paid_hours"),
    [
        # 4 people without a team: a group under 5, counted in totals, never shown.
        (4, [{"team": "Team A", "hours": 5.0}], 7.0),
        # 5 people without a team: shown as "Other teams" (this used to raise KeyError: None).
        (5, [{"team": "Other teams", "hours": 2.5}, {"team": "Team A", "hours": 5.0}], 7.5),
    ],
)
def test_refresh_folds_time_of_members_without_a_team_into_other_teams(clocked_org, teamless, by_team, paid_hours):
    clocked_org(teamless=teamless)

    snapshots = dashboard_refresh()

    assert [s.period for s in snapshots] == ["4w", "quarter", "year"]
    data = snapshots[0].data
    assert data["time"]["by_team"] == by_team
    assert {f["key"]: f["current"] for f in data["extra_figures"]}["paid_hours"] == paid_hours


def _snapshot_times() -> dict:
    from plnorg.dashboard.models import DashboardSnapshot

    return dict(DashboardSnapshot.objects.values_list("period", "computed_at"))


def test_failed_refresh_is_logged_keeps_the_last_figures_and_says_they_are_stale(client_as, persona_user, caplog):
    from django.db import connection
    from django.utils.formats import date_format

    from plnorg.dashboard.models import DashboardSnapshot
    from plnorg.dashboard.services import DashboardRefreshError

    dashboard_refresh()
    last_good = timezone.now() - timedelta(hours=3)
    DashboardSnapshot.objects.update(computed_at=last_good)
    stored = {s.period: s.data for s in DashboardSnapshot.objects.all()}
    # A real failure inside the computation: the time entries' table is gone
    # (rolled back with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE workshops_timeentry RENAME TO workshops_timeentry_away")

    with pytest.raises(DashboardRefreshError, match="not computed for: 4w, quarter, year"):
        dashboard_refresh()

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE workshops_timeentry_away RENAME TO workshops_timeentry")
    errors = [r for r in caplog.records if r.name == "plnorg.dashboard.services" and r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [
        f"Dashboard figures for period {period} could not be computed; leaders keep seeing the snapshot of "
        f"{last_good.isoformat()}"
        for period in ("4w", "quarter", "year")
    ]
    assert all(r.exc_info[0].__name__ == "ProgrammingError" for r in errors)
    assert _snapshot_times() == {"4w": last_good, "quarter": last_good, "year": last_good}
    assert {s.period: s.data for s in DashboardSnapshot.objects.all()} == stored

    page = text_of(client_as("leader").get(reverse("dashboard")))
    when = date_format(timezone.localtime(last_good, persona_user("leader").member.tzinfo), "j M Y, H:i")
    assert (
        f"These figures have not been refreshed since {when} (3 hours ago). They are normally refreshed every 30 "
        "minutes; the latest refreshes did not succeed, so you are seeing the most recent figures available. The "
        "cause is in the server log for an administrator, and newer figures will appear here on their own once a "
        "refresh succeeds."
    ) in page
    assert "Headline figures" in page

    health = client_as("anonymous").get("/healthz")
    report = health.json()
    assert (health.status_code, report["status"]) == (200, "ok")
    assert (report["dashboard_computed_at"], report["dashboard_stale"]) == (last_good.isoformat(), True)
    assert 3 * 3600 <= report["dashboard_age_seconds"] <= 3 * 3600 + 60


def test_one_failing_period_does_not_hold_back_the_others(caplog):
    from plnorg.dashboard.services import DashboardRefreshError

    dashboard_refresh()
    before = _snapshot_times()

    with pytest.raises(DashboardRefreshError, match="not computed for: fortnight"):
        dashboard_refresh(periods=["4w", "fortnight", "year"])

    after = _snapshot_times()
    assert after["4w"] > before["4w"] and after["year"] > before["year"]
    assert after["quarter"] == before["quarter"]
    (error,) = [r for r in caplog.records if r.name == "plnorg.dashboard.services"]
    assert error.getMessage().startswith("Dashboard figures for period fortnight could not be computed")
    assert error.exc_info[0] is KeyError


def test_fresh_figures_carry_no_stale_warning(client_as):
    from plnorg.dashboard.models import DashboardSnapshot

    dashboard_refresh()
    DashboardSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=50))

    page = text_of(client_as("leader").get(reverse("dashboard")))
    report = client_as("anonymous").get("/healthz").json()

    assert "Figures computed" in page
    assert "have not been refreshed" not in page
    assert report["dashboard_stale"] is False
