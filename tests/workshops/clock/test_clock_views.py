"""Clock pages: timesheet, two-step entry, conflicts, approvals, permissions,
exports (read back and compared with the database), reports, query counts."""

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MemberFactory, TeamFactory
from tests.pages import text_of
from tests.workshops.clock.factories import ClockPolicyFactory, TimeEntryFactory
from workshops.clock import reports
from workshops.clock import services as svc
from workshops.clock.models import ClockTimer, TimeEntry

pytestmark = pytest.mark.django_db
CLOCK = reverse("workshops:clock")
NEW = reverse("workshops:clock_entry_new")
APPROVALS = reverse("workshops:approvals")


@pytest.fixture
def employee(persona_user):
    return persona_user("employee").member


def _day(member):
    return (svc.member_today(member) - dt.timedelta(days=1)).isoformat()


def test_timesheet_shows_week_grid_and_allowance(client_as, employee):
    TimeEntry.objects.filter(member=employee).delete()
    TimeEntryFactory(member=employee, date=dt.date.fromisoformat(_day(employee)), minutes=45, activity="sense")
    body = text_of(client_as("employee").get(CLOCK + f"?week={_day(employee)}"))
    assert "Timesheet" in body
    assert "Allowance used: 45 min of 2 h. Remaining: 1 h 15 min." in body
    assert "Sense" in body and "45 min" in body and "Previous week" in body


def test_entry_is_echoed_then_saved_once(client_as, employee):
    client = client_as("employee")
    key = str(uuid.uuid4())
    form = {"date": _day(employee), "duration": "1h30", "activity": "seek", "note": "Podcast", "idempotency_key": key}
    first = client.post(NEW, form)
    assert "= 1 h 30 min" in text_of(first)
    assert not TimeEntry.objects.filter(idempotency_key=key).exists()
    second = client.post(NEW, {**form, "confirmed": "90"})
    assert second.status_code == 302
    # The same form submitted again from another tab: still one entry.
    client.post(NEW, {**form, "confirmed": "90"})
    entry = TimeEntry.objects.get(idempotency_key=key)
    assert (entry.minutes, entry.note, entry.status) == (90, "Podcast", "draft")


def test_bad_duration_is_refused_with_an_example(client_as, employee):
    response = client_as("employee").post(NEW, {"date": _day(employee), "duration": "1.5", "activity": "seek"})
    assert "Try 90 (minutes), 1h30, 1:30 or 1.5h." in text_of(response)


def test_edit_conflict_keeps_the_members_input(client_as, employee, persona_user):
    entry = TimeEntryFactory(member=employee, date=dt.date.fromisoformat(_day(employee)), minutes=30)
    client = client_as("employee")
    assert 'name="version" value="1"' in client.get(reverse("workshops:clock_entry", args=[entry.pk])).content.decode()
    # Meanwhile: submitted and approved by the manager.
    svc.week_submit(member=employee, week_start=svc.policy_for(employee).week_start(entry.date), actor=employee.user)
    svc.time_entry_approve(entry_id=entry.pk, actor=persona_user("manager"))
    form = {
        "date": entry.date.isoformat(),
        "duration": "50",
        "activity": "share",
        "note": "my careful note",
        "version": "1",
    }
    body = text_of(client.post(reverse("workshops:clock_entry", args=[entry.pk]), form))
    assert "Someone else changed this entry while you were working on it (it is now approved)." in body
    assert "my careful note" in body
    entry.refresh_from_db()
    assert (entry.minutes, entry.status, entry.note) == (30, "approved", "")


def test_another_members_entry_is_404(client_as, persona_user):
    other = TimeEntryFactory(member=persona_user("manager").member)
    response = client_as("employee").get(reverse("workshops:clock_entry", args=[other.pk]))
    assert response.status_code == 404
    assert TimeEntry.objects.get(pk=other.pk).minutes == 30


