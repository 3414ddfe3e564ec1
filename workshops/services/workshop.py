"""Creating, editing, publishing, cancelling and duplicating workshops;
materials and library resources.

Each workflow validates everything first and writes in one transaction, so bad
input leaves nothing half-saved.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.announcements import WORKSHOP_PUBLISHED, announce
from feeds.fetch import FetchError, check_url
from members.audit import audit_record
from members.models import User

from ..calendar import session_fingerprint
from ..models import Registration, Resource, Topic, Workshop, WorkshopMaterial, WorkshopSession
from ..uploads import upload_check
from .invitations import invitations_cancel_sessions, invitations_send, invitations_update, sessions_sequence_raise
from .notices import Notice
from .registration import seats_taken, waitlist_promote, workshop_lock

Status = Workshop.Status


@dataclass
class SessionInput:
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    mode: str
    room: str = ""
    online_url: str = ""
    session_id: int | None = None


def wall_time_to_utc(*, day: date, at: time, time_zone: str) -> datetime:
    """An aware datetime for a wall-clock time in a zone. A time that does not
    exist (clocks jump forward) or happens twice (clocks go back) that day is
    refused with a message, rather than guessed."""
    try:
        tz = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s.") % {"tz": time_zone}) from exc
    local = datetime.combine(day, at, tzinfo=tz)
    round_trip = local.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            _("%(time)s does not exist on %(day)s in %(tz)s: the clocks change that night. Choose another time.")
            % {"time": at.strftime("%H:%M"), "day": day.isoformat(), "tz": time_zone}
        )
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        raise ValidationError(
            _("%(time)s happens twice on %(day)s in %(tz)s: the clocks go back that night. Choose another time.")
            % {"time": at.strftime("%H:%M"), "day": day.isoformat(), "tz": time_zone}
        )
    return local.astimezone(zoneinfo.ZoneInfo("UTC"))


def online_url_check(url: str) -> str:
    """An http(s) link (syntax only, never fetched), or a ValidationError."""
    try:
        return check_url(url)
    except FetchError as exc:
        raise ValidationError(_("The online link must be an http(s) address: %(error)s") % {"error": exc}) from exc


def _sessions_check(sessions: list[SessionInput]) -> None:
    for index, session in enumerate(sessions, start=1):
        if session.ends_at <= session.starts_at:
            raise ValidationError(_("Session %(n)s ends before it starts.") % {"n": index})
        if session.mode == WorkshopSession.Mode.ONLINE:
            if not session.online_url:
                raise ValidationError(_("Session %(n)s is online: give its link.") % {"n": index})
            online_url_check(session.online_url)
        elif session.online_url:
            online_url_check(session.online_url)


def workshop_save(
    *,
    workshop: Workshop,
    actor: User,
    sessions: list[SessionInput],
    topics: list[Topic] | None = None,
    facilitators: list[User] | None = None,
    resources: list[Resource] | None = None,
    allow_overbooking: bool = False,
) -> Workshop:
    """Create or update a workshop with its sessions (the full list: sessions
    not in it are removed, which cancels them). Raises ValidationError before
    writing anything.

    Calendars follow in the same transaction: a session whose title, time or
    place changed gets a higher SEQUENCE and an update to every attendee, a
    new one an invitation, a removed one a CANCEL; a save that changes
    nothing sends nothing."""
    _sessions_check(sessions)
    if workshop.registration_deadline and sessions:
        first = min(s.starts_at for s in sessions)
        if workshop.registration_deadline > first:
            raise ValidationError(_("The registration deadline must be before the first session starts."))
    creating = workshop.pk is None
    with transaction.atomic():
        before: dict[int, str] = {}
        if not creating:
            locked = workshop_lock(workshop_id=workshop.pk)
            before = {s.pk: session_fingerprint(locked, s) for s in locked.session_list}
            taken = seats_taken(workshop=locked)
            if workshop.capacity < taken:
                if not allow_overbooking:
                    raise ValidationError(
                        _(
                            "%(taken)s people are registered, more than the capacity of %(capacity)s. "
                            "Raise the capacity, or tick “overbook on purpose” to keep them all."
                        )
                        % {"taken": taken, "capacity": workshop.capacity}
                    )
                audit_record(
                    action="workshop.overbooked",
                    actor=actor,
                    obj=workshop,
                    before={"capacity": locked.capacity},
                    after={"capacity": workshop.capacity, "registered": taken},
                )
        else:
            workshop.created_by = actor
        workshop.save()
        if creating:
            workshop.facilitators.add(actor)
        if facilitators is not None:
            keep = set(facilitators) or {actor}
            workshop.facilitators.set(keep)
        if topics is not None:
            workshop.topics.set(topics)
        if resources is not None:
            workshop.resources.set(resources)
        existing = {s.pk: s for s in workshop.sessions.all()}
        kept = []
        for data in sessions:
            session = existing.get(data.session_id) or WorkshopSession(workshop=workshop)
            session.starts_at = data.starts_at
            session.ends_at = data.ends_at
            session.time_zone = data.time_zone
            session.mode = data.mode
            session.room = data.room
            session.online_url = data.online_url
            session.save()
            kept.append(session)
        kept_ids = {s.pk for s in kept}
        removed = [s for pk, s in existing.items() if pk not in kept_ids]
        if not creating:
            _sessions_changed(
                workshop=workshop, kept=kept, removed=removed, before=before, old_numbering=locked.session_list
            )
        workshop.sessions.filter(pk__in=[s.pk for s in removed]).delete()
        workshop.__dict__.pop("session_list", None)
        if not creating:
            invitations_update(workshop=workshop)
            waitlist_promote(workshop=workshop, actor=actor)
    return workshop


def _sessions_changed(
    *,
    workshop: Workshop,
    kept: list[WorkshopSession],
    removed: list[WorkshopSession],
    before: dict[int, str],
    old_numbering: list[WorkshopSession],
) -> None:
    """A kept session whose event changed for calendars (title, time, place)
    takes the next SEQUENCE; removed sessions are cancelled in the calendars
    holding them, before they are deleted (`old_numbering`, the series
    before, numbers them in the emails' subjects)."""
    if workshop.status != Status.DRAFT:
        for session in kept:
            if session.pk in before and session_fingerprint(workshop, session) != before[session.pk]:
                session.sequence += 1
                session.save(update_fields=["sequence"])
    invitations_cancel_sessions(workshop=workshop, sessions=removed, numbering=old_numbering)


def workshop_publish(*, workshop_id: int, actor: User) -> Workshop:
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=workshop_id)
        if workshop.status != Status.DRAFT:
            raise ValidationError(_("Only a draft can be published."))
        if not workshop.session_list:
            raise ValidationError(_("Add at least one session before publishing."))
        if workshop.has_started():
            raise ValidationError(_("The first session is in the past; change the dates before publishing."))
        workshop.status = Status.PUBLISHED
        workshop.published_at = timezone.now()
        workshop.save(update_fields=["status", "published_at", "updated_at"])
        announce(WORKSHOP_PUBLISHED, object_id=workshop.pk)
    return workshop


