"""Approvals beyond single entries: rejecting a whole week (service and the
button on the approvals page), who approves a manager's own time when there is
no manager above them, and the export's team filter."""

import csv
import datetime as dt
import io
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.models import OutboundEmail, Team
from tests.factories import MemberFactory, TeamFactory
from tests.pages import client_for, text_of
from tests.workshops.clock.factories import TimeEntryFactory
from workshops.clock import services as svc
from workshops.clock.models import ClockPolicy, TimeEntry

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


def test_an_approval_row_escapes_the_note_truncates_it_at_80_and_shows_the_flags(team, worker):
    """The rows are built in Python, not the template: every value is escaped
    and a long note cut as Truncator cuts it (NFC, ellipsis at 80)."""
    plain = submitted(worker, MONDAY, 20)
    TimeEntry.objects.filter(pk=plain.pk).update(note='<b>Read "x" & y</b>', flag_overlap=True)
    long = submitted(worker, MONDAY + dt.timedelta(days=1), 30, activity="share")
    TimeEntry.objects.filter(pk=long.pk).update(note="e\u0301" * 90, flag_over_allowance=True)

    page = client_for(team.manager).get(APPROVALS).content.decode()

    review = reverse("workshops:approval_entry", args=[plain.pk])
    assert (
        f'<tr><td><input type="checkbox" name="entries" value="{plain.pk}" id="sel-{plain.pk}">'
        f'<label class="visually-hidden" for="sel-{plain.pk}">Select 7 Jun</label></td>'
        f'<td><a href="{review}">Mon 7 Jun</a></td><td>20</td>'
        '<td>Seek <span class="badge badge-warn">overlap</span></td>'
        "<td>&lt;b&gt;Read &quot;x&quot; &amp; y&lt;/b&gt;</td>"
        f'<td><button type="submit" name="approve" value="{plain.pk}">Approve</button> '
        f'<label for="reason-{plain.pk}">Reason to reject</label> '
        f'<input type="text" name="reason_{plain.pk}" id="reason-{plain.pk}" maxlength="2000"> '
        f'<button type="submit" name="reject" value="{plain.pk}" class="secondary">Reject</button></td></tr>'
    ) in page
    cut = "\u00e9" * 79 + "\u2026"
    assert f'<td>Share <span class="badge badge-warn">over</span></td><td>{cut}</td>' in page


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


# --- The approval chain at any depth (issue 23 item 13) ------------------------------------


def _tree(levels):
    """Teams nested top down; each level is (team name, manager name or None,
    [member names]). Returns the members by name."""
    names = {name for _team, manager, members in levels for name in [manager, *members] if name}
    people = {
        name: MemberFactory(team=None, display_name=name, user__email=f"{name.lower()}.tree@example.org")
        for name in sorted(names)
    }
    parent = None
    for team_name, manager, members in levels:
        manager_user = people[manager].user if manager else None
        parent = TeamFactory(name=f"Zz Tree {team_name}", parent=parent, manager=manager_user)
        for name in members:
            people[name].team = parent
            people[name].save()
    return people


# Four levels: the squad's manager has nobody above but the top manager, three
# levels up (the old list looked at most at the grandparent team).
FOUR_LEVELS = [
    ("Org", "Una", ["Una"]),
    ("Division", None, []),
    ("Department", None, ["Dora"]),
    ("Squad", "Xavi", ["Xavi", "Yara"]),
]
FOUR_LEVEL_APPROVERS = {"Una": None, "Dora": "Una", "Xavi": "Una", "Yara": "Xavi"}
# Five levels: Zed manages the two lowest teams, so his own time skips both
# and two empty levels and goes to the top.
FIVE_LEVELS = [
    ("Org", "Una", ["Una"]),
    ("A", None, ["Ava"]),
    ("B", None, ["Bea"]),
    ("C", "Zed", ["Cy"]),
    ("D", "Zed", ["Zed", "Wren"]),
]
FIVE_LEVEL_APPROVERS = {"Una": None, "Ava": "Una", "Bea": "Una", "Cy": "Zed", "Zed": "Una", "Wren": "Zed"}