def test_another_teams_entry_is_404_for_a_manager(client_as, persona_user):
    research = persona_user("employee").member.team  # Engineering
    outsider = MemberFactory(team=TeamFactory(name="Elsewhere"))
    entry = TimeEntryFactory(member=outsider, status="submitted")
    client = client_as("manager")
    assert client.get(reverse("workshops:approval_entry", args=[entry.pk])).status_code == 404
    client.post(APPROVALS, {"approve": entry.pk})
    assert TimeEntry.objects.get(pk=entry.pk).status == "submitted"
    assert research.name == "Engineering"


def test_employee_cannot_open_approvals(client_as):
    assert client_as("employee").get(APPROVALS).status_code == 403


def test_manager_rejects_one_and_approves_the_week(client_as, employee, persona_user):
    TimeEntry.objects.filter(member=employee).delete()
    day = dt.date.fromisoformat(_day(employee))
    a = TimeEntryFactory(member=employee, date=day, minutes=20, status="submitted")
    b = TimeEntryFactory(member=employee, date=day, minutes=25, status="submitted")
    client = client_as("manager")
    body = text_of(client.get(APPROVALS))
    assert "Ana Silva" in body and "45 min" in body
    client.post(APPROVALS, {"reject": a.pk, f"reason_{a.pk}": "Say which talk"})
    week = svc.policy_for(employee).week_start(day).isoformat()
    client.post(APPROVALS, {"approve_week": f"{employee.pk}:{week}"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.rejection_reason, b.status, b.approver_email) == (
        "rejected",
        "Say which talk",
        "approved",
        persona_user("manager").email,
    )
    assert "Not approved: Say which talk" in text_of(client_as("employee").get(CLOCK + f"?week={week}"))


def test_timer_from_any_page(client_as, employee):
    client = client_as("employee")
    client.post(reverse("workshops:clock_timer_start"), {"activity": "share", "next": "/workshops/"})
    assert ClockTimer.objects.get(member=employee).activity == "share"
    assert "Stop timer" in text_of(client.get(reverse("workshops:list")))
    response = client.post(reverse("workshops:clock_timer_stop"), {"next": "/workshops/"})
    assert response["Location"] == "/workshops/"
    assert not ClockTimer.objects.filter(member=employee).exists()
    assert TimeEntry.objects.filter(member=employee, source="timer").count() == 1


def test_a_second_start_from_a_stale_tab_says_the_timer_runs_on(client_as, employee):
    employee.time_zone = "Europe/Paris"
    employee.save()
    started_at = svc.timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=20)
    ClockTimer.objects.create(member=employee, started_at=started_at, activity="share")
    client = client_as("employee")
    response = client.post(reverse("workshops:clock_timer_start"), {"activity": "seek", "next": "/workshops/"})
    since = started_at.astimezone(employee.tzinfo).strftime("%H:%M")
    assert f"A timer was already running (Share since {since}); it keeps going." in text_of(
        client.get(response["Location"])
    )
    timer = ClockTimer.objects.get(member=employee)
    assert (timer.activity, timer.started_at) == ("share", started_at)
    assert TimeEntry.objects.filter(member=employee, source="timer").count() == 0


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_timesheet_query_count_does_not_grow(client_as, employee):
    TimeEntry.objects.filter(member=employee).delete()
    day = dt.date.fromisoformat(_day(employee))
    client = client_as("employee")
    TimeEntryFactory(member=employee, date=day)
    one = _count(client, CLOCK + f"?week={day}")
    TimeEntryFactory.create_batch(8, member=employee, date=day)
    assert _count(client, CLOCK + f"?week={day}") == one


def test_approvals_query_count_does_not_grow(client_as, employee):
    team = employee.team
    client = client_as("manager")
    TimeEntryFactory(member=MemberFactory(team=team), status="submitted")
    one = _count(client, APPROVALS)
    for _ in range(6):
        TimeEntryFactory.create_batch(2, member=MemberFactory(team=team), status="submitted")
    assert _count(client, APPROVALS) == one


