"""Approvals beyond single entries: rejecting a whole week (service and the
button on the approvals page), who approves a manager's own time when there is
no manager above them, and the export's team filter."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from members.models import OutboundEmail, Team
from tests.factories import MemberFactory, TeamFactory
from tests.pages import client_for, text_of
from tests.workshops.clock.factories import TimeEntryFactory
from workshops.clock import services as svc
from workshops.clock.models import TimeEntry

pytestmark = pytest.mark.django_db

APPROVALS = reverse("workshops:approvals")
EMPTY_APPROVALS = "Nothing waiting for approval. Submitted weeks appear here."
MONDAY = dt.date(2021, 6, 7)  # long before the demo organization's entries


def submitted(member, day, minutes, activity="seek"):
    return TimeEntryFactory(member=member, date=day, minutes=minutes, activity=activity, status="submitted")


# --- Rejecting a whole week ----------------------------------------------------------------


@pytest.fixture
def week(worker):
    """Two submitted entries and a draft in one week, one submitted entry the week after."""
    return {
        "first": submitted(worker, MONDAY, 20),
        "second": submitted(worker, MONDAY + dt.timedelta(days=2), 45, activity="share"),
        "draft": TimeEntryFactory(member=worker, date=MONDAY + dt.timedelta(days=3), minutes=10),
        "next_week": submitted(worker, MONDAY + dt.timedelta(days=7), 30),
    }


def statuses(entries: dict) -> dict:
    return {name: TimeEntry.objects.get(pk=e.pk).status for name, e in entries.items()}


def test_week_reject_rejects_the_weeks_submitted_entries_and_tells_the_person(team, worker, week):
    count = svc.week_reject(member=worker, week_start=MONDAY, actor=team.manager, reason="Say which posts you read")

    assert count == 2
    assert statuses(week) == {"first": "rejected", "second": "rejected", "draft": "draft", "next_week": "submitted"}
    first = TimeEntry.objects.get(pk=week["first"].pk)
    assert (first.rejection_reason, first.approver_email, first.version) == (
        "Say which posts you read",
        "zelda.boss@example.org",
        2,
    )
    change = first.history.get()
    assert (change.action, change.actor_email, change.reason) == (
        "rejected",
        "zelda.boss@example.org",
        "Say which posts you read",
    )
    assert (change.before["status"], change.after["status"]) == ("submitted", "rejected")
    mail = OutboundEmail.objects.get(to="walt.worker@example.org")
    assert (mail.kind, mail.subject) == ("clock_rejected", "Time not approved: Say which posts you read")
    assert mail.body_text.splitlines() == [
        "Zelda Boss did not approve this time:",
        "",
        "- 2021-06-07 20 min Seek",
        "- 2021-06-09 45 min Share",
        "",
        "Reason: Say which posts you read",
        "",
        "You can correct the entries on your timesheet and submit them again.",
    ]


def test_week_reject_refuses_without_a_reason_or_by_someone_else(team, worker, week):
    stranger = MemberFactory(team=None).user
    TeamFactory(manager=stranger)

    with pytest.raises(svc.ClockRefused, match="Give a reason so the person knows what to change."):
        svc.week_reject(member=worker, week_start=MONDAY, actor=team.manager, reason="   ")
    with pytest.raises(svc.ClockRefused, match="You do not approve this person's time."):
        svc.week_reject(member=worker, week_start=MONDAY, actor=stranger, reason="No")

    assert statuses(week) == {"first": "submitted", "second": "submitted", "draft": "draft", "next_week": "submitted"}
    assert not OutboundEmail.objects.filter(to="walt.worker@example.org").exists()


def test_reject_the_week_button_needs_a_reason(team, worker, week):
    client = client_for(team.manager)
    page = client.get(APPROVALS).content.decode()
    key = f"{worker.pk}:2021-06-07"
    assert re.findall(r'name="reject_week" value="([^"]+)"', page) == [key, f"{worker.pk}:2021-06-14"]
    reason_field = f"reason_week_{worker.pk}_2021-06-07"
    assert f'<label for="{reason_field}">Reason to reject the week</label>' in page

    response = client.post(APPROVALS, {"reject_week": key, reason_field: ""}, follow=True)

    assert "Give a reason so the person knows what to change." in text_of(response)
    assert statuses(week) == {"first": "submitted", "second": "submitted", "draft": "draft", "next_week": "submitted"}
    assert not OutboundEmail.objects.filter(to="walt.worker@example.org").exists()


def test_reject_the_week_button_rejects_it_and_the_member_sees_why(team, worker, week):
    client = client_for(team.manager)
    key = f"{worker.pk}:2021-06-07"

    response = client.post(
        APPROVALS, {"reject_week": key, f"reason_week_{worker.pk}_2021-06-07": "Say which posts"}, follow=True
    )

    body = text_of(response)
    assert "Week rejected: 2 entries; the person was told why." in body
    assert "Walt Worker · week of 7 Jun 2021" not in body
    assert "Walt Worker · week of 14 Jun 2021 · 30 min" in body
    assert statuses(week) == {"first": "rejected", "second": "rejected", "draft": "draft", "next_week": "submitted"}
    assert OutboundEmail.objects.filter(to="walt.worker@example.org", kind="clock_rejected").count() == 1
    timesheet = text_of(client_for(worker.user).get(reverse("workshops:clock"), {"week": "2021-06-07"}))
    assert timesheet.count("Not approved: Say which posts") == 2


def test_another_teams_manager_cannot_reject_the_week(worker, week):
    other_boss = MemberFactory(team=None)
    TeamFactory(manager=other_boss.user)
    client = client_for(other_boss.user)

    response = client.post(
        APPROVALS, {"reject_week": f"{worker.pk}:2021-06-07", f"reason_week_{worker.pk}_2021-06-07": "No"}
    )

    assert response.status_code == 404
    assert statuses(week) == {"first": "submitted", "second": "submitted", "draft": "draft", "next_week": "submitted"}
    assert not OutboundEmail.objects.filter(to="walt.worker@example.org").exists()


# --- A manager's own time ------------------------------------------------------------------


@pytest.mark.parametrize("parent", ["none", "without a manager"])
def test_a_managers_own_time_goes_to_an_admin_when_nobody_manages_above(persona_user, parent):
    boss = MemberFactory(team=None, display_name="Aaron Topmost", user__email="aaron.topmost@example.org")
    top = TeamFactory(
        name="Zz Top Team",
        manager=boss.user,
        parent=TeamFactory(name="Zz Unmanaged Parent") if parent == "without a manager" else None,
    )
    boss.team = top
    boss.save()
    colleague = MemberFactory(team=top)
    other_manager = persona_user("manager")  # manages Engineering
    admin = persona_user("admin")
    entry = submitted(boss, MONDAY, 40)

    assert svc.approver_id_of(boss) is None
    assert (svc.can_approve(boss.user, boss), svc.can_approve(other_manager, boss), svc.can_approve(admin, boss)) == (
        False,
        False,
        True,
    )
    assert list(svc.members_approvable_by(boss.user)) == [colleague]
    boss_page = text_of(client_for(boss.user).get(APPROVALS))
    assert EMPTY_APPROVALS in boss_page and "Aaron Topmost" not in boss_page
    assert "Aaron Topmost" not in text_of(client_for(other_manager).get(APPROVALS))
    admin_client = client_for(admin)
    assert "Aaron Topmost · week of 7 Jun 2021 · 40 min" in text_of(admin_client.get(APPROVALS))
    client_for(boss.user).post(APPROVALS, {"approve": entry.pk})
    assert TimeEntry.objects.get(pk=entry.pk).status == "submitted"

    admin_client.post(APPROVALS, {"approve": entry.pk})

    entry.refresh_from_db()
    assert (entry.status, entry.approved_by_id, entry.approver_email) == ("approved", admin.pk, admin.email)


def test_a_managers_own_time_goes_to_the_parent_teams_manager_when_there_is_one(persona_user):
    """The demo's Engineering manager reports to the Leadership team's manager."""
    manager = persona_user("manager")
    ceo = persona_user("leader")
    assert svc.approver_id_of(manager.member) == ceo.pk
    entry = submitted(manager.member, MONDAY, 25)

    client_for(ceo).post(APPROVALS, {"approve": entry.pk})

    assert TimeEntry.objects.get(pk=entry.pk).approver_email == ceo.email


# --- The export's team filter --------------------------------------------------------------


@pytest.fixture
def two_teams(persona_user):
    engineering = persona_user("employee").member.team
    research = Team.objects.get(name="Research")
    ana = persona_user("employee").member
    ben = MemberFactory(team=engineering)
    sam = MemberFactory(team=research)
    day = dt.date(2021, 3, 2)
    for person, minutes in ((ana, 11), (ben, 12), (sam, 13)):
        TimeEntryFactory(member=person, date=day, minutes=minutes, status="approved", approver_email="a@example.org")
        TimeEntryFactory(member=person, date=day, minutes=minutes + 10, status="submitted")
    return engineering, research, ana, ben, sam


def export_rows(client, **params):
    response = client.get(reverse("workshops:clock_export_csv"), {"start": "2021-03-01", "end": "2021-03-31", **params})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]


def test_export_team_filter_gives_that_teams_rows_only(client_as, two_teams):
    engineering, research, ana, ben, sam = two_teams
    admin = client_as("admin")

    all_rows = export_rows(admin)
    engineering_rows = export_rows(admin, team=engineering.pk)
    research_approved = export_rows(admin, team=research.pk, status="approved")

    assert len(all_rows) == 6
    assert [(r[0], r[1], r[3], r[5]) for r in engineering_rows] == [
        (ana.user.email, "Engineering", "11", "approved"),
        (ana.user.email, "Engineering", "21", "submitted"),
        (ben.user.email, "Engineering", "12", "approved"),
        (ben.user.email, "Engineering", "22", "submitted"),
    ]
    assert research_approved == [[sam.user.email, "Research", "2021-03-02", "13", "seek", "approved", "a@example.org"]]


def test_export_team_filter_follows_the_team_the_time_was_recorded_in(client_as, two_teams):
    engineering, research, ana, ben, sam = two_teams
    ben.team = research
    ben.save()

    rows = export_rows(client_as("admin"), team=engineering.pk)

    assert [(r[0], r[3]) for r in rows] == [
        (ana.user.email, "11"),
        (ana.user.email, "21"),
        (ben.user.email, "12"),
        (ben.user.email, "22"),
    ]


def test_a_manager_cannot_export_another_team(client_as, two_teams):
    engineering, research, ana, ben, sam = two_teams
    manager = client_as("manager")

    page = manager.get(reverse("workshops:clock_export")).content.decode()
    refused = manager.get(
        reverse("workshops:clock_export_csv"), {"start": "2021-03-01", "end": "2021-03-31", "team": research.pk}
    )

    assert f'<option value="{engineering.pk}">Engineering</option>' in page
    assert f'<option value="{research.pk}">' not in page
    assert refused.status_code == 404
    assert [(r[0], r[3]) for r in export_rows(manager, team=engineering.pk, status="approved")] == [
        (ana.user.email, "11"),
        (ben.user.email, "12"),
    ]