def workshop_cancel(*, workshop_id: int, actor: User, reason: str = "") -> Workshop:
    """Cancel a workshop: STATUS:CANCELLED with a raised SEQUENCE for
    calendars, and a cancellation email to everyone registered, waiting or
    requesting; those holding a seat get a calendar CANCEL for each session
    (or, without calendar invitations, the workshop's METHOD:CANCEL file).
    Registrations keep their status so members' calendar feeds show the
    cancellation too."""
    with transaction.atomic():
        workshop = workshop_lock(workshop_id=workshop_id)
        if workshop.status in (Status.CANCELLED, Status.FINISHED) or workshop.has_ended():
            raise ValidationError(_("This workshop is already cancelled or over."))
        was_draft = workshop.status == Status.DRAFT
        workshop.status = Status.CANCELLED
        workshop.cancelled_at = timezone.now()
        workshop.save(update_fields=["status", "cancelled_at", "updated_at"])
        sessions_sequence_raise(workshop=workshop)
        if not was_draft:
            active = (
                Registration.objects.filter(workshop=workshop)
                .exclude(status=Registration.Status.CANCELLED)
                .select_related("member__user")
            )
            for registration in active:
                invitations_send(
                    workshop=workshop,
                    registration=registration,
                    notice=Notice(
                        kind="workshop_cancelled",
                        key=f"workshops:cancelled:{workshop.pk}:{registration.pk}",
                        ics="CANCEL" if registration.holds_seat else None,
                    ),
                )
        audit_record(action="workshop.cancelled", actor=actor, obj=workshop, after={"reason": reason[:300]})
    return workshop