# --- Exports and reports ---------------------------------------------------------------


@pytest.fixture
def period_entries(employee):
    team = employee.team
    people = [employee] + [MemberFactory(team=team) for _ in range(2)]
    outsider = MemberFactory(team=TeamFactory(name="Other place"))
    day = dt.date(2021, 3, 1)
    for i, person in enumerate(people + [outsider]):
        for j, status in enumerate(["approved", "approved", "submitted", "draft", "rejected"]):
            TimeEntryFactory(
                member=person,
                date=day + dt.timedelta(days=j),
                minutes=10 + i + j,
                status=status,
                approver_email="boss@example.org",
            )
    return people, outsider


def _stream(response):
    return b"".join(response.streaming_content).decode()


def test_csv_export_rows_and_totals_match_database(client_as, period_entries):
    people, outsider = period_entries
    query = "?start=2021-03-01&end=2021-03-31&status=approved"
    response = client_as("manager").get(reverse("workshops:clock_export_csv") + query)
    rows = list(csv.reader(io.StringIO(_stream(response))))
    assert rows[0] == ["email", "team", "date", "minutes", "activity", "status", "approver"]
    expected = TimeEntry.objects.filter(member__in=people, date__month=3, date__year=2021, status="approved")
    assert len(rows) - 1 == expected.count() == 6
    assert sum(int(r[3]) for r in rows[1:]) == expected.aggregate(s=Sum("minutes"))["s"]
    assert outsider.user.email not in {r[0] for r in rows}
    assert rows[1][1] == "Engineering" and rows[1][5] == "approved" and rows[1][6] == "boss@example.org"


def test_admin_xlsx_export_holds_everything(client_as, period_entries):
    from openpyxl import load_workbook

    response = client_as("admin").get(reverse("workshops:clock_export_xlsx") + "?start=2021-03-01&end=2021-03-31")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)["Time"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("email", "team", "date", "minutes", "activity", "status", "approver")
    db = TimeEntry.objects.live().filter(date__year=2021, date__month=3)
    assert len(rows) - 1 == db.count() == 20
    assert sum(r[3] for r in rows[1:]) == db.aggregate(s=Sum("minutes"))["s"]


def test_monthly_summary_per_member(client_as, period_entries, employee):
    response = client_as("manager").get(reverse("workshops:clock_export_summary") + "?start=2021-03-01&end=2021-03-31")
    rows = {r[0]: r for r in csv.reader(io.StringIO(_stream(response)))}
    ana = rows[employee.user.email]
    assert ana[2:] == ["2021-03", "5", str(10 + 11 + 12 + 13 + 14), str(10 + 11), "12", "13", "14"]
    assert len(rows) == 4  # header + three people


def test_reports_count_only_approved_time_with_cost_and_budget(period_entries):
    ClockPolicyFactory(team=TeamFactory(name="Unrelated"), hourly_cost=Decimal("1.00"))
    start, end = dt.date(2021, 3, 1), dt.date(2021, 3, 31)
    figures = reports.paid_hours_and_cost(start=start, end=end)
    approved = TimeEntry.objects.filter(date__range=(start, end), status="approved").aggregate(s=Sum("minutes"))["s"]
    assert figures["minutes"] == approved
    assert figures["cost"] == (Decimal(approved) / 60 * Decimal("60.00")).quantize(Decimal("0.01"))
    assert figures["allowance_minutes"] > 0
    by_activity = reports.hours_by_activity(start=start, end=end)
    assert by_activity == [{"activity": "seek", "minutes": approved, "hours": round(approved / 60, 2)}]
    rows = reports.hours_by_team_month(start=start, end=end)
    assert sum(r["minutes"] for r in rows) == approved
    assert {r["team"] for r in rows} <= {"Engineering", "Other teams"}
    weekly = reports.hours_per_week(weeks=2, now=dt.datetime(2021, 3, 10, tzinfo=dt.UTC))
    assert [w["week_start"] for w in weekly] == [dt.date(2021, 3, 1), dt.date(2021, 3, 8)]


def test_policy_change_in_admin_is_audited(client_as):
    from members.models import AuditEvent
    from workshops.clock.models import ClockPolicy

    policy = ClockPolicy.objects.default()
    url = reverse("admin:clock_clockpolicy_change", args=[policy.pk])
    form = {
        "weekly_allowance_minutes": "150",
        "over_allowance": "flag",
        "approval_required": "on",
        "hourly_cost": "61.50",
        "counted_activities": '["seek", "sense", "share", "workshop", "mentoring"]',
        "week_starts_on": "0",
        "lock_approved_weeks": "on",
    }
    response = client_as("admin").post(url, form)
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="policy.changed").latest("pk")
    assert (event.before["weekly_allowance_minutes"], event.after["weekly_allowance_minutes"]) == (120, 150)
    assert event.after["hourly_cost"] == "61.50"


