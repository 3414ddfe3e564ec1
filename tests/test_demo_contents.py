"""What `seed_demo` promises (issues 2, 8, 9, 10 and 11), checked against the
demo organization seeded once for the test run (tests/conftest.py)."""

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from feeds.models import (
    Entry,
    EntryLink,
    Feed,
    Pick,
    Recommendation,
    SavedEntry,
    StarterPack,
    StarterPackItem,
    Subscription,
)
from feeds.network import network_figures_compute
from members.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_email
from members.models import FACILITATORS, LEADERS, Member, Team, User
from plnorg.dashboard.models import DashboardSnapshot
from plnorg.introductions.models import Introduction, IntroductionSuggestion
from tests.pages import text_of
from workshops.clock.models import ClockPolicy, TimeEntry, TimeEntryHistory
from workshops.models import (
    Attendance,
    Feedback,
    Registration,
    RegistrationEvent,
    Resource,
    Topic,
    Workshop,
    WorkshopSession,
)

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parent.parent / "README.md"


def member(local: str) -> Member:
    return Member.objects.select_related("user", "team").get(user__email=demo_email(local))


# --- People and logins (issue 2) ------------------------------------------------------


def test_teams_of_five_or_more_one_team_of_three_and_two_people_without_a_team():
    sizes = dict(Team.objects.annotate(n=Count("members")).values_list("name", "n"))
    assert sizes == {
        "Leadership": 5,
        "Engineering": 7,
        "Research": 6,
        "Customer Success": 6,
        "Learning & Development": 5,
        "Design": 3,
    }
    without_team = Member.objects.filter(team__isnull=True).values_list("user__email", flat=True)
    assert sorted(without_team) == ["admin@example.com", "iris@example.com"]
    assert Member.objects.active().count() == User.objects.filter(is_active=True).count() == 34


def test_every_team_has_a_manager_in_the_team_and_leadership_above_it():
    for team in Team.objects.select_related("manager__member", "parent"):
        assert team.manager.member.team_id == team.pk, team.name
        assert (team.parent.name if team.parent else None) == (None if team.name == "Leadership" else "Leadership")


def test_roles_of_the_demo_logins():
    assert list(User.objects.filter(is_staff=True).values_list("email", flat=True)) == ["admin@example.com"]
    assert list(Group.objects.get(name=LEADERS).user_set.values_list("email", flat=True)) == ["ceo@example.com"]
    facilitators = Group.objects.get(name=FACILITATORS).user_set.values_list("email", flat=True)
    assert sorted(facilitators) == ["facilitator@example.com", "kofi@example.com"]
    assert Team.objects.get(manager__email="manager@example.com").name == "Engineering"
    assert member("employee").team.name == "Engineering"
    newcomer = member("newcomer")
    assert not Subscription.objects.filter(member=newcomer).exists()
    assert not Registration.objects.filter(member=newcomer).exists()
    assert not TimeEntry.objects.filter(member=newcomer).exists()


@pytest.mark.parametrize("local", [local for _role, local, _what in DEMO_LOGINS])
def test_each_demo_login_signs_in_with_the_demo_password(client, local):
    user = User.objects.get(email=demo_email(local))
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()

    response = client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})

    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert int(client.session["_auth_user_id"]) == user.pk


