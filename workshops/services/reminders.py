"""The periodic notices: reminders before the first session, and after the
last one, closing the workshop and asking attendees for feedback. Both are safe
to run again (a retried task): rows are marked and keys are deterministic."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Registration, Workshop
from .notices import notice_send

# Feedback requests go out for workshops that ended within this period (so
# attendance marked a few days late still triggers them).
FEEDBACK_REQUEST_WINDOW = timedelta(days=30)


def reminders_send(*, now=None) -> int:
    """Remind registered people of workshops whose first session starts within
    WORKSHOP_REMINDER_HOURS. Returns how many reminders were queued."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.WORKSHOP_REMINDER_HOURS)
    workshops = Workshop.objects.upcoming().filter(first_start__lte=horizon)
    sent = 0
    for workshop in workshops:
        with transaction.atomic():
            due = (
                Registration.objects.filter(
                    workshop=workshop, status=Registration.Status.REGISTERED, reminded_at__isnull=True
                )
                .select_related("member__user")
                .select_for_update(skip_locked=True, of=("self",))
            )
            for registration in due:
                registration.workshop = workshop
                if notice_send(
                    kind="workshop_reminder",
                    registration=registration,
                    key=f"workshops:reminder:{registration.pk}",
                    ics="PUBLISH",
                ):
                    sent += 1
                registration.reminded_at = now
                registration.save(update_fields=["reminded_at"])
    return sent


def workshops_close_finished(*, now=None) -> int:
    """Mark published workshops whose last session ended as finished, and ask
    their attendees for feedback once. Returns how many requests were queued."""
    now = now or timezone.now()
    ended = Workshop.objects.with_dates().filter(
        status__in=(Workshop.Status.PUBLISHED, Workshop.Status.FINISHED),
        last_end__lte=now,
        last_end__gte=now - FEEDBACK_REQUEST_WINDOW,
    )
    sent = 0
    for workshop in ended:
        with transaction.atomic():
            if workshop.status == Workshop.Status.PUBLISHED:
                Workshop.objects.filter(pk=workshop.pk, status=Workshop.Status.PUBLISHED).update(
                    status=Workshop.Status.FINISHED, updated_at=now
                )
            due = (
                Registration.objects.filter(
                    workshop=workshop, feedback_requested_at__isnull=True, feedback__isnull=True
                )
                .attendees()
                .select_related("member__user")
                .select_for_update(skip_locked=True, of=("self",))
            )
            for registration in due:
                registration.workshop = workshop
                if notice_send(
                    kind="workshop_feedback_request",
                    registration=registration,
                    key=f"workshops:feedback-request:{registration.pk}",
                ):
                    sent += 1
                registration.feedback_requested_at = now
                registration.save(update_fields=["feedback_requested_at"])
    return sent
