"""Demo time on the clock: a default policy, a team override, and several
weeks of entries in every state. Idempotent (keyed by idempotency keys)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from members.models import Team

from .models.clock import Activity, ClockPolicy, TimeEntry, TimeEntryHistory

NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5")
PEOPLE = ["employee", "ben", "chen", "dana", "eli", "fatima", "manager", "sam", "tomas", "uma", "yara", "zoe"]
PLAN = [  # (days back from this week's Monday, minutes, activity, note)
    (0, 45, Activity.SEEK, "Read two posts on observability"),
    (1, 30, Activity.SENSE, "Notes on what I read"),
    (2, 40, Activity.SHARE, "Shared a summary with the team"),
]


@transaction.atomic
def seed_clock(members: dict) -> None:
    ClockPolicy.objects.get_or_create(
        team=None, defaults={"weekly_allowance_minutes": 120, "hourly_cost": Decimal("60.00")}
    )
    research = Team.objects.filter(name="Research").first()
    if research is not None:
        ClockPolicy.objects.get_or_create(
            team=research,
            defaults={"weekly_allowance_minutes": 180, "hourly_cost": Decimal("55.00"), "approval_required": True},
        )
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for local in PEOPLE:
        member = members.get(local)
        if member is None:
            continue
        for weeks_back, status in ((4, "approved"), (3, "approved"), (2, "rejected"), (1, "submitted"), (0, "draft")):
            week = monday - dt.timedelta(weeks=weeks_back)
            for offset, minutes, activity, note in PLAN:
                day = week + dt.timedelta(days=offset)
                if day > today:
                    continue
                key = uuid.uuid5(NAMESPACE, f"{local}-{day.isoformat()}-{activity}")
                if TimeEntry.objects.filter(idempotency_key=key).exists():
                    continue
                entry_status = status
                if status == "rejected" and activity != Activity.SHARE:
                    entry_status = "approved"
                approver = member.approver() if entry_status in ("approved", "rejected") else None
                entry = TimeEntry.objects.create(
                    member=member,
                    team=member.team,
                    team_name=member.team.name if member.team else "",
                    date=day,
                    minutes=minutes,
                    activity=activity,
                    note=note,
                    status=entry_status,
                    rejection_reason="Please say what you shared and where." if entry_status == "rejected" else "",
                    approved_by=approver,
                    approver_email=approver.email if approver else "",
                    approved_at=timezone.now() if approver else None,
                    idempotency_key=key,
                    created_by=member.user,
                )
                TimeEntryHistory.objects.create(
                    entry=entry,
                    actor=member.user,
                    actor_email=member.user.email,
                    action="created",
                    after=entry.snapshot(),
                )