def _shift_wall_time(value: datetime, tz: zoneinfo.ZoneInfo, days: int) -> datetime:
    """The same wall-clock time `days` later (an hour off across a DST change
    would surprise people, so we keep the local time)."""
    local = value.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=tz).astimezone(zoneinfo.ZoneInfo("UTC"))


def workshop_duplicate(*, workshop_id: int, actor: User) -> Workshop:
    """A draft copy to run the workshop again: same content, facilitators,
    topics, materials and resources; sessions moved forward by whole weeks
    (same weekday and local time) so they lie in the future."""
    source = Workshop.objects.prefetch_related("sessions", "topics", "facilitators", "resources", "materials").get(
        pk=workshop_id
    )
    now = timezone.now()
    days = 0
    if source.starts_at and source.starts_at <= now:
        weeks = (now - source.starts_at).days // 7 + 1
        days = weeks * 7
    with transaction.atomic():
        copy = Workshop.objects.create(
            title=source.title,
            description=source.description,
            audience=source.audience,
            capacity=source.capacity,
            approval_required=source.approval_required,
            prework_note=source.prework_note,
            duplicated_from=source,
            created_by=actor,
        )
        copy.facilitators.set({*source.facilitators.all(), actor})
        copy.topics.set(source.topics.all())
        copy.resources.set(source.resources.all())
        for session in source.session_list:
            WorkshopSession.objects.create(
                workshop=copy,
                starts_at=_shift_wall_time(session.starts_at, session.tzinfo, days),
                ends_at=_shift_wall_time(session.ends_at, session.tzinfo, days),
                time_zone=session.time_zone,
                mode=session.mode,
                room=session.room,
                online_url=session.online_url,
            )
        for material in source.materials.all():
            WorkshopMaterial.objects.create(
                workshop=copy,
                title=material.title,
                url=material.url,
                file=material.file.name if material.file else "",
                file_name=material.file_name,
                content_type=material.content_type,
                size_bytes=material.size_bytes,
                uploaded_by=material.uploaded_by,
            )
    return copy


def _checked_file(upload: UploadedFile | None) -> dict:
    if upload is None:
        return {}
    checked = upload_check(upload)
    return {"file_name": checked.file_name, "content_type": checked.content_type, "size_bytes": checked.size_bytes}


def material_add(
    *, workshop: Workshop, actor: User, title: str, url: str = "", upload: UploadedFile | None = None
) -> WorkshopMaterial:
    if bool(url) == bool(upload):
        raise ValidationError(_("Give either a link or a file."))
    if url:
        online_url_check(url)
    info = _checked_file(upload)
    material = WorkshopMaterial(workshop=workshop, title=title, url=url, uploaded_by=actor, **info)
    with transaction.atomic():
        if upload is not None:
            material.file.save(info["file_name"], upload, save=False)
        material.save()
    return material


def stored_file_release(*, field_file, model) -> None:
    """Delete a stored file unless another row (a duplicated workshop) still uses it."""
    name = field_file.name
    if name and not model.objects.filter(file=name).exists():
        field_file.storage.delete(name)


def material_delete(*, material: WorkshopMaterial) -> None:
    field_file = material.file
    material.delete()
    if field_file:
        stored_file_release(field_file=field_file, model=WorkshopMaterial)


def resource_add(
    *,
    actor: User,
    title: str,
    kind: str,
    description: str = "",
    url: str = "",
    upload: UploadedFile | None = None,
    topic: Topic | None = None,
    audience: str = "",
) -> Resource:
    if bool(url) == bool(upload):
        raise ValidationError(_("Give either a link or a file."))
    if url:
        online_url_check(url)
    info = _checked_file(upload)
    resource = Resource(
        title=title,
        kind=kind,
        description=description,
        url=url,
        topic=topic,
        audience=audience,
        created_by=actor,
        **info,
    )
    with transaction.atomic():
        if upload is not None:
            resource.file.save(info["file_name"], upload, save=False)
        resource.save()
    return resource


def resource_delete(*, resource: Resource) -> None:
    field_file = resource.file
    resource.delete()
    if field_file:
        stored_file_release(field_file=field_file, model=Resource)
