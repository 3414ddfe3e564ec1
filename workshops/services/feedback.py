"""Feedback after the last session, the leaders' averages, and the follow-up
figures facilitators see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from feeds.models import Subscription
from members.models import Member

from ..models import Feedback, Registration, Workshop

# Leaders and follow-up figures only ever see groups of at least this size.
MIN_GROUP = 5
FOLLOW_UP_WINDOWS_DAYS = (30, 90)


def feedback_open(*, registration: Registration) -> bool:
    """An attendee may answer once, after the last session has ended."""
    return (
        registration.status in (Registration.Status.ATTENDED, Registration.Status.PARTIAL)
        and registration.workshop.has_ended()
        and not Feedback.objects.filter(registration=registration).exists()
    )


def feedback_submit(*, registration: Registration, rating: int, next_step: str = "", comment: str = "") -> Feedback:
    if registration.status not in (Registration.Status.ATTENDED, Registration.Status.PARTIAL):
        raise ValidationError(_("Only people who attended can give feedback."))
    if not registration.workshop.has_ended():
        raise ValidationError(_("Feedback opens after the last session."))
    if not 1 <= int(rating) <= 5:
        raise ValidationError(_("Choose a rating from 1 to 5."))
    try:
        with transaction.atomic():
            return Feedback.objects.create(
                registration=registration, rating=rating, next_step=next_step.strip(), comment=comment.strip()
            )
    except IntegrityError as exc:
        raise ValidationError(_("You have already answered; thank you.")) from exc


@dataclass(frozen=True)
class FeedbackAverage:
    workshop: Workshop
    answers: int
    average: float


def feedback_averages() -> list[FeedbackAverage]:
    """Average rating per workshop, only for workshops with at least 5 answers."""
    rows = (
        Workshop.objects.annotate(
            answers=Count("registrations__feedback"), average=Avg("registrations__feedback__rating")
        )
        .filter(answers__gte=MIN_GROUP)
        .order_by("-answers", "title")
    )
    return [FeedbackAverage(workshop=w, answers=w.answers, average=round(float(w.average), 2)) for w in rows]


@dataclass(frozen=True)
class FollowUpFigure:
    days: int
    attendees: int
    attendees_added: int
    others: int
    others_added: int
    complete: bool  # the window has fully passed

    @property
    def attendee_share(self) -> float:
        return self.attendees_added / self.attendees if self.attendees else 0.0

    @property
    def other_share(self) -> float:
        return self.others_added / self.others if self.others else 0.0


def follow_up(*, workshop: Workshop) -> list[FollowUpFigure] | None:
    """Share of attendees who added a shared source or account within 30 and
    90 days after the last session, against active members who did not attend.
    None unless both groups have at least 5 members."""
    anchor = workshop.ends_at
    if anchor is None or anchor > timezone.now():
        return None
    attended = Registration.objects.filter(workshop=workshop).attendees().values("member_id")
    attendees = Member.objects.filter(pk__in=attended)
    others = Member.objects.active().exclude(pk__in=attended).filter(created_at__lte=anchor)
    if attendees.count() < MIN_GROUP or others.count() < MIN_GROUP:
        return None
    figures = []
    for days in FOLLOW_UP_WINDOWS_DAYS:
        end = anchor + timedelta(days=days)
        added = Subscription.objects.shared().filter(member=OuterRef("pk"), added_at__gt=anchor, added_at__lte=end)
        figures.append(
            FollowUpFigure(
                days=days,
                attendees=attendees.count(),
                attendees_added=attendees.filter(Exists(added)).count(),
                others=others.count(),
                others_added=others.filter(Exists(added)).count(),
                complete=end <= timezone.now(),
            )
        )
    return figures