def test_bulk_delete_in_admin_is_audited_one_record_per_row(client_as):
    from members.models import AuditEvent
    from workshops.clock.models import ClockPolicy, ClockWeekLock

    teams = [TeamFactory(name="Bulk A"), TeamFactory(name="Bulk B")]
    policies = [ClockPolicy.objects.create(team=team, weekly_allowance_minutes=60 + i) for i, team in enumerate(teams)]
    member = MemberFactory(team=teams[0])
    locks = [
        ClockWeekLock.objects.create(member=member, week_start=dt.date(2030, 1, 7) + dt.timedelta(weeks=i))
        for i in range(2)
    ]
    admin = client_as("admin")
    before = AuditEvent.objects.count()

    for model, rows in (("clockpolicy", policies), ("clockweeklock", locks)):
        response = admin.post(
            reverse(f"admin:clock_{model}_changelist"),
            {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
        )
        assert response.status_code == 302

    events = list(AuditEvent.objects.order_by("pk")[before:].values_list("action", "object_id"))
    assert sorted(events) == sorted(
        [("policy.changed", str(p.pk)) for p in policies] + [("time.week_lock_changed", str(lock.pk)) for lock in locks]
    )
    assert not ClockPolicy.objects.filter(pk__in=[p.pk for p in policies]).exists()
    assert not ClockWeekLock.objects.filter(pk__in=[lock.pk for lock in locks]).exists()


def test_overdue_timer_is_capped_on_the_next_page_view(client_as, employee):
    ClockTimer.objects.create(member=employee, started_at=svc.timezone.now() - dt.timedelta(hours=5), activity="seek")
    body = text_of(client_as("employee").get(reverse("workshops:list")))
    assert "Start timer" in body
    entry = TimeEntry.objects.get(member=employee, source="timer")
    assert (entry.minutes, entry.flag_timer_capped) == (240, True)


def test_the_timesheet_reads_the_timer_once_and_agrees_with_the_header_about_an_overdue_one(client_as, employee):
    """The timesheet and the header both show the timer: one read, and an
    overdue timer is stopped before either shows it (the timesheet used to
    show it running while the header had just stopped it)."""
    ClockTimer.objects.create(member=employee, started_at=svc.timezone.now() - dt.timedelta(hours=5), activity="seek")
    client = client_as("employee")

    with CaptureQueriesContext(connection) as queries:
        body = text_of(client.get(reverse("workshops:clock")))

    timer_reads = [q for q in queries.captured_queries if q["sql"].startswith('SELECT "workshops_clocktimer"')]
    assert "Start the timer for this activity" in body and "Start timer" in body
    assert len(timer_reads) == 2  # the page's read, and the cap's locked read; the header reads nothing
    entry = TimeEntry.objects.get(member=employee, source="timer")
    assert (entry.minutes, entry.flag_timer_capped) == (240, True)
    assert not ClockTimer.objects.filter(member=employee).exists()


# The week's entries as timesheet.html's loop wrote them before they were
# built in Python (workshops.clock.views._entries_html).
ENTRIES_LOOP = """{% load i18n %}
{% for entry in entries %}
  <li class="clock-entry clock-{{ entry.status }}">
    <a href="{% url 'workshops:clock_entry' entry.pk %}">{{ entry.date|date:"D j M" }} · {{ entry.minutes }} min · {{ entry.get_activity_display }}</a>
    <span class="badge">{{ entry.get_status_display }}</span>
    {% if entry.flag_over_allowance %}<span class="badge badge-warn">{% translate "over the allowance" %}</span>{% endif %}
    {% if entry.flag_overlap %}<span class="badge badge-warn">{% translate "overlaps another entry" %}</span>{% endif %}
    {% if entry.flag_timer_capped %}<span class="badge badge-warn">{% translate "timer stopped at the limit" %}</span>
      <form method="post" action="{% url 'workshops:clock_entry_confirm' entry.pk %}" class="inline-form">{% csrf_token %}<button type="submit">{% translate "Confirm minutes" %}</button></form>{% endif %}
    {% if entry.note %}<br><span class="muted">{{ entry.note }}</span>{% endif %}
    {% if entry.status == "rejected" %}<br><span class="clock-reason">{% translate "Not approved:" %} {{ entry.rejection_reason }}</span>{% endif %}
  </li>
{% endfor %}
"""


def test_the_weeks_entries_read_as_the_template_wrote_them(client_as, employee):
    from django.template import Context, Template

    week_start = svc.policy_for(employee).week_start(svc.member_today(employee))
    common = {"member": employee, "date": week_start, "minutes": 45}
    TimeEntryFactory(**common, activity="seek", note='<b>Read "x" & y</b>', flag_over_allowance=True)
    TimeEntryFactory(**common, activity="sense", flag_overlap=True, flag_timer_capped=True)
    TimeEntryFactory(
        **common, activity="share", status=TimeEntry.Status.REJECTED, rejection_reason="Not <this> week & sorry"
    )
    TimeEntryFactory(**common, activity="seek", status=TimeEntry.Status.APPROVED)
    client = client_as("employee")

    body = client.get(reverse("workshops:clock"), {"week": week_start.isoformat()}).content.decode()

    shown = body.split('class="clock-entries">\n', 1)[1].split("\n</ul>", 1)[0]
    entries = list(TimeEntry.objects.live().of(employee).in_week(week_start).order_by("date", "started_at", "pk"))
    token = shown.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]  # one valid mask of many
    expected = Template(ENTRIES_LOOP).render(Context({"entries": entries, "csrf_token": token}))
    assert shown == expected.removeprefix("\n").removesuffix("\n")
    assert "&lt;b&gt;Read &quot;x&quot; &amp; y&lt;/b&gt;" in shown and "Not &lt;this&gt; week &amp; sorry" in shown


def test_admin_locks_and_unlocks_a_week_in_the_admin_audited(client_as, persona_user):
    """The admin's lock goes through the clock's member lock (issue 23 item 5)."""
    from members.models import AuditEvent
    from workshops.clock.models import ClockWeekLock

    member = MemberFactory()
    admin = client_as("admin")
    response = admin.post(reverse("admin:clock_clockweeklock_add"), {"member": member.pk, "week_start": "2030-01-07"})
    assert response.status_code == 302
    lock = ClockWeekLock.objects.get(member=member)
    assert (lock.week_start, lock.locked_by) == (dt.date(2030, 1, 7), persona_user("admin"))
    response = admin.post(reverse("admin:clock_clockweeklock_delete", args=[lock.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not ClockWeekLock.objects.filter(member=member).exists()
    events = AuditEvent.objects.filter(action="time.week_lock_changed", object_id=str(lock.pk)).order_by("pk")
    assert [(e.before, e.after) for e in events] == [
        (None, {"locked": True, "week_start": "2030-01-07"}),
        ({"locked": True, "week_start": "2030-01-07"}, {"locked": False}),
    ]