def test_readme_lists_the_demo_logins_seed_demo_prints():
    section = README.read_text(encoding="utf-8").split("### Demo logins", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| (\S+@example\.com) \| ([^|]+?) \|$", section, re.M)
    assert rows == [(role, demo_email(local), what) for role, local, what in DEMO_LOGINS]
    assert f"`{DEMO_PASSWORD}`" in section


# --- Idempotent ----------------------------------------------------------------------

COUNTED = [
    Team,
    User,
    Member,
    EmailAddress,
    Feed,
    Entry,
    EntryLink,
    Subscription,
    Pick,
    SavedEntry,
    Recommendation,
    StarterPack,
    StarterPackItem,
    Topic,
    Resource,
    Workshop,
    WorkshopSession,
    Registration,
    RegistrationEvent,
    Attendance,
    Feedback,
    ClockPolicy,
    TimeEntry,
    TimeEntryHistory,
    Introduction,
    IntroductionSuggestion,
    DashboardSnapshot,
]


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    counts["group members"] = User.groups.through.objects.count()
    return counts


def test_seed_demo_again_adds_nothing_and_prints_the_logins():
    before = _counts()
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert _counts() == before
    printed = out.getvalue()
    assert "Demo organization ready." in printed
    assert f"password for all: {DEMO_PASSWORD}" in printed
    for _role, local, _what in DEMO_LOGINS:
        assert demo_email(local) in printed


# --- Curation and the network view (issue 8) -------------------------------------------


def test_picks_saves_recommendations_and_starter_packs():
    picks = Pick.objects.select_related("entry__feed", "picked_by__user")
    assert sorted(p.entry.feed.title for p in picks) == [
        "Data Science Explained",
        "Networked Learning Podcast",
        "Reliability Weekly",
    ]
    assert {p.picked_by.user.email for p in picks} == {"facilitator@example.com"}
    assert all(p.note for p in picks)
    assert SavedEntry.objects.count() == 7
    assert SavedEntry.objects.filter(member=member("employee")).count() == 2
    to_employee = Recommendation.objects.filter(recipient=member("employee"))
    assert sorted(to_employee.values_list("sender__user__email", flat=True)) == [
        "facilitator@example.com",
        "manager@example.com",
    ]
    assert Recommendation.objects.count() == 4
    packs = dict(StarterPack.objects.annotate(n=Count("items")).values_list("title", "n"))
    assert packs == {"Data science starter pack": 3, "Learning in the open": 3, "Python and the web": 3}


def test_network_figures_have_every_list_filled():
    figures = network_figures_compute()

    assert [(s.title, s.count) for s in figures.shared_sources[:2]] == [
        ("Networked Learning Podcast", 6),
        ("@edtechvoices.bsky.social", 4),
    ]
    assert len(figures.shared_sources) == 11
    assert [(s.title, [p.name for p in s.people]) for s in figures.single_sources] == [
        ("Rhea Lindqvist – Research Methods", ["Iris Quinn"])
    ]
    assert len(figures.links) >= 5 and all(link.count >= 2 for link in figures.links)
    assert {"operations", "reliability"} <= {r.topic for r in figures.rising}
    assert [p.person.name for p in figures.people_by_topic["research"][:1]] == ["Tomás Ruiz"]


def test_network_page_shows_no_empty_list_to_a_member(client_as):
    response = client_as("employee").get(reverse("feeds:network"))

    assert response.status_code == 200
    assert 'class="empty-state"' not in response.content.decode()
    body = text_of(response)
    assert "colleagues share a podcast you don't follow: Networked Learning Podcast" in body
    assert "Rhea Lindqvist – Research Methods — Iris Quinn" in body


# --- Workshops (issue 9) -------------------------------------------------------------------


def test_workshops_past_upcoming_and_draft():
    now = timezone.now()
    workshops = {w.title: w for w in Workshop.objects.all()}
    assert {title: w.status for title, w in workshops.items()} == {
        "What is a PLN?": "finished",
        "Curating your sources": "finished",
        "Share what you learn": "finished",
        "Mastodon for researchers": "published",
        "Blogging to learn": "published",
        "Podcasts as a learning source": "draft",
    }
    past = WorkshopSession.objects.filter(ends_at__lt=now).values_list("workshop__title", flat=True)
    assert set(past) == {"What is a PLN?", "Curating your sources", "Share what you learn"}
    assert not WorkshopSession.objects.filter(workshop__status="published", starts_at__lt=now).exists()


def test_a_full_upcoming_workshop_has_a_waitlist():
    mastodon = Workshop.objects.get(title="Mastodon for researchers")
    registered = mastodon.registrations.filter(status="registered").count()
    waitlist = mastodon.registrations.filter(status="waitlisted").order_by("waitlist_position")
    assert registered == mastodon.capacity == 6
    assert [(r.waitlist_position, r.member.user.email) for r in waitlist] == [
        (1, "dana@example.com"),
        (2, "employee@example.com"),
        (3, "chen@example.com"),
    ]
    assert Registration.objects.filter(workshop__title="Blogging to learn", status="registered").count() == 4


def test_attendance_in_every_state_and_feedback_after_each_past_workshop():
    assert set(Attendance.objects.values_list("status", flat=True)) == {"attended", "partial", "no_show", "excused"}
    statuses = set(Registration.objects.values_list("status", flat=True))
    assert statuses == {"registered", "waitlisted", "attended", "partial", "no_show", "excused"}
    answers = dict(
        Feedback.objects.values("registration__workshop__title")
        .annotate(n=Count("id"))
        .values_list("registration__workshop__title", "n")
    )
    assert answers == {"What is a PLN?": 7, "Curating your sources": 5, "Share what you learn": 7}
    for feedback in Feedback.objects.select_related("registration__workshop"):
        last_session = feedback.registration.workshop.sessions.order_by("-ends_at").first()
        assert feedback.created_at > last_session.ends_at
        assert feedback.registration.status in ("attended", "partial")
    # Every registration has its history.
    assert not Registration.objects.annotate(n=Count("events")).filter(n=0).exists()


# --- Time on the clock (issue 10) ---------------------------------------------------------


def test_policies_default_and_research_override():
    policies = {
        (p.team.name if p.team else None): (p.weekly_allowance_minutes, str(p.hourly_cost), p.approval_required)
        for p in ClockPolicy.objects.select_related("team")
    }
    assert policies == {None: (120, "60.00", True), "Research": (180, "55.00", True)}


def test_time_entries_in_every_state():
    manual = TimeEntry.objects.live().filter(source="manual")
    by_status = dict(manual.values("status").annotate(n=Count("id")).values_list("status", "n"))
    weekday = timezone.localdate().weekday()
    # 20 people record Seek (Mon), Sense (Tue) and Share (Wed); 3 mentors also Mentoring (Thu).
    assert by_status["submitted"] == 20 * 3 + 3  # last week
    assert by_status["rejected"] == 20  # the Share entry two weeks back
    drafts = 20 * sum(1 for day in (0, 1, 2) if day <= weekday) + 3 * (weekday >= 3)
    assert by_status.get("draft", 0) == drafts  # this week, so far
    assert by_status["approved"] > 300
    assert not manual.filter(status="rejected", rejection_reason="").exists()
    decided = manual.filter(status__in=["approved", "rejected"])
    assert not decided.filter(approved_by__isnull=True).exists()
    assert set(decided.filter(member__team__name="Engineering").exclude(member__user__email="manager@example.com")
               .values_list("approved_by__email", flat=True)) == {"manager@example.com"}  # fmt: skip
    assert set(manual.filter(flag_over_allowance=True).values_list("activity", flat=True)) == {"mentoring"}
    assert set(TimeEntry.objects.live().values_list("activity", flat=True)) == {
        "seek",
        "sense",
        "share",
        "workshop",
        "mentoring",
    }
    assert not TimeEntry.objects.annotate(n=Count("history")).filter(n=0).exists()


def test_attendance_made_one_approved_workshop_entry_per_attended_session():
    came = Attendance.objects.filter(status__in=["attended", "partial"])
    entries = TimeEntry.objects.live().filter(source="attendance")
    # "What is a PLN?" 7 people x 2 sessions + Eli's 2; "Curating your sources" 6; "Share what you learn" 9.
    assert entries.count() == came.count() == 16 + 6 + 9
    assert entries.aggregate(m=Sum("minutes"))["m"] == came.aggregate(m=Sum("minutes"))["m"]
    assert set(entries.values_list("status", "activity")) == {("approved", "workshop")}


def test_nobody_has_time_or_subscriptions_before_joining():
    for person in Member.objects.all():
        joined = person.created_at
        assert not Subscription.objects.filter(member=person, added_at__lt=joined).exists(), person
        assert not TimeEntry.objects.filter(member=person, date__lt=timezone.localdate(joined)).exists(), person
        assert not Registration.objects.filter(member=person, created_at__lt=joined).exists(), person


# --- The leaders' dashboard (issue 11) -----------------------------------------------------

HEADLINES = [
    "Participation",
    "Active sharers",
    "Entries flowing in",
    "Paid PLN hours",
    "Cost of PLN time",
    "Workshop attendance",
    "Workshop feedback",
]
CHARTS = [
    "participation",
    "entries",
    "platforms",
    "teams",
    "hours-per-week",
    "hours-by-activity",
    "hours-by-team",
]
CARD = re.compile(r'<div class="card">\s*<h3>(.*?)</h3>\s*<p class="figure">(.*?)</p>(.*?)</div>', re.S)


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def _chart_rows(html: str, chart_id: str) -> list[list[str]]:
    start = html.index(f'id="chart-{chart_id}"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [
        [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


@pytest.fixture
def ceo_client(client):
    client.force_login(User.objects.get(email="ceo@example.com"))
    return client


@pytest.mark.parametrize("period", ["4w", "quarter", "year"])
def test_dashboard_headline_figures_all_have_a_value(ceo_client, period):
    html = ceo_client.get(reverse("dashboard"), {"period": period}).content.decode()

    cards = CARD.findall(_section(html, "headline-title"))
    assert [text_of(label) for label, _value, _rest in cards] == HEADLINES
    assert [label for label, value, _rest in cards if text_of(value) in ("", "–")] == []
    if period != "year":  # nothing is older than a year: no trend then
        assert [label for label, _value, rest in cards if "in the previous period" not in rest] == []
        assert "vs –" not in text_of(_section(html, "headline-title"))


def test_dashboard_headline_values_for_the_last_four_weeks(ceo_client):
    body = text_of(_section(ceo_client.get(reverse("dashboard")).content.decode(), "headline-title"))
    # 33 of the 34 members have registered something: everyone but the newcomer.
    assert "Participation 97%" in body
    assert "Workshop attendance 90%" in body  # "Share what you learn": 9 of 10 (1 excused)


@pytest.mark.parametrize("period", ["4w", "quarter", "year"])
def test_dashboard_every_chart_has_data_rows(ceo_client, period):
    html = ceo_client.get(reverse("dashboard"), {"period": period}).content.decode()

    assert re.findall(r'<figure class="chart card" id="chart-([\w-]+)">', html) == CHARTS
    for chart in CHARTS:
        rows = _chart_rows(html, chart)
        values = [cell for row in rows for cell in row[1:]]
        assert rows, chart
        assert any(v not in ("–", "0", "0.0") for v in values), chart
    assert len(_chart_rows(html, "participation")) == len(_chart_rows(html, "hours-per-week")) == 26
    assert "–" not in {row[1] for row in _chart_rows(html, "participation")}
    activities = [row[0] for row in _chart_rows(html, "hours-by-activity")]
    assert sorted(activities) == ["Mentoring", "Seek", "Sense", "Share", "Workshop"]


def test_dashboard_teams_of_five_and_other_teams(ceo_client):
    html = ceo_client.get(reverse("dashboard")).content.decode()

    teams = [(row[0], row[1]) for row in _chart_rows(html, "teams")]
    assert teams == [
        ("Customer Success", "6"),
        ("Engineering", "7"),
        ("Leadership", "5"),
        ("Learning & Development", "5"),
        ("Research", "6"),
        ("Other teams", "5"),  # Design (3), the admin and the trainee without a team
    ]
    hours_teams = [row[0] for row in _chart_rows(html, "hours-by-team")]
    assert hours_teams == [
        "Customer Success",
        "Engineering",
        "Leadership",
        "Learning & Development",
        "Other teams",
        "Research",
    ]
    assert "Design" not in text_of(html)


def test_dashboard_network_health_and_workshop_effect_are_shown(ceo_client):
    html = ceo_client.get(reverse("dashboard")).content.decode()

    network = CARD.findall(_section(html, "network-title"))
    assert [text_of(label) for label, _v, _r in network] == [
        "Portfolio",
        "Unique reach",
        "Source diversity",
        "Silo index",
        "Feed health",
    ]
    assert [label for label, value, _r in network if text_of(value) in ("", "–")] == []
    assert "Unique reach 8%" in text_of(_section(html, "network-title"))  # 1 of 12 shared sources
    effect = text_of(_section(html, "effect-title"))
    assert "22 attendees vs 12 members who did not attend" in effect
    snapshot = DashboardSnapshot.objects.get(period="4w").data["workshop_effect"]
    for window in snapshot["windows"]:
        assert window["attendee_share"] > window["other_share"] > 0


def test_dashboard_snapshots_cover_every_period_and_are_fresh():
    snapshots = dict(DashboardSnapshot.objects.values_list("period", "computed_at"))
    assert set(snapshots) == {"4w", "quarter", "year"}
    assert all(timezone.now() - at < dt.timedelta(hours=6) for at in snapshots.values())
