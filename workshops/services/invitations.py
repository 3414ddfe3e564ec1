"""Calendar invitations: each attendee's calendar follows their registration.

Holding a seat (registering, being approved, being promoted from the
waitlist) sends a REQUEST for each upcoming session; a change to a session's
title, time or place sends an updated REQUEST with a higher SEQUENCE;
cancelling the registration, removing a session or cancelling the workshop
sends a CANCEL (STATUS:CANCELLED). Waitlisted and requested registrations get
nothing until they hold a seat. Sessions that have ended are left alone.

One message is one session (Outlook, Google and Apple calendars act on one
event per invitation). A notice that goes out anyway (the confirmation, the
promotion, the cancelled workshop) carries the first one; further sessions
come in their own emails.

These are direct calls from the registration and workshop services, inside
their transaction and under the workshop's row lock. The CalendarInvitation
rows (what each calendar was last told), the sessions' SEQUENCE and the
outbox emails commit with the change or not at all; two concurrent edits
take turns, so a SEQUENCE is never given twice and never goes down. Each email
has a deterministic idempotency key (registration, session, SEQUENCE), and
the outbox sends it once whatever the broker does.

Members who turned invitations off (Member.calendar_invitations) get no new
invitations; an event already in their calendar is still moved or removed,
so it never shows a wrong time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.outbox import email_enqueue

from ..calendar import (
    CANCEL,
    REQUEST,
    invitation_ics,
    invitation_parts,
    session_fingerprint,
    session_summary,
    session_uid,
    workshop_url,
)
from ..models import CalendarInvitation, Registration, Workshop, WorkshopSession
from ..models.workshop import SEAT_STATUSES
from .notices import CalendarPart, Notice, notice_send

# Why a message goes out -> the outbox kind of its own email.
KINDS = {
    "invitation": "workshop_invitation",
    "update": "workshop_update",
    "session_cancelled": "workshop_session_cancelled",
    "registration_cancelled": "workshop_registration_cancelled",
    "workshop_cancelled": "workshop_cancelled",
}


@dataclass(frozen=True)
class _Message:
    session: WorkshopSession
    method: str
    sequence: int
    reason: str
    ics: str


@dataclass(frozen=True)
class _Organizer:
    email: str
    name: str


def _organizer(workshop: Workshop) -> _Organizer:
    """The workshop's first facilitator (the earliest added), or the site's
    own address for a workshop that has none left."""
    through = Workshop.facilitators.through
    link = through.objects.filter(workshop=workshop).select_related("user__member").order_by("pk").first()
    if link is None:
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        return _Organizer(email=address, name=name or settings.SITE_NAME)
    user = link.user
    member = getattr(user, "member", None)
    return _Organizer(email=user.email, name=member.name if member else user.email.split("@")[0])


def _session_sequence_raise(session: WorkshopSession, sequence: int) -> None:
    # Greatest(): never lowered, even by a caller that forgot the lock.
    if sequence > session.sequence:
        WorkshopSession.objects.filter(pk=session.pk).update(sequence=Greatest(F("sequence"), sequence))
        session.sequence = sequence


def _plan(
    *,
    workshop: Workshop,
    registration: Registration,
    sessions: Sequence[WorkshopSession],
    records: dict[int, CalendarInvitation],
    removed_ids: Collection[int],
    organizer: _Organizer,
    now: datetime,
) -> list[_Message]:
    """Decide what this attendee's calendar must be told about `sessions`,
    record it and render it."""
    member = registration.member
    user = member.user
    if not user.is_active:
        return []
    workshop_on = workshop.status != Workshop.Status.CANCELLED
    messages = []
    for session in sessions:
        if session.ends_at <= now:
            continue
        record = records.get(session.pk)
        in_calendar = record is not None and record.in_calendar
        fingerprint = session_fingerprint(workshop, session)
        if registration.holds_seat and workshop_on and session.pk not in removed_ids:
            if not in_calendar:
                if not member.calendar_invitations:
                    continue
                method, reason = REQUEST, "invitation"
            elif record.fingerprint != fingerprint:
                method, reason = REQUEST, "update"
            else:
                continue
        elif in_calendar:
            method = CANCEL
            if not workshop_on:
                reason = "workshop_cancelled"
            elif session.pk in removed_ids:
                reason = "session_cancelled"
            else:
                reason = "registration_cancelled"
        else:
            continue
        # Higher than anything this UID was ever sent with, and than what
        # this attendee last got.
        sequence = max(session.sequence, record.sequence + 1 if record is not None else 0)
        _session_sequence_raise(session, sequence)
        if record is None:
            record = CalendarInvitation(registration=registration, session=session, uid=session_uid(session))
        record.sequence, record.method, record.fingerprint, record.sent_at = sequence, method, fingerprint, now
        record.save()
        records[session.pk] = record
        ics = invitation_ics(
            workshop=workshop,
            session=session,
            method=method,
            uid=record.uid,
            sequence=sequence,
            organizer_email=organizer.email,
            organizer_name=organizer.name,
            attendee_email=user.email,
            attendee_name=member.name,
        )
        messages.append(_Message(session=session, method=method, sequence=sequence, reason=reason, ics=ics))
    return messages


def _subject(reason: str, summary: str) -> str:
    subjects = {
        "invitation": _("Invitation: %(summary)s"),
        "update": _("Changed: %(summary)s"),
        "session_cancelled": _("Cancelled: %(summary)s"),
        "registration_cancelled": _("Your place is cancelled: %(summary)s"),
        "workshop_cancelled": _("Cancelled: %(summary)s"),
    }
    return subjects[reason] % {"summary": summary}


def _enqueue(
    *, workshop: Workshop, registration: Registration, message: _Message, numbering: Sequence[WorkshopSession]
) -> None:
    member = registration.member
    session = message.session
    with translation.override(settings.LANGUAGE_CODE):
        summary = session_summary(workshop, session, numbering)
        body = render_to_string(
            "workshops/email/workshop_calendar.txt",
            {
                "member": member,
                "workshop": workshop,
                "registration": registration,
                "sessions": [session],
                "summary": summary,
                "reason": message.reason,
                "tz": member.tzinfo,
                "detail_url": workshop_url(workshop),
            },
        )
        subject = _subject(message.reason, summary)
    alternative, attachment = invitation_parts(message.ics, method=message.method)
    email_enqueue(
        to=member.user.email,
        kind=KINDS[message.reason],
        subject=subject,
        body_text=body,
        idempotency_key=f"workshops:calendar:{registration.pk}:{session.pk}:{message.sequence}",
        user=member.user,
        attachments=[attachment],
        alternatives=[alternative],
    )


def _deliver(
    *,
    workshop: Workshop,
    registration: Registration,
    messages: list[_Message],
    numbering: Sequence[WorkshopSession],
    notice: Notice | None,
) -> None:
    rest = messages
    if notice is not None:
        lead = messages[0] if messages else None
        notice_send(
            kind=notice.kind,
            registration=registration,
            key=notice.key,
            ics=None if lead else notice.ics,
            invitation=CalendarPart(method=lead.method, ics=lead.ics) if lead else None,
            more_invitations=len(messages) - 1 if lead else 0,
        )
        rest = messages[1:]
    for message in rest:
        _enqueue(workshop=workshop, registration=registration, message=message, numbering=numbering)


def _bring_along(
    *,
    workshop: Workshop,
    registrations: Iterable[Registration],
    sessions: Sequence[WorkshopSession],
    numbering: Sequence[WorkshopSession],
    removed_ids: Collection[int] = (),
    notice: Notice | None = None,
) -> int:
    organizer = _organizer(workshop)
    now = timezone.now()
    count = 0
    for registration in registrations:
        registration.workshop = workshop
        records = {r.session_id: r for r in registration.calendar_invitations.all()}
        messages = _plan(
            workshop=workshop,
            registration=registration,
            sessions=sessions,
            records=records,
            removed_ids=removed_ids,
            organizer=organizer,
            now=now,
        )
        _deliver(workshop=workshop, registration=registration, messages=messages, numbering=numbering, notice=notice)
        count += len(messages)
    return count


def invitations_send(*, workshop: Workshop, registration: Registration, notice: Notice | None = None) -> int:
    """Bring one attendee's calendar in line with their registration (after
    it changed). With `notice`, the notice goes out in any case and carries
    the first message. The caller holds the workshop lock. Returns how many
    calendar messages were written."""
    sessions = workshop.session_list
    return _bring_along(
        workshop=workshop, registrations=[registration], sessions=sessions, numbering=sessions, notice=notice
    )


def invitations_update(*, workshop: Workshop) -> int:
    """After the workshop or its sessions were edited: an update to every
    calendar that shows a session otherwise than it now is, an invitation for
    a new session. A save that changes nothing sends nothing. The caller
    holds the workshop lock. Returns how many messages were written."""
    attendees = (
        Registration.objects.filter(workshop=workshop)
        .filter(Q(status__in=SEAT_STATUSES) | Q(calendar_invitations__method=CalendarInvitation.Method.REQUEST))
        .distinct()
        .select_related("member__user")
        .prefetch_related("calendar_invitations")
        .order_by("pk")
    )
    sessions = workshop.session_list
    return _bring_along(workshop=workshop, registrations=attendees, sessions=sessions, numbering=sessions)


def invitations_cancel_sessions(
    *, workshop: Workshop, sessions: Sequence[WorkshopSession], numbering: Sequence[WorkshopSession]
) -> int:
    """Before `sessions` are removed from the workshop: a CANCEL to every
    calendar holding one. `numbering` is the series as attendees knew it
    (before the removal), for the emails' subjects. The caller holds the
    workshop lock."""
    if not sessions:
        return 0
    removed_ids = {s.pk for s in sessions}
    holders = (
        Registration.objects.filter(
            calendar_invitations__session__in=removed_ids,
            calendar_invitations__method=CalendarInvitation.Method.REQUEST,
        )
        .distinct()
        .select_related("member__user")
        .prefetch_related("calendar_invitations")
        .order_by("pk")
    )
    return _bring_along(
        workshop=workshop, registrations=holders, sessions=sessions, numbering=numbering, removed_ids=removed_ids
    )


def sessions_sequence_raise(*, workshop: Workshop) -> None:
    """Every session of the workshop has changed for calendars (the workshop
    was cancelled): one step up. The caller holds the workshop lock."""
    WorkshopSession.objects.filter(workshop=workshop).update(sequence=F("sequence") + 1)
    workshop.__dict__.pop("session_list", None)
