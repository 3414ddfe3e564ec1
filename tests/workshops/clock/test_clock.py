"""Clock services: the rules, the history, approvals, the timer, attendance, data."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import AuditEvent, OutboundEmail
from tests.factories import EntryFactory, MemberFactory, TeamFactory, UserFactory
from tests.workshops.clock.factories import ClockPolicyFactory
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.clock import services as svc
from workshops.clock.models import ClockPolicy, ClockTimer, ClockWeekLock, TimeEntry, TimeEntryHistory
from workshops.services.attendance import Mark, attendance_mark

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    manager = MemberFactory(team=None)
    team = TeamFactory(manager=manager.user)
    manager.team = team
    manager.save()
    return team


@pytest.fixture
def member(team):
    return MemberFactory(team=team, user__email="ana.clock@example.org")


def yesterday(member):
    return svc.member_today(member) - dt.timedelta(days=1)


def create(member, **kw):
    kw.setdefault("day", yesterday(member))
    kw.setdefault("activity", "seek")
    if "started_at" not in kw:
        kw.setdefault("minutes", 30)
    return svc.time_entry_create(member=member, actor=member.user, **kw)[0]


# --- Rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(0, "more than zero"), (-5, "more than zero"), (721, "over 12 hours")],
)
def test_create_refuses_bad_durations(member, minutes, message):
    with pytest.raises(svc.ClockRefused) as refused:
        create(member, minutes=minutes)
    assert message in refused.value.message
    assert TimeEntry.objects.filter(member=member).count() == 0


def test_create_accepts_exactly_twelve_hours(member):
    ClockPolicyFactory(team=member.team, weekly_allowance_minutes=2000)
    assert create(member, minutes=720).minutes == 720


def test_create_refuses_future_date_in_member_time_zone(member):
    member.time_zone = "Pacific/Kiritimati"  # UTC+14: its "today" may be tomorrow in UTC
    member.save()
    local_today = svc.member_today(member)
    assert create(member, day=local_today).date == local_today
    with pytest.raises(svc.ClockRefused, match="future date"):
        create(member, day=local_today + dt.timedelta(days=1))


def test_overlapping_timed_entries_refused_back_to_back_allowed(member):
    start = timezone.now().replace(microsecond=0, second=0) - dt.timedelta(days=1)
    create(member, started_at=start, ended_at=start + dt.timedelta(minutes=60))
    after = create(member, started_at=start + dt.timedelta(minutes=60), ended_at=start + dt.timedelta(minutes=90))
    assert after.minutes == 30
    with pytest.raises(svc.ClockRefused, match="overlaps"):
        create(member, started_at=start + dt.timedelta(minutes=30), ended_at=start + dt.timedelta(minutes=70))
    assert TimeEntry.objects.filter(member=member).count() == 2


def test_over_allowance_flagged_by_default(member):
    create(member, minutes=100)
    second = create(member, minutes=30)
    assert second.flag_over_allowance is True


def test_over_allowance_refused_when_policy_says_so(member):
    ClockPolicyFactory(team=member.team, over_allowance=ClockPolicy.OverAllowance.REFUSE)
    create(member, minutes=100)
    with pytest.raises(svc.ClockRefused, match="weekly allowance of 2 h"):
        create(member, minutes=30)


def test_team_override_beats_default_policy(member):
    ClockPolicyFactory(team=member.team, weekly_allowance_minutes=300, hourly_cost=Decimal("80.00"))
    assert svc.policy_for(member).weekly_allowance_minutes == 300
    other = MemberFactory()
    assert svc.policy_for(other).weekly_allowance_minutes == ClockPolicy.objects.default().weekly_allowance_minutes


def test_owner_cannot_edit_submitted_or_approved(member, team):
    entry = create(member)
    svc.week_submit(member=member, week_start=svc.policy_for(member).week_start(entry.date), actor=member.user)
    entry.refresh_from_db()
    with pytest.raises(svc.ClockRefused, match="submitted and can no longer be changed"):
        svc.time_entry_update(
            entry_id=entry.pk, actor=member.user, version=entry.version, activity="seek", day=entry.date, minutes=45
        )
    svc.time_entry_approve(entry_id=entry.pk, actor=team.manager)
    entry.refresh_from_db()
    with pytest.raises(svc.ClockRefused, match="approved and can no longer be changed"):
        svc.time_entry_delete(entry_id=entry.pk, actor=member.user, version=entry.version)
    assert TimeEntry.objects.get(pk=entry.pk).minutes == 30


def test_manager_reopens_with_reason_recorded_and_audited(member, team):
    entry = create(member)
    svc.week_submit(member=member, week_start=svc.policy_for(member).week_start(entry.date), actor=member.user)
    svc.time_entry_reopen(entry_id=entry.pk, actor=team.manager, reason="Wrong day")
    entry.refresh_from_db()
    assert entry.status == TimeEntry.Status.DRAFT
    assert entry.history.last().reason == "Wrong day"
    assert AuditEvent.objects.filter(action="time.reopened", object_id=str(entry.pk)).count() == 1


def test_deletion_is_soft_and_recorded(member):
    entry = create(member)
    svc.time_entry_delete(entry_id=entry.pk, actor=member.user, version=entry.version)
    entry.refresh_from_db()
    assert entry.deleted_at is not None
    assert TimeEntry.objects.live().filter(pk=entry.pk).count() == 0
    assert [h.action for h in entry.history.all()] == ["created", "deleted"]


def test_history_records_before_and_after_and_is_append_only(member):
    entry = create(member, minutes=30)
    svc.time_entry_update(
        entry_id=entry.pk, actor=member.user, version=1, activity="sense", day=entry.date, minutes=45, note="n"
    )
    changes = list(entry.history.all())
    assert [c.action for c in changes] == ["created", "edited"]
    assert changes[1].before["minutes"] == 30 and changes[1].after["minutes"] == 45
    assert changes[1].after["activity"] == "sense" and changes[1].actor_email == "ana.clock@example.org"
    with pytest.raises(TypeError):
        changes[0].save()
    with pytest.raises(TypeError):
        TimeEntryHistory.objects.filter(entry=entry).update(action="x")


def test_stale_version_is_a_conflict(member, team):
    entry = create(member)
    svc.time_entry_update(entry_id=entry.pk, actor=member.user, version=1, activity="seek", day=entry.date, minutes=40)
    with pytest.raises(svc.VersionConflict, match="Someone else changed this entry"):
        svc.time_entry_update(
            entry_id=entry.pk, actor=member.user, version=1, activity="seek", day=entry.date, minutes=50
        )
    assert TimeEntry.objects.get(pk=entry.pk).minutes == 40


def test_idempotency_key_gives_one_entry(member):
    key = uuid.uuid4()
    first, created = svc.time_entry_create(
        member=member, actor=member.user, activity="seek", day=yesterday(member), minutes=30, idempotency_key=key
    )
    again, created_again = svc.time_entry_create(
        member=member, actor=member.user, activity="seek", day=yesterday(member), minutes=30, idempotency_key=key
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert TimeEntry.objects.filter(member=member).count() == 1


def test_stream_entry_link_keeps_a_copy(member):
    stream = EntryFactory(title="Good post", link="https://blog.example.net/good")
    entry = create(member, stream_entry=stream)
    stream.delete()
    entry.refresh_from_db()
    assert (entry.stream_entry_id, entry.stream_title, entry.stream_link) == (
        None,
        "Good post",
        "https://blog.example.net/good",
    )


# --- Approval ------------------------------------------------------------------------


def _submitted(member, n=2):
    entries = [create(member, minutes=20 + i) for i in range(n)]
    svc.week_submit(member=member, week_start=svc.policy_for(member).week_start(entries[0].date), actor=member.user)
    return entries


def test_reject_reaches_member_through_outbox(member, team):
    entry = _submitted(member, 1)[0]
    svc.time_entry_reject(entry_id=entry.pk, actor=team.manager, reason="Which workshop?")
    entry.refresh_from_db()
    assert (entry.status, entry.rejection_reason) == ("rejected", "Which workshop?")
    mail = OutboundEmail.objects.get(to="ana.clock@example.org", kind="clock_rejected")
    assert "Which workshop?" in mail.body_text


def test_reject_needs_a_reason(member, team):
    entry = _submitted(member, 1)[0]
    with pytest.raises(svc.ClockRefused, match="reason"):
        svc.time_entry_reject(entry_id=entry.pk, actor=team.manager, reason=" ")


def test_week_approve_locks_the_week_and_only_admin_changes_it(member, team):
    entries = _submitted(member, 2)
    week = svc.policy_for(member).week_start(entries[0].date)
    assert svc.week_approve(member=member, week_start=week, actor=team.manager) == 2
    assert ClockWeekLock.objects.filter(member=member, week_start=week).exists()
    with pytest.raises(svc.ClockRefused, match="locked"):
        create(member, day=entries[0].date)
    with pytest.raises(svc.ClockRefused, match="locked"):
        svc.time_entry_reopen(entry_id=entries[0].pk, actor=team.manager, reason="fix")
    admin = UserFactory(is_staff=True)
    svc.time_entry_reopen(entry_id=entries[0].pk, actor=admin, reason="payroll fix")
    assert not ClockWeekLock.objects.filter(member=member, week_start=week).exists()
    assert AuditEvent.objects.filter(action="time.week_lock_changed").count() == 2


def test_manager_cannot_approve_own_time_parent_manager_does(team):
    boss = MemberFactory(team=None)
    parent = TeamFactory(manager=boss.user)
    team.parent = parent
    team.save()
    manager_member = team.manager.member
    entry = _submitted(manager_member, 1)[0]
    with pytest.raises(svc.ClockRefused, match="do not approve"):
        svc.time_entry_approve(entry_id=entry.pk, actor=team.manager)
    svc.time_entry_approve(entry_id=entry.pk, actor=boss.user)
    assert TimeEntry.objects.get(pk=entry.pk).approver_email == boss.user.email


def test_other_team_manager_cannot_approve(member):
    other_manager = UserFactory()
    TeamFactory(manager=other_manager)
    entry = _submitted(member, 1)[0]
    with pytest.raises(svc.ClockRefused):
        svc.time_entry_approve(entry_id=entry.pk, actor=other_manager)
    assert svc.members_approvable_by(other_manager).filter(pk=member.pk).count() == 0


def test_bulk_approve_only_approvable(member, team):
    mine = _submitted(member, 2)
    stranger = MemberFactory()
    theirs = _submitted(stranger, 1)
    count = svc.entries_bulk_approve(entry_ids=[e.pk for e in mine + theirs], actor=team.manager)
    assert count == 2
    assert TimeEntry.objects.get(pk=theirs[0].pk).status == "submitted"


# --- Timer ---------------------------------------------------------------------------


def test_starting_a_running_timer_changes_nothing(member):
    """Issue 23 item 6: a second start (another tab, a stale page) used to stop
    the running timer into a draft; now the running timer just goes on."""
    t0 = timezone.now() - dt.timedelta(minutes=50)
    first, started = svc.timer_start(member=member, activity="seek", now=t0)
    assert started is True
    again, started_again = svc.timer_start(member=member, activity="share", now=t0 + dt.timedelta(minutes=25))
    assert (again.pk, again.activity, again.started_at, started_again) == (first.pk, "seek", t0, False)
    assert TimeEntry.objects.filter(member=member).count() == 0
    entry = svc.timer_stop(member=member, now=t0 + dt.timedelta(minutes=40))
    assert (entry.minutes, entry.activity, entry.source) == (40, "seek", "timer")
    assert not ClockTimer.objects.filter(member=member).exists()


def test_timer_past_limit_is_capped_and_flagged(member, settings):
    settings.CLOCK_TIMER_LIMIT_MINUTES = 240
    start = timezone.now() - dt.timedelta(hours=6)
    svc.timer_start(member=member, now=start)
    assert svc.timers_cap_overdue() == 1
    entry = TimeEntry.objects.get(member=member)
    assert (entry.minutes, entry.flag_timer_capped) == (240, True)
    svc.time_entry_confirm(entry_id=entry.pk, actor=member.user)
    assert TimeEntry.objects.get(pk=entry.pk).flag_timer_capped is False


# --- Attendance ------------------------------------------------------------------------


@pytest.fixture
def attended(member):
    facilitator = UserFactory()
    workshop = WorkshopFactory(sessions__starts_in=-dt.timedelta(days=2), facilitators=[facilitator])
    registration = RegistrationFactory(workshop=workshop, member=member)
    return workshop.sessions.get(), registration, facilitator


def test_attendance_creates_one_approved_entry_idempotently(attended, member):
    session, registration, facilitator = attended
    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    svc.time_entry_record_attendance(registration=registration, session=session, minutes=120, actor=facilitator)
    entries = TimeEntry.objects.filter(member=member, session=session)
    assert [(e.minutes, e.status, e.activity, e.source) for e in entries] == [
        (120, "approved", "workshop", "attendance")
    ]
    assert entries[0].flag_over_allowance is False  # exactly 120 of 120


def test_attendance_change_updates_the_entry(attended, member):
    session, registration, facilitator = attended
    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    attendance_mark(session=session, marks={registration.pk: Mark("partial", 45)}, actor=facilitator)
    assert list(TimeEntry.objects.live().filter(member=member).values_list("minutes", flat=True)) == [45]
    attendance_mark(session=session, marks={registration.pk: Mark("no_show")}, actor=facilitator)
    assert TimeEntry.objects.live().filter(member=member).count() == 0
    assert TimeEntry.objects.filter(member=member).count() == 1


def test_attendance_never_refused_flags_overlap_and_allowance(attended, member):
    session, registration, facilitator = attended
    ClockPolicyFactory(team=member.team, over_allowance=ClockPolicy.OverAllowance.REFUSE)
    own = create(member, started_at=session.starts_at, ended_at=session.starts_at + dt.timedelta(minutes=60))
    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    workshop_entry = TimeEntry.objects.get(member=member, source="attendance")
    own.refresh_from_db()
    assert (workshop_entry.minutes, workshop_entry.flag_over_allowance, own.flag_overlap) == (120, True, True)


def test_attendance_change_in_locked_week_is_an_adjustment(attended, member, team):
    session, registration, facilitator = attended
    attendance_mark(session=session, marks={registration.pk: Mark("attended")}, actor=facilitator)
    base = TimeEntry.objects.get(member=member, source="attendance")
    week = svc.policy_for(member).week_start(base.date)
    ClockWeekLock.objects.create(member=member, week_start=week)
    attendance_mark(session=session, marks={registration.pk: Mark("partial", 90)}, actor=facilitator)
    base.refresh_from_db()
    adjustment = TimeEntry.objects.get(member=member, source="adjustment")
    assert (base.minutes, adjustment.minutes, adjustment.date) == (120, -30, svc.member_today(member))


# --- Data -------------------------------------------------------------------------------


def test_export_and_deletion_keep_approved_time_anonymously(member, team):
    from workshops.clock.lifecycle import clock_delete, clock_export

    approved, submitted = _submitted(member, 2)
    svc.time_entry_approve(entry_id=approved.pk, actor=team.manager)
    draft = create(member, minutes=5)
    exported = clock_export(member=member)
    assert sorted(e["minutes"] for e in exported["time_entries"]) == [5, 20, 21]
    member_pk = member.pk
    clock_delete(member=member)
    assert not TimeEntry.objects.filter(pk__in=[submitted.pk, draft.pk]).exists()
    kept = TimeEntry.objects.get(pk=approved.pk)
    assert (kept.member_id, kept.member_label, kept.team_name, kept.minutes) == (
        None,
        f"Former member #{member_pk}",
        team.name,
        20,
    )
