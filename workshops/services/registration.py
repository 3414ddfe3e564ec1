"""Registering, the waitlist, cancelling and approving.

Every change runs in one transaction that first locks the workshop row
(SELECT … FOR UPDATE), so seats are counted and given out one request at a
time: 50 people registering at once for 10 seats give exactly 10 registered
and 40 waitlisted at positions 1–40. Each change appends a RegistrationEvent
and, in the same transaction, brings the member's calendar along
(services/invitations.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.announcements import WORKSHOP_LAST_SEATS, announce
from members.models import Member, User

from ..models import Registration, RegistrationEvent, Workshop
from .invitations import invitations_send
from .notices import Notice

Status = Registration.Status

# A published workshop with this many free seats or fewer is "down to its
# last seats" (announced once, e.g. in chat channels).
LAST_SEATS = 3


class RegistrationRefused(Exception):
    """A registration change the rules do not allow; the message is for people."""


def workshop_lock(*, workshop_id: int) -> Workshop:
    """The workshop row, locked until the surrounding transaction ends."""
    return Workshop.objects.select_for_update().get(pk=workshop_id)


def can_manage(*, user: User, workshop: Workshop, facilitators: Iterable[User] | None = None) -> bool:
    """Admins and the workshop's facilitators manage it. ``facilitators``:
    the workshop's, when the caller has them already (prefetched)."""
    if user.is_staff:
        return True
    if facilitators is not None:
        return any(facilitator.pk == user.pk for facilitator in facilitators)
    return workshop.facilitators.filter(pk=user.pk).exists()


def event_append(
    *,
    registration: Registration,
    actor: User | None,
    status: str | None = None,
    note: str = "",
    session=None,
    minutes: int | None = None,
) -> RegistrationEvent:
    return RegistrationEvent.objects.create(
        registration=registration,
        status=status or registration.status,
        waitlist_position=registration.waitlist_position,
        session=session,
        minutes=minutes,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note[:300],
    )


def seats_taken(*, workshop: Workshop) -> int:
    return Registration.objects.filter(workshop=workshop).holding_seats().count()


def _next_waitlist_position(workshop: Workshop) -> int:
    return Registration.objects.filter(workshop=workshop).waitlisted().count() + 1


def waitlist_renumber(*, workshop: Workshop) -> None:
    """Positions 1..n in their current order, with no gaps."""
    waiting = list(Registration.objects.filter(workshop=workshop).waitlisted().order_by("waitlist_position", "id"))
    changed = []
    for position, registration in enumerate(waiting, start=1):
        if registration.waitlist_position != position:
            registration.waitlist_position = position
            changed.append(registration)
    if changed:
        Registration.objects.bulk_update(changed, ["waitlist_position", "updated_at"])


def waitlist_promote(*, workshop: Workshop, actor: User | None) -> list[Registration]:
    """Give free seats to the waitlist in order (position 1 first) and tell
    each promoted person. The caller holds the workshop lock."""
    free = workshop.capacity - seats_taken(workshop=workshop)
    if free <= 0 or workshop.status != Workshop.Status.PUBLISHED or workshop.has_started():
        return []
    promoted = list(
        Registration.objects.filter(workshop=workshop)
        .waitlisted()
        .select_related("member__user")
        .order_by("waitlist_position", "id")[:free]
    )
    for registration in promoted:
        registration.status = Status.REGISTERED
        registration.waitlist_position = None
        registration.save(update_fields=["status", "waitlist_position", "updated_at"])
        event = event_append(registration=registration, actor=actor, note="promoted from the waitlist")
        invitations_send(
            workshop=workshop,
            registration=registration,
            notice=Notice(kind="workshop_promoted", key=f"workshops:promoted:{event.pk}", ics="PUBLISH"),
        )
    waitlist_renumber(workshop=workshop)
    return promoted


def _last_seats_announce(workshop: Workshop) -> None:
    """Announce that a published workshop is down to its last seats, when a
    seat was just taken. The caller holds the workshop lock; listeners keep
    one announcement per workshop."""
    free = workshop.capacity - seats_taken(workshop=workshop)
    if workshop.status == Workshop.Status.PUBLISHED and 0 < free <= LAST_SEATS:
        announce(WORKSHOP_LAST_SEATS, object_id=workshop.pk, seats_left=free)


def _refuse_unless_open(workshop: Workshop, *, on_behalf: bool, now) -> None:
    if workshop.status == Workshop.Status.CANCELLED:
        raise RegistrationRefused(_("This workshop was cancelled."))
    if workshop.status == Workshop.Status.FINISHED or workshop.has_ended(now):
        raise RegistrationRefused(_("This workshop has already taken place."))
    if workshop.status != Workshop.Status.PUBLISHED:
        raise RegistrationRefused(_("This workshop is not open for registration yet."))
    if not workshop.session_list:
        raise RegistrationRefused(_("This workshop has no sessions yet."))
    if workshop.has_started(now):
        raise RegistrationRefused(_("This workshop has already started; registration is closed."))
    if not on_behalf and workshop.registration_deadline and workshop.registration_deadline <= now:
        raise RegistrationRefused(_("The registration deadline has passed."))


