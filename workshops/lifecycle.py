"""Workshops' part in offboarding and in a member's data export and deletion."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.lifecycle import DataPart, register_data, register_offboarding

from .models import Attendance, CalendarFeed, Feedback, Registration, Resource, Workshop, WorkshopMaterial


def _upcoming_facilitated(user) -> list[Workshop]:
    now = timezone.now()
    return [
        w
        for w in Workshop.objects.filter(
            facilitators=user, status__in=(Workshop.Status.DRAFT, Workshop.Status.PUBLISHED)
        ).prefetch_related("sessions")
        if w.starts_at is None or w.starts_at > now
    ]


def workshops_offboard(*, member, actor=None, replacement=None) -> None:
    """A leaving facilitator's upcoming workshops go to the replacement; their
    own upcoming registrations are cancelled so the waitlist moves up."""
    user = member.user
    with transaction.atomic():
        for workshop in _upcoming_facilitated(user):
            workshop.facilitators.remove(user)
            if replacement is not None:
                workshop.facilitators.add(replacement.user)
    _cancel_upcoming_registrations(member=member, actor=actor or user, note="member offboarded")


def _cancel_upcoming_registrations(*, member, actor, note: str) -> None:
    """Free the member's seats in upcoming workshops (the waitlist moves up)."""
    from .services.registration import RegistrationRefused, registration_cancel

    now = timezone.now()
    active = Registration.objects.filter(member=member).exclude(status=Registration.Status.CANCELLED)
    for registration in active.select_related("workshop"):
        workshop = registration.workshop
        if workshop.status == Workshop.Status.PUBLISHED and not workshop.has_started(now):
            try:
                registration_cancel(registration_id=registration.pk, actor=actor, note=note)
            except RegistrationRefused:
                continue


def workshops_export(*, member) -> dict[str, Any]:
    registrations = (
        Registration.objects.filter(member=member)
        .select_related("workshop")
        .prefetch_related("events", "attendance__session")
    )
    feedback = {f.registration_id: f for f in Feedback.objects.filter(registration__member=member)}
    return {
        "registrations": [
            {
                "workshop": r.workshop.title,
                "status": r.status,
                "waitlist_position": r.waitlist_position,
                "created_at": r.created_at.isoformat(),
                "history": [
                    {
                        "status": e.status,
                        "at": e.created_at.isoformat(),
                        "minutes": e.minutes,
                        "note": e.note,
                    }
                    for e in r.events.all()
                ],
                "attendance": [
                    {"session_start": a.session.starts_at.isoformat(), "status": a.status, "minutes": a.minutes}
                    for a in r.attendance.all()
                ],
                "feedback": (
                    {
                        "rating": feedback[r.pk].rating,
                        "next_step": feedback[r.pk].next_step,
                        "comment": feedback[r.pk].comment,
                    }
                    if r.pk in feedback
                    else None
                ),
            }
            for r in registrations
        ],
        "facilitated_workshops": list(
            Workshop.objects.filter(facilitators=member.user).values_list("title", flat=True)
        ),
        "calendar_feed": CalendarFeed.objects.filter(member=member).exists(),
    }


def workshops_delete(*, member) -> None:
    """Registrations (with their history, attendance and feedback) and the
    calendar feed go; workshops and library entries stay without the name."""
    user = member.user
    _cancel_upcoming_registrations(member=member, actor=user, note="account deleted")
    with transaction.atomic():
        Attendance.objects.filter(registration__member=member).delete()
        Registration.objects.filter(member=member).delete()
        CalendarFeed.objects.filter(member=member).delete()
        for workshop in Workshop.objects.filter(facilitators=user):
            workshop.facilitators.remove(user)
        Workshop.objects.filter(created_by=user).update(created_by=None)
        WorkshopMaterial.objects.filter(uploaded_by=user).update(uploaded_by=None)
        Resource.objects.filter(created_by=user).update(created_by=None)


def register() -> None:
    register_offboarding("workshops", workshops_offboard)
    register_data(
        DataPart(
            name="workshops",
            models=(
                "workshops.Registration",
                "workshops.RegistrationEvent",
                "workshops.Attendance",
                "workshops.Feedback",
                "workshops.CalendarFeed",
                "workshops.Workshop",
                "workshops.WorkshopMaterial",
                "workshops.Resource",
            ),
            export=workshops_export,
            delete=workshops_delete,
        )
    )
