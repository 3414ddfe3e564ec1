"""The clock's part in a member's data export and account deletion.

Approved time is payroll: on deletion it stays under an anonymous label
("Former member #<id>") with the team name copied; drafts, submitted and
rejected entries go, as do the running timer and locked weeks.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.lifecycle import DataPart, register_data

from .models import ClockTimer, ClockWeekLock, TimeEntry
from .services import clock_members_lock


def clock_export(*, member) -> dict[str, Any]:
    entries = TimeEntry.objects.filter(member=member).prefetch_related("history").order_by("date", "pk")
    return {
        "time_entries": [
            {
                "date": e.date.isoformat(),
                "started_at": e.started_at.isoformat() if e.started_at else None,
                "ended_at": e.ended_at.isoformat() if e.ended_at else None,
                "minutes": e.minutes,
                "activity": e.activity,
                "source": e.source,
                "status": e.status,
                "rejection_reason": e.rejection_reason,
                "note": e.note,
                "stream_entry": {"title": e.stream_title, "link": e.stream_link} if e.stream_link else None,
                "team": e.team_name,
                "approver": e.approver_email,
                "deleted": e.deleted_at is not None,
                "history": [
                    {"at": h.at.isoformat(), "action": h.action, "by": h.actor_email, "reason": h.reason}
                    for h in e.history.all()
                ],
            }
            for e in entries
        ],
        "running_timer": (
            {"started_at": t.started_at.isoformat(), "activity": t.activity}
            if (t := ClockTimer.objects.filter(member=member).first())
            else None
        ),
    }


def clock_delete(*, member) -> None:
    with transaction.atomic():
        # Like every clock write: no entry or week lock lands half way through.
        clock_members_lock(member_ids=[member.pk])
        ClockTimer.objects.filter(member=member).delete()
        ClockWeekLock.objects.filter(member=member).delete()
        TimeEntry.objects.filter(member=member).exclude(status=TimeEntry.Status.APPROVED).delete()
        kept = TimeEntry.objects.filter(member=member, status=TimeEntry.Status.APPROVED)
        for entry in kept.select_related("team"):
            entry.team_name = entry.team_name or (entry.team.name if entry.team else "")
            entry.save(update_fields=["team_name"])
        kept.update(
            member=None,
            member_label=f"Former member #{member.pk}",
            note="",
            stream_entry=None,
            stream_title="",
            stream_link="",
        )


def register() -> None:
    register_data(
        DataPart(
            name="clock",
            models=("clock.TimeEntry", "clock.TimeEntryHistory", "clock.ClockTimer", "clock.ClockWeekLock"),
            export=clock_export,
            delete=clock_delete,
        )
    )
