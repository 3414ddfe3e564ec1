"""Demo time on the clock: a default policy, a team override, the last five
weeks of entries in every state (draft, submitted, approved, rejected, some
flagged over the allowance) and twelve approved weeks before them. Idempotent
(entries are keyed by idempotency keys). The Workshop entries that attendance
in the demo workshops creates come from workshops.demo.seed_attendance_time."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from members.models import Member, Team, User

from .models import Activity, ClockPolicy, TimeEntry, TimeEntryHistory
from .services import policy_for

NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5")
# People who record time: every team of 5+, Design and the trainee without a
# team (together "Other teams" on the leaders' dashboard).
PEOPLE = [
    *["employee", "ben", "chen", "dana", "eli", "fatima", "manager", "sam", "tomas", "uma", "yara", "zoe"],
    *["cfo", "people", "kofi", "lucia", "dora", "gus", "hana", "iris"],
]
PLAN = [  # (days from the week's Monday, minutes, activity, note)
    (0, 45, Activity.SEEK, "Read two posts on observability"),
    (1, 30, Activity.SENSE, "Notes on what I read"),
    (2, 40, Activity.SHARE, "Shared a summary with the team"),
]
# Mentors also spend an hour a week helping a colleague, beyond the allowance
# of 2 h: allowed and flagged, as the default policy says.
MENTORS = {"kofi", "people", "dora"}
MENTORING = (3, 60, Activity.MENTORING, "Helped a colleague start their PLN")
# Weeks back from this week, newest last: approved history, then the weeks a
# manager is working through (rejected = its Share entry sent back).
HISTORY_WEEKS = 12
RECENT_WEEKS = ((4, "approved"), (3, "approved"), (2, "rejected"), (1, "submitted"), (0, "draft"))


@transaction.atomic
def seed_clock(members: dict[str, Member]) -> None:
    ClockPolicy.objects.get_or_create(
        team=None, defaults={"weekly_allowance_minutes": 120, "hourly_cost": Decimal("60.00")}
    )
    research = Team.objects.filter(name="Research").first()
    if research is not None:
        ClockPolicy.objects.get_or_create(
            team=research,
            defaults={"weekly_allowance_minutes": 180, "hourly_cost": Decimal("55.00"), "approval_required": True},
        )
    admin = User.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    joined = dict(Member.objects.filter(pk__in=[m.pk for m in members.values()]).values_list("pk", "created_at"))
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    weeks = [(weeks_back, "approved") for weeks_back in range(HISTORY_WEEKS + 4, 4, -1)] + list(RECENT_WEEKS)
    entries = []
    for local in PEOPLE:
        member = members.get(local)
        if member is None:
            continue
        allowance = policy_for(member).weekly_allowance_minutes
        approver = member.approver() or admin
        plan = [*PLAN, MENTORING] if local in MENTORS else PLAN
        for weeks_back, status in weeks:
            week = monday - dt.timedelta(weeks=weeks_back)
            used = 0
            for offset, minutes, activity, note in plan:
                day = week + dt.timedelta(days=offset)
                if day > today or day < timezone.localdate(joined[member.pk]):
                    continue
                used += minutes
                key = uuid.uuid5(NAMESPACE, f"{local}-{day.isoformat()}-{activity}")
                entry_status = status
                if status == "rejected" and activity != Activity.SHARE:
                    entry_status = "approved"
                decided_by = approver if entry_status in ("approved", "rejected") else None
                entries.append(
                    TimeEntry(
                        member=member,
                        team=member.team,
                        team_name=member.team.name if member.team else "",
                        date=day,
                        minutes=minutes,
                        activity=activity,
                        note=note,
                        status=entry_status,
                        rejection_reason="Please say what you shared and where." if entry_status == "rejected" else "",
                        flag_over_allowance=used > allowance,
                        approved_by=decided_by,
                        approver_email=decided_by.email if decided_by else "",
                        approved_at=timezone.now() if decided_by else None,
                        idempotency_key=key,
                        created_by=member.user,
                    )
                )
    keys = [entry.idempotency_key for entry in entries]
    existing = set(TimeEntry.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    entries = [entry for entry in entries if entry.idempotency_key not in existing]
    TimeEntry.objects.bulk_create(entries)
    TimeEntryHistory.objects.bulk_create(
        TimeEntryHistory(
            entry=entry,
            actor=entry.created_by,
            actor_email=entry.created_by.email,
            action="created",
            after=entry.snapshot(),
        )
        for entry in entries
    )
