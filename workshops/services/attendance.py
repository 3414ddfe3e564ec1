"""Marking attendance for a whole session in one go.

Time on the clock hooks in here: see the comment in `attendance_mark`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from members.models import User

from ..clock.services import time_entry_record_attendance
from ..models import Attendance, Registration, WorkshopSession
from .registration import event_append, workshop_lock

Status = Registration.Status


@dataclass(frozen=True)
class Mark:
    status: str
    minutes: int | None = None


def _overall_status(statuses: list[str], session_count: int) -> str:
    """A registration's status from its per-session marks."""
    present = [s for s in statuses if s in (Attendance.Status.ATTENDED, Attendance.Status.PARTIAL)]
    if present:
        if len(statuses) == session_count and all(s == Attendance.Status.ATTENDED for s in statuses):
            return Status.ATTENDED
        return Status.PARTIAL
    if statuses and all(s == Attendance.Status.EXCUSED for s in statuses):
        return Status.EXCUSED
    return Status.NO_SHOW


def attendance_mark(*, session: WorkshopSession, marks: dict[int, Mark], actor: User) -> int:
    """Record attendance for one session: `marks` maps registration ids (people
    holding a seat) to a Mark. Partial needs minutes within the session's
    length. Everything is checked before anything is written. Returns the
    number of changed marks."""
    duration = session.duration_minutes
    for mark in marks.values():
        if mark.status not in Attendance.Status.values:
            raise ValidationError(_("Unknown attendance status."))
        if mark.status == Attendance.Status.PARTIAL:
            if mark.minutes is None or not 1 <= mark.minutes <= duration:
                raise ValidationError(
                    _("Partial attendance needs the minutes attended, between 1 and %(max)s.") % {"max": duration}
                )
    changed = 0
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=session.workshop_id)
        registrations = {
            r.pk: r for r in Registration.objects.filter(workshop=workshop, pk__in=list(marks)).holding_seats()
        }
        unknown = set(marks) - set(registrations)
        if unknown:
            raise ValidationError(_("Some people on this form no longer hold a seat; reload the page."))
        existing = {
            a.registration_id: a for a in Attendance.objects.filter(session=session, registration__in=registrations)
        }
        session_count = workshop.sessions.count()
        for registration_id, mark in marks.items():
            registration = registrations[registration_id]
            minutes = {
                Attendance.Status.ATTENDED: duration,
                Attendance.Status.PARTIAL: mark.minutes,
            }.get(mark.status, 0)
            current = existing.get(registration_id)
            if current is not None and current.status == mark.status and current.minutes == minutes:
                continue
            if current is None:
                current = Attendance(registration=registration, session=session)
            current.status = mark.status
            current.minutes = minutes
            current.marked_by = actor
            current.save()
            changed += 1
            event_append(registration=registration, actor=actor, status=mark.status, session=session, minutes=minutes)
            # Time on the clock: one approved Workshop entry per attended session
            # (the minutes counted: 0 when not there).
            time_entry_record_attendance(registration=registration, session=session, minutes=minutes, actor=actor)
            statuses = list(Attendance.objects.filter(registration=registration).values_list("status", flat=True))
            overall = _overall_status(statuses, session_count)
            if overall != registration.status:
                registration.status = overall
                registration.save(update_fields=["status", "updated_at"])
    return changed
