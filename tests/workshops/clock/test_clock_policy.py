"""The clock policy's switches: approval needed or not, the activities that
count, the week's first day and the locking of approved weeks. Each one is
checked in the services and on the pages people use (timesheet, approvals,
export, reports)."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from tests.factories import MemberFactory
from tests.pages import client_for, parse_page, text_of
from tests.workshops.clock.factories import ClockPolicyFactory
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.clock import reports
from workshops.clock import services as svc
from workshops.clock.models import ClockPolicy, ClockWeekLock, TimeEntry
from workshops.services.attendance import Mark, attendance_mark

pytestmark = pytest.mark.django_db

CLOCK = reverse("workshops:clock")
SUBMIT = reverse("workshops:clock_submit")
APPROVALS = reverse("workshops:approvals")
EMPTY_APPROVALS = "Nothing waiting for approval. Submitted weeks appear here."
# A week long before the demo organization's entries: Monday 7 June 2021.
MONDAY = dt.date(2021, 6, 7)


def record(member, day, minutes, activity="seek"):
    entry, _created = svc.time_entry_create(
        member=member, actor=member.user, activity=activity, day=day, minutes=minutes
    )
    return entry


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- Approval needed or not ------------------------------------------------------------


def test_submit_approves_at_once_when_the_policy_needs_no_approval(team, worker):
    ClockPolicyFactory(team=team, approval_required=False)
    first = record(worker, MONDAY, 20)
    second = record(worker, MONDAY + dt.timedelta(days=1), 30, activity="share")

    count = svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)

    assert count == 2
    entries = list(TimeEntry.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))
    assert [(e.status, e.approved_by_id, e.approver_email, e.version) for e in entries] == [
        ("approved", None, "", 3),
        ("approved", None, "", 3),
    ]
    assert all(e.approved_at is not None for e in entries)
    history = list(first.history.all())
    assert [(h.action, h.actor_id, h.actor_email) for h in history] == [
        ("created", worker.user.pk, "walt.worker@example.org"),
        ("submitted", worker.user.pk, "walt.worker@example.org"),
        ("approved_by_policy", None, ""),
    ]
    assert (history[2].before["status"], history[2].after["status"]) == ("submitted", "approved")
    assert history[2].reason == "The clock policy needs no approval."
    # A policy approval is not a manager's approval of the whole week: no lock,
    # the member can still record and submit time in it.
    assert not ClockWeekLock.objects.filter(member=worker).exists()
    later = record(worker, MONDAY + dt.timedelta(days=4), 15)
    assert svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user) == 1
    later.refresh_from_db()
    assert later.status == "approved"


def test_submit_waits_for_a_manager_when_the_policy_needs_approval(team, worker):
    ClockPolicyFactory(team=team, approval_required=True)
    entry = record(worker, MONDAY, 20)

    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)

    entry.refresh_from_db()
    assert (entry.status, entry.approved_at) == ("submitted", None)
    assert [h.action for h in entry.history.all()] == ["created", "submitted"]


def test_without_approval_nothing_waits_and_payroll_and_reports_get_the_time(team, worker):
    ClockPolicyFactory(team=team, approval_required=False)
    record(worker, MONDAY, 20)
    record(worker, MONDAY + dt.timedelta(days=2), 35, activity="sense")
    paid_before = reports.paid_hours_and_cost(start=MONDAY, end=MONDAY + dt.timedelta(days=6))["minutes"]
    member_client = client_for(worker.user)

    response = member_client.post(SUBMIT, {"week": MONDAY.isoformat()}, follow=True)

    body = text_of(response)
    assert "Week submitted: 2 entries approved at once (your clock policy needs no approval)." in body
    assert "Allowance used: 55 min of 2 h." in body
    assert body.count("Approved") == 2 and "Submitted" not in body
    manager_client = client_for(team.manager)
    approvals = text_of(manager_client.get(APPROVALS))
    assert EMPTY_APPROVALS in approvals and "Walt Worker" not in approvals
    export = manager_client.get(
        reverse("workshops:clock_export_csv"), {"start": "2021-06-01", "end": "2021-06-30", "status": "approved"}
    )
    assert csv_rows(export) == [
        ["email", "team", "date", "minutes", "activity", "status", "approver"],
        ["walt.worker@example.org", "Zz Clock Team", "2021-06-07", "20", "seek", "approved", ""],
        ["walt.worker@example.org", "Zz Clock Team", "2021-06-09", "35", "sense", "approved", ""],
    ]
    paid_after = reports.paid_hours_and_cost(start=MONDAY, end=MONDAY + dt.timedelta(days=6))["minutes"]
    assert paid_after - paid_before == 55


def test_entry_page_shows_the_policy_approval_in_its_history(team, worker):
    ClockPolicyFactory(team=team, approval_required=False)
    entry = record(worker, MONDAY, 20)
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)

    body = text_of(client_for(worker.user).get(reverse("workshops:clock_entry", args=[entry.pk])))

    assert "20 min · Seek · Approved" in body
    assert "approved_by_policy · system · 20 min · approved · reason: The clock policy needs no approval." in body


def test_timesheet_says_submitting_approves_at_once_only_without_approval(team, worker):
    record(worker, MONDAY, 20)
    note = "Your clock policy needs no approval: submitted time is approved at once."
    policy = ClockPolicyFactory(team=team, approval_required=True)
    client = client_for(worker.user)
    assert note not in text_of(client.get(CLOCK, {"week": MONDAY.isoformat()}))
    policy.approval_required = False
    policy.save()
    assert note in text_of(client.get(CLOCK, {"week": MONDAY.isoformat()}))


def test_reopened_entry_is_approved_again_by_policy_on_resubmit(team, worker):
    ClockPolicyFactory(team=team, approval_required=False)
    entry = record(worker, MONDAY, 20)
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)
    svc.time_entry_reopen(entry_id=entry.pk, actor=team.manager, reason="Wrong activity")
    entry.refresh_from_db()
    svc.time_entry_update(
        entry_id=entry.pk, actor=worker.user, version=entry.version, activity="sense", day=MONDAY, minutes=25
    )

    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)

    entry.refresh_from_db()
    assert (entry.status, entry.minutes, entry.activity, entry.approver_email) == ("approved", 25, "sense", "")
    assert [h.action for h in entry.history.all()] == [
        "created",
        "submitted",
        "approved_by_policy",
        "reopened",
        "edited",
        "submitted",
        "approved_by_policy",
    ]


# --- Activities that count --------------------------------------------------------------


@pytest.fixture
def seek_sense_share_only(team):
    return ClockPolicyFactory(
        team=team,
        weekly_allowance_minutes=60,
        over_allowance=ClockPolicy.OverAllowance.REFUSE,
        counted_activities=["seek", "sense", "share"],
    )


def test_an_activity_that_does_not_count_is_recorded_but_uses_no_allowance(worker, seek_sense_share_only):
    mentoring = record(worker, MONDAY, 90, activity="mentoring")
    seek = record(worker, MONDAY + dt.timedelta(days=1), 60)

    with pytest.raises(svc.ClockRefused, match="weekly allowance of 1 h \\(already recorded: 1 h\\)"):
        record(worker, MONDAY + dt.timedelta(days=2), 1, activity="share")

    assert [(e.activity, e.minutes, e.flag_over_allowance) for e in (mentoring, seek)] == [
        ("mentoring", 90, False),
        ("seek", 60, False),
    ]
    body = text_of(client_for(worker.user).get(CLOCK, {"week": MONDAY.isoformat()}))
    assert "Allowance used: 1 h of 1 h. Remaining: 0 min." in body
    assert "Beyond the allowance" not in body


def test_reports_leave_out_an_activity_that_does_not_count(team, worker, seek_sense_share_only):
    record(worker, MONDAY, 90, activity="mentoring")
    record(worker, MONDAY, 40)
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)
    assert svc.week_approve(member=worker, week_start=MONDAY, actor=team.manager) == 2

    figures = reports.paid_hours_and_cost(start=MONDAY, end=MONDAY + dt.timedelta(days=6))
    by_activity = reports.hours_by_activity(start=MONDAY, end=MONDAY + dt.timedelta(days=6))

    assert figures["minutes"] == 40
    assert by_activity == [{"activity": "seek", "minutes": 40, "hours": 0.67}]


def test_workshop_attendance_outside_the_counted_activities_is_not_flagged(worker, seek_sense_share_only):
    facilitator = MemberFactory().user
    workshop = WorkshopFactory(sessions__starts_in=-dt.timedelta(days=2), facilitators=[facilitator])
    session = workshop.sessions.get()
    registration = RegistrationFactory(workshop=workshop, member=worker)
    record(worker, svc.local_date(worker, session.starts_at), 60)

    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    attendance_mark(session=session, marks={registration.pk: Mark("partial", 100)}, actor=facilitator)

    entry = TimeEntry.objects.get(member=worker, source="attendance")
    assert (entry.minutes, entry.status, entry.flag_over_allowance) == (100, "approved", False)


def test_attendance_in_a_counted_activity_beyond_the_allowance_is_flagged(worker, team):
    ClockPolicyFactory(team=team, weekly_allowance_minutes=60, counted_activities=["seek", "workshop"])
    facilitator = MemberFactory().user
    workshop = WorkshopFactory(sessions__starts_in=-dt.timedelta(days=2), facilitators=[facilitator])
    session = workshop.sessions.get()
    registration = RegistrationFactory(workshop=workshop, member=worker)
    record(worker, svc.local_date(worker, session.starts_at), 60)

    attendance_mark(session=session, marks={registration.pk: Mark("partial", 30)}, actor=facilitator)

    entry = TimeEntry.objects.get(member=worker, source="attendance")
    assert (entry.minutes, entry.flag_over_allowance) == (30, True)


def test_approvals_page_flags_a_week_over_the_allowance_only_by_counted_time(team, worker):
    ClockPolicyFactory(team=team, weekly_allowance_minutes=60, counted_activities=["seek", "sense", "share"])
    record(worker, MONDAY, 120, activity="mentoring")
    record(worker, MONDAY + dt.timedelta(days=1), 30)
    second_week = MONDAY + dt.timedelta(days=7)
    record(worker, second_week, 60)
    record(worker, second_week + dt.timedelta(days=1), 45, activity="share")
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)
    svc.week_submit(member=worker, week_start=second_week, actor=worker.user)

    body = text_of(client_for(team.manager).get(APPROVALS))

    # 2 h 30 min submitted, of which 30 min count against the 1 h allowance.
    assert "Walt Worker · week of 7 Jun 2021 · 2 h 30 min Select Date" in body
    assert "Walt Worker · week of 14 Jun 2021 · 1 h 45 min over the allowance Select Date" in body


# --- The week's first day ----------------------------------------------------------------

SATURDAY, SUNDAY = dt.date(2021, 6, 12), dt.date(2021, 6, 13)


@pytest.fixture
def sunday_weeks(team):
    return ClockPolicyFactory(team=team, week_starts_on=ClockPolicy.Weekday.SUNDAY)


def test_timesheet_weeks_start_on_the_policys_day(worker, sunday_weeks):
    record(worker, SATURDAY, 25)
    record(worker, SUNDAY, 40, activity="share")
    client = client_for(worker.user)

    body = text_of(client.get(CLOCK, {"week": "2021-06-16"}))  # a Wednesday: its Sunday week

    assert "Week of 13 Jun – 19 Jun 2021" in body
    assert "Activity Sun 13 Mon 14 Tue 15 Wed 16 Thu 17 Fri 18 Sat 19 Total" in body
    assert "Share 40 min 40 min" in body
    assert "Allowance used: 40 min of 2 h. Remaining: 1 h 20 min." in body
    assert "Sun 13 Jun · 40 min · Share" in body and "Sat 12 Jun" not in body
    earlier = text_of(client.get(CLOCK, {"week": "2021-06-12"}))
    assert "Week of 6 Jun – 12 Jun 2021" in earlier
    assert "Sat 12 Jun · 25 min · Seek" in earlier and "Sun 13 Jun" not in earlier


def test_submit_and_approvals_group_by_the_policys_week(team, worker, sunday_weeks):
    saturday = record(worker, SATURDAY, 25)
    sunday = record(worker, SUNDAY, 40, activity="share")
    member_client = client_for(worker.user)
    member_client.post(SUBMIT, {"week": "2021-06-13"})
    saturday.refresh_from_db()
    sunday.refresh_from_db()
    assert (saturday.status, sunday.status) == ("draft", "submitted")
    member_client.post(SUBMIT, {"week": "2021-06-12"})
    manager_client = client_for(team.manager)

    page = manager_client.get(APPROVALS)

    body = text_of(page)
    assert "Walt Worker · week of 6 Jun 2021 · 25 min" in body
    assert "Walt Worker · week of 13 Jun 2021 · 40 min" in body
    buttons = re.findall(r'name="approve_week" value="([^"]+)"', page.content.decode())
    assert buttons == [f"{worker.pk}:2021-06-06", f"{worker.pk}:2021-06-13"]
    manager_client.post(APPROVALS, {"approve_week": f"{worker.pk}:2021-06-13"})
    saturday.refresh_from_db()
    sunday.refresh_from_db()
    assert (saturday.status, sunday.status) == ("submitted", "approved")
    assert list(ClockWeekLock.objects.filter(member=worker).values_list("week_start", flat=True)) == [SUNDAY]
    with pytest.raises(svc.ClockRefused, match="locked"):
        record(worker, dt.date(2021, 6, 19), 10)  # Saturday: still the locked week
    assert record(worker, dt.date(2021, 6, 20), 10).status == "draft"  # the next Sunday: a new week


def test_week_services_take_any_day_of_the_week(team, worker, sunday_weeks):
    this_sunday = record(worker, SUNDAY, 20)
    next_sunday = record(worker, SUNDAY + dt.timedelta(days=7), 30)
    wednesday = dt.date(2021, 6, 16)
    assert svc.week_submit(member=worker, week_start=wednesday, actor=worker.user) == 1
    svc.week_submit(member=worker, week_start=SUNDAY + dt.timedelta(days=7), actor=worker.user)

    approved = svc.week_approve(member=worker, week_start=wednesday, actor=team.manager)

    this_sunday.refresh_from_db()
    next_sunday.refresh_from_db()
    assert (approved, this_sunday.status, next_sunday.status) == (1, "approved", "submitted")
    assert svc.week_reject(member=worker, week_start=dt.date(2021, 6, 25), actor=team.manager, reason="Which?") == 1
    next_sunday.refresh_from_db()
    assert (next_sunday.status, next_sunday.rejection_reason) == ("rejected", "Which?")


# --- Locking approved weeks --------------------------------------------------------------


def test_without_locking_an_approved_week_stays_open_to_the_member_and_manager(team, worker):
    ClockPolicyFactory(team=team, lock_approved_weeks=False)
    entry = record(worker, MONDAY, 20)
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)
    assert svc.week_approve(member=worker, week_start=MONDAY, actor=team.manager) == 1
    assert not ClockWeekLock.objects.filter(member=worker).exists()

    # The member adds time to the approved week; their approved entry stays theirs to ask about.
    extra = record(worker, MONDAY + dt.timedelta(days=3), 15)
    entry.refresh_from_db()
    with pytest.raises(svc.ClockRefused, match="approved and can no longer be changed"):
        svc.time_entry_update(
            entry_id=entry.pk, actor=worker.user, version=entry.version, activity="seek", day=MONDAY, minutes=25
        )
    # The manager (not an admin) reopens it; the member corrects it.
    svc.time_entry_reopen(entry_id=entry.pk, actor=team.manager, reason="Say which podcast")
    entry.refresh_from_db()
    svc.time_entry_update(
        entry_id=entry.pk, actor=worker.user, version=entry.version, activity="seek", day=MONDAY, minutes=25
    )

    entry.refresh_from_db()
    assert (entry.status, entry.minutes, entry.approver_email) == ("draft", 25, "")
    assert extra.status == "draft"
    body = text_of(client_for(worker.user).get(CLOCK, {"week": MONDAY.isoformat()}))
    assert "This week is approved and locked." not in body
    assert "Submit the week (2 drafts)" in body


def test_with_locking_the_same_week_is_closed_to_the_member_and_manager(team, worker):
    ClockPolicyFactory(team=team, lock_approved_weeks=True)
    entry = record(worker, MONDAY, 20)
    svc.week_submit(member=worker, week_start=MONDAY, actor=worker.user)
    svc.week_approve(member=worker, week_start=MONDAY, actor=team.manager)

    with pytest.raises(svc.ClockRefused, match="locked"):
        record(worker, MONDAY + dt.timedelta(days=3), 15)
    with pytest.raises(svc.ClockRefused, match="only an admin"):
        svc.time_entry_reopen(entry_id=entry.pk, actor=team.manager, reason="Say which podcast")

    assert "This week is approved and locked." in text_of(
        client_for(worker.user).get(CLOCK, {"week": MONDAY.isoformat()})
    )


def test_timesheet_submits_the_week_it_shows(team, worker):
    """The timesheet's submit form posts the week it shows (policy week start)."""
    ClockPolicyFactory(team=team, week_starts_on=ClockPolicy.Weekday.WEDNESDAY)
    record(worker, dt.date(2021, 6, 10), 20)  # a Thursday

    page = parse_page(client_for(worker.user).get(CLOCK, {"week": "2021-06-10"}))

    submit = next(f for f in page.forms if f["action"] == SUBMIT)
    assert submit["fields"]["week"] == "2021-06-09"