@pytest.mark.parametrize(
    ("levels", "approvers"), [(FOUR_LEVELS, FOUR_LEVEL_APPROVERS), (FIVE_LEVELS, FIVE_LEVEL_APPROVERS)]
)
def test_the_rule_for_one_entry_and_the_list_agree_at_any_depth(levels, approvers, persona_user):
    people = _tree(levels)
    names = {m.user_id: name for name, m in people.items()}
    assert {name: names.get(svc.approver_id_of(m)) for name, m in people.items()} == approvers
    outsider = persona_user("manager")  # manages Engineering, nobody here
    for user in [*(m.user for m in people.values()), outsider]:
        listed = {m.display_name for m in svc.members_approvable_by(user) if m.display_name in people}
        expected = {name for name, approver in approvers.items() if approver and people[approver].user == user}
        assert (user.email, listed) == (user.email, expected)
        allowed = {name for name, m in people.items() if svc.can_approve(user, m)}
        assert (user.email, allowed) == (user.email, expected)


@pytest.mark.parametrize(("levels", "deep"), [(FOUR_LEVELS, "Xavi"), (FIVE_LEVELS, "Zed")])
def test_the_top_manager_approves_a_deep_managers_week_on_the_page(levels, deep):
    """Before: the rightful approver got a 404 from "Approve the week" (and did
    not see the week) while they could approve its entries one by one."""
    people = _tree(levels)
    una = client_for(people["Una"])
    entries = [submitted(people[deep], MONDAY, 20), submitted(people[deep], MONDAY + dt.timedelta(days=1), 35)]
    assert f"{deep} · week of 7 Jun 2021 · 55 min" in text_of(una.get(APPROVALS))

    response = una.post(APPROVALS, {"approve_week": f"{people[deep].pk}:{MONDAY.isoformat()}"})

    assert response.status_code == 302
    assert [TimeEntry.objects.get(pk=e.pk).status for e in entries] == ["approved", "approved"]
    assert svc.ClockWeekLock.objects.filter(member=people[deep], week_start=MONDAY).exists()
    assert "Week approved: 2 entries." in text_of(una.get(response["Location"]))


def test_approvals_page_in_a_five_level_tree_has_no_query_per_person():
    people = _tree(FIVE_LEVELS)
    ClockPolicy.objects.create(team=people["Una"].team, weekly_allowance_minutes=30)
    una = client_for(people["Una"])
    submitted(people["Zed"], MONDAY, 20)

    def count():
        with CaptureQueriesContext(connection) as queries:
            page = text_of(una.get(APPROVALS))
        return len(queries), page

    one, page = count()
    assert "Zed · week of 7 Jun 2021 · 20 min" in page
    # Nine more people on Una's page (a page holds ten), four and five levels
    # down through teams nobody manages; each one's policy is the override at
    # the top (30 min a week).
    below = people["Bea"].team
    for i in range(4):
        middle = TeamFactory(name=f"Zz Tree E{i}", parent=below)
        deepest = TeamFactory(name=f"Zz Tree F{i}", parent=middle)
        for team in (middle, deepest):
            person = MemberFactory(team=team)
            assert svc.approver_id_of(person) == people["Una"].user_id
            submitted(person, MONDAY, 40)
    submitted(people["Ava"], MONDAY, 15)
    many, page = count()
    assert "Ava · week of 7 Jun 2021 · 15 min" in page
    assert page.count("· 40 min over the allowance") == 8
    assert many == one


# Up to six levels, a few people; each team gets a manager among them or none.
tree_shapes = st.integers(min_value=1, max_value=6).flatmap(
    lambda depth: st.tuples(
        st.lists(st.integers(min_value=-1, max_value=4), min_size=depth, max_size=depth),
        st.lists(st.integers(min_value=0, max_value=depth - 1), min_size=5, max_size=5),
    )
)
SHAPES_TRIED = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=tree_shapes)
def test_the_list_holds_exactly_the_members_the_one_entry_rule_allows(db, shape):
    """Any tree (a chain of up to six teams, managers anywhere, one person
    managing several levels): whom a person may approve one entry at a time
    is whom their approvals list shows."""
    managers, homes = shape
    run = next(SHAPES_TRIED)
    people = [
        MemberFactory(team=None, display_name=f"P{i}", user__email=f"p{i}.shape{run}@example.org") for i in range(5)
    ]
    teams, parent = [], None
    for level, manager in enumerate(managers):
        parent = TeamFactory(
            name=f"Zz Shape {run}.{level}", parent=parent, manager=people[manager].user if manager >= 0 else None
        )
        teams.append(parent)
    for person, home in zip(people, homes, strict=True):
        person.team = teams[home]
        person.save()
    for user in (p.user for p in people):
        listed = set(svc.members_approvable_by(user).filter(pk__in=[p.pk for p in people]).values_list("pk", flat=True))
        allowed = {p.pk for p in people if svc.can_approve(user, p)}
        assert listed == allowed
