"""Workshop emails, written to the outbox inside the caller's transaction.

Every notice has a deterministic idempotency key, so a retried task or a
repeated call never sends it twice. Optional kinds (reminders, feedback
requests) go only to members who want them (`members.notifications`) and
carry the one-click unsubscribe link, its List-Unsubscribe headers and the
link to the preferences page; confirmations, waitlist and cancellation
notices are not optional and carry none.

A notice that changes what is in the member's calendar (a confirmation, a
promotion, a cancelled workshop) carries the calendar invitation of the
first session it concerns (services/invitations.py sends the others), or,
for members who turned invitations off, the workshop's calendar file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from members.notifications import WORKSHOP_FEEDBACK, WORKSHOP_REMINDERS, email_wanted, optional_email_enqueue
from members.outbox import email_enqueue

from ..calendar import ics_attachment, invitation_parts
from ..models import Registration, Workshop

OPT_OUT_REMINDERS = WORKSHOP_REMINDERS
OPT_OUT_FEEDBACK = WORKSHOP_FEEDBACK
# notice kind -> the optional-email preference it belongs to
OPTIONAL_KINDS = {
    "workshop_reminder": OPT_OUT_REMINDERS,
    "workshop_feedback_request": OPT_OUT_FEEDBACK,
}


def _subject(kind: str, workshop: Workshop) -> str:
    from django.utils.translation import gettext as _

    subjects = {
        "workshop_confirmation": _("You are registered: %(title)s"),
        "workshop_requested": _("Registration request received: %(title)s"),
        "workshop_waitlisted": _("You are on the waitlist: %(title)s"),
        "workshop_promoted": _("A seat opened up, you are registered: %(title)s"),
        "workshop_reminder": _("Reminder: %(title)s starts soon"),
        "workshop_cancelled": _("Cancelled: %(title)s"),
        "workshop_feedback_request": _("How was %(title)s?"),
    }
    return subjects[kind] % {"title": workshop.title}


@dataclass(frozen=True)
class Notice:
    """A notice to send with a registration change: its kind, its idempotency
    key, and the whole-workshop calendar file ("PUBLISH", "CANCEL" or None)
    it carries when no calendar invitation does."""

    kind: str
    key: str
    ics: str | None = None


@dataclass(frozen=True)
class CalendarPart:
    """One calendar invitation riding on an email (services/invitations.py)."""

    method: str
    ics: str


def notice_send(
    *,
    kind: str,
    registration: Registration,
    key: str,
    ics: str | None = None,
    invitation: CalendarPart | None = None,
    more_invitations: int = 0,
) -> bool:
    """Queue one notice to a registrant. `ics` is None (no attachment),
    "PUBLISH" or "CANCEL" (the whole workshop as a file); `invitation` is
    the calendar invitation of one session to carry instead, and
    `more_invitations` how many further sessions come in their own emails.
    Returns False when the member opted out."""
    member = registration.member
    user = member.user
    if not user.is_active:
        return False
    opt_out = OPTIONAL_KINDS.get(kind)
    if opt_out and invitation is not None:
        raise ValueError("A calendar invitation rides only on a notice the member cannot turn off.")
    if opt_out and not email_wanted(member, opt_out):
        return False
    workshop = registration.workshop
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "member": member,
            "workshop": workshop,
            "registration": registration,
            "sessions": workshop.session_list,
            "tz": member.tzinfo,
            "detail_url": settings.SITE_URL + reverse("workshops:detail", kwargs={"pk": workshop.pk}),
            "feedback_url": settings.SITE_URL + reverse("workshops:feedback", kwargs={"pk": workshop.pk}),
            "SITE_NAME": settings.SITE_NAME,
            "invitation": invitation,
            "more_invitations": more_invitations,
        }
        body = render_to_string(f"workshops/email/{kind}.txt", context)
        subject = _subject(kind, workshop)
    attachments, alternatives = [], []
    if invitation is not None:
        alternative, attachment = invitation_parts(invitation.ics, method=invitation.method)
        alternatives.append(alternative)
        attachments.append(attachment)
    elif ics:
        attachments.append(ics_attachment(workshop, include_link=registration.holds_seat, method=ics))
    if opt_out:
        optional_email_enqueue(
            member=member,
            kind=opt_out,
            outbox_kind=kind,
            subject=subject,
            body_text=body,
            idempotency_key=key,
            attachments=attachments,
        )
        return True
    email_enqueue(
        to=user.email,
        kind=kind,
        subject=subject,
        body_text=body,
        idempotency_key=key,
        user=user,
        attachments=attachments,
        alternatives=alternatives,
    )
    return True