def workshop_register(
    *, workshop_id: int, member: Member, actor: User, overbook: bool = False, note: str = ""
) -> Registration:
    """Register `member` (by themself, or by a facilitator on their behalf).

    A seat if one is free, else the waitlist. With approval required, a
    member's own registration waits as "requested". A facilitator may
    `overbook` on purpose: the seat is given beyond capacity and recorded."""
    now = timezone.now()
    on_behalf = actor.pk != member.user_id
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=workshop_id)
        if on_behalf and not can_manage(user=actor, workshop=workshop):
            raise RegistrationRefused(_("Only this workshop's facilitators can register someone else."))
        if overbook and not on_behalf:
            raise RegistrationRefused(_("Only a facilitator can overbook a workshop."))
        if not member.user.is_active:
            raise RegistrationRefused(_("This person's account is deactivated."))
        _refuse_unless_open(workshop, on_behalf=on_behalf, now=now)
        registration = Registration.objects.select_for_update().filter(workshop=workshop, member=member).first()
        if registration is not None and registration.is_active:
            if registration.status == Status.WAITLISTED:
                raise RegistrationRefused(
                    _("Already on the waitlist, at position %(position)s.")
                    % {"position": registration.waitlist_position}
                )
            raise RegistrationRefused(_("Already registered for this workshop."))
        if registration is None:
            registration = Registration(workshop=workshop, member=member)
        registration.registered_by = actor if on_behalf else None
        registration.overbooked = False
        registration.waitlist_position = None
        registration.reminded_at = None
        if workshop.approval_required and not on_behalf:
            registration.status = Status.REQUESTED
        elif seats_taken(workshop=workshop) < workshop.capacity:
            registration.status = Status.REGISTERED
        elif overbook:
            registration.status = Status.REGISTERED
            registration.overbooked = True
        else:
            registration.status = Status.WAITLISTED
            registration.waitlist_position = _next_waitlist_position(workshop)
        try:
            with transaction.atomic():
                registration.save()
        except IntegrityError as exc:
            raise RegistrationRefused(_("Already registered for this workshop.")) from exc
        if registration.overbooked:
            note = note or "overbooked on purpose by a facilitator"
        elif on_behalf:
            note = note or "registered by a facilitator"
        event = event_append(registration=registration, actor=actor, note=note)
        kind = {
            Status.REGISTERED: "workshop_confirmation",
            Status.WAITLISTED: "workshop_waitlisted",
            Status.REQUESTED: "workshop_requested",
        }[registration.status]
        _notice_with_invitations(workshop=workshop, registration=registration, kind=kind, event=event)
        if registration.status == Status.REGISTERED:
            _last_seats_announce(workshop)
    return registration


def _notice_with_invitations(
    *, workshop: Workshop, registration: Registration, kind: str, event: RegistrationEvent
) -> None:
    """The notice of a new registration status, carrying the calendar
    invitations once the member holds a seat (none while waiting)."""
    invitations_send(
        workshop=workshop,
        registration=registration,
        notice=Notice(
            kind=kind,
            key=f"workshops:{kind.removeprefix('workshop_')}:{event.pk}",
            ics="PUBLISH" if registration.status == Status.REGISTERED else None,
        ),
    )


def registration_cancel(*, registration_id: int, actor: User, note: str = "") -> Registration:
    """Cancel a registration (or a place on the waitlist, or a request). A
    freed seat goes to waitlist position 1 at once. Refused once the first
    session has started."""
    registration = Registration.objects.only("workshop_id").get(pk=registration_id)
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=registration.workshop_id)
        registration = Registration.objects.select_related("member__user").select_for_update().get(pk=registration_id)
        if actor.pk != registration.member.user_id and not can_manage(user=actor, workshop=workshop):
            raise RegistrationRefused(_("You can only cancel your own registration."))
        if not registration.is_active:
            raise RegistrationRefused(_("This registration is already cancelled."))
        if workshop.has_started():
            raise RegistrationRefused(_("The first session has started; the registration can no longer be cancelled."))
        held_seat = registration.holds_seat
        registration.status = Status.CANCELLED
        registration.waitlist_position = None
        registration.save(update_fields=["status", "waitlist_position", "updated_at"])
        event_append(registration=registration, actor=actor, note=note)
        invitations_send(workshop=workshop, registration=registration)
        if held_seat:
            waitlist_promote(workshop=workshop, actor=actor)
        waitlist_renumber(workshop=workshop)
    return registration


def registration_approve(*, registration_id: int, actor: User) -> Registration:
    """A facilitator approves a request: a seat if one is free, else the waitlist."""
    registration = Registration.objects.only("workshop_id").get(pk=registration_id)
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=registration.workshop_id)
        if not can_manage(user=actor, workshop=workshop):
            raise RegistrationRefused(_("Only this workshop's facilitators can approve registrations."))
        registration = Registration.objects.select_related("member__user").select_for_update().get(pk=registration_id)
        if registration.status != Status.REQUESTED:
            raise RegistrationRefused(_("This registration is not waiting for approval."))
        if seats_taken(workshop=workshop) < workshop.capacity:
            registration.status = Status.REGISTERED
        else:
            registration.status = Status.WAITLISTED
            registration.waitlist_position = _next_waitlist_position(workshop)
        registration.save(update_fields=["status", "waitlist_position", "updated_at"])
        event = event_append(registration=registration, actor=actor, note="approved")
        kind = "workshop_confirmation" if registration.status == Status.REGISTERED else "workshop_waitlisted"
        _notice_with_invitations(workshop=workshop, registration=registration, kind=kind, event=event)
        if registration.status == Status.REGISTERED:
            _last_seats_announce(workshop)
    return registration
