"""iCalendar for workshops: the .ics of one workshop, each member's feed of
registrations, and the calendar invitations emailed to attendees.

One builder, `session_event`, makes a session's VEVENT wherever it appears:
a stable UID per session, the session's stored SEQUENCE, DTSTART and DTEND in
the session's own time zone (with its VTIMEZONE, so a calendar in another zone
shows the right hour and keeps it across daylight-saving changes), and the
workshop page as URL. The online link is only for people holding a seat.

Feeds and downloads are METHOD:PUBLISH with a 30-minute alarm. Invitations
(iTIP, RFC 5546, over email as iMIP, RFC 6047) are METHOD:REQUEST or CANCEL,
one event per message (what Outlook, Google and Apple calendars process), with
ORGANIZER the workshop's first facilitator and ATTENDEE the member; see
services/invitations.py for when they are sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, vCalAddress

from .models import Workshop, WorkshopSession

ALARM_BEFORE = timedelta(minutes=30)
# The VTIMEZONE covers a year either side of the events, so it carries both
# the standard and the daylight rules of the zone.
TIMEZONE_MARGIN = timedelta(days=366)
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "plnorg"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//workshops//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _add_timezones(cal: Calendar, sessions: Iterable[WorkshopSession]) -> None:
    sessions = list(sessions)
    if not sessions:
        return
    first = min(s.starts_at for s in sessions) - TIMEZONE_MARGIN
    last = max(s.ends_at for s in sessions) + TIMEZONE_MARGIN
    cal.add_missing_timezones(first_date=first.date(), last_date=last.date())


def workshop_url(workshop: Workshop) -> str:
    return settings.SITE_URL + reverse("workshops:detail", kwargs={"pk": workshop.pk})


def session_uid(session: WorkshopSession) -> str:
    return f"workshop-{session.workshop_id}-session-{session.pk}@{_host()}"


def session_summary(workshop: Workshop, session: WorkshopSession, sessions: Sequence[WorkshopSession]) -> str:
    """The title, numbered "(2/3)" in a series."""
    if len(sessions) <= 1:
        return workshop.title
    index = next(i for i, s in enumerate(sessions, start=1) if s.pk == session.pk)
    return f"{workshop.title} ({index}/{len(sessions)})"


def session_location(session: WorkshopSession, *, include_link: bool) -> str:
    if session.is_online:
        return session.online_url if include_link and session.online_url else "Online"
    return session.room


def _local(value: datetime, session: WorkshopSession) -> datetime:
    # Whole seconds: that is what iCalendar carries, and what fingerprints compare.
    return value.astimezone(session.tzinfo).replace(microsecond=0)


def session_fingerprint(workshop: Workshop, session: WorkshopSession) -> str:
    """What an invitation puts in an attendee's calendar (title, time, zone
    and place, the online link included): when it differs from what they
    were last sent, their calendar needs an update."""
    parts = [
        workshop.title,
        _local(session.starts_at, session).isoformat(),
        _local(session.ends_at, session).isoformat(),
        session.time_zone,
        session_location(session, include_link=True),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def session_event(
    workshop: Workshop,
    session: WorkshopSession,
    *,
    sessions: Sequence[WorkshopSession],
    include_link: bool,
    cancelled: bool,
    alarm: bool,
    numbered: bool = True,
    uid: str | None = None,
    sequence: int | None = None,
) -> Event:
    """The VEVENT of one session (see the module's docstring). `numbered`
    adds "(2/3)" to the title in a series."""
    page = workshop_url(workshop)
    summary = session_summary(workshop, session, sessions) if numbered else workshop.title
    event = Event()
    event.add("uid", uid or session_uid(session))
    event.add("summary", summary)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", _local(session.starts_at, session))
    event.add("dtend", _local(session.ends_at, session))
    event.add("sequence", session.sequence if sequence is None else sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("url", page)
    location = session_location(session, include_link=include_link)
    if location:
        event.add("location", location)
    description = [page]
    if session.is_online and include_link and session.online_url:
        description.insert(0, session.online_url)
    event.add("description", "\n".join(description))
    if alarm and not cancelled:
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", summary)
        reminder.add("trigger", -ALARM_BEFORE)
        event.add_component(reminder)
    return event


def _events(workshop: Workshop, *, include_link: bool, cancel: bool) -> list[Event]:
    sessions = workshop.session_list
    cancelled = cancel or workshop.status == Workshop.Status.CANCELLED
    return [
        session_event(workshop, s, sessions=sessions, include_link=include_link, cancelled=cancelled, alarm=True)
        for s in sessions
    ]


def workshop_ics(workshop: Workshop, *, include_link: bool, method: str = PUBLISH) -> str:
    """The calendar of one workshop's sessions. `method="CANCEL"` for the
    cancellation email of members who turned calendar invitations off."""
    cal = _calendar(method)
    for event in _events(workshop, include_link=include_link, cancel=method == CANCEL):
        cal.add_component(event)
    _add_timezones(cal, workshop.session_list)
    return cal.to_ical().decode("utf-8")


def member_feed_ics(workshops: Iterable[Workshop]) -> str:
    """A member's calendar feed: every workshop they hold a seat in, online
    links included (they are registered)."""
    cal = _calendar(PUBLISH)
    cal.add("x-wr-calname", f"{settings.SITE_NAME} workshops")
    sessions = []
    for workshop in workshops:
        for event in _events(workshop, include_link=True, cancel=False):
            cal.add_component(event)
        sessions.extend(workshop.session_list)
    _add_timezones(cal, sessions)
    return cal.to_ical().decode("utf-8")


def ics_attachment(workshop: Workshop, *, include_link: bool, method: str = PUBLISH) -> dict:
    """An outbox attachment ({filename, content, mimetype}) with the whole
    workshop: for reminders, and for members without calendar invitations."""
    return {
        "filename": "cancel.ics" if method == CANCEL else "workshop.ics",
        "content": workshop_ics(workshop, include_link=include_link, method=method),
        "mimetype": "text/calendar",
    }


def _calendar_user(email: str, name: str, **params) -> vCalAddress:
    return vCalAddress.new(email, cn=name, **params)


def invitation_ics(
    *,
    workshop: Workshop,
    session: WorkshopSession,
    method: str,
    uid: str,
    sequence: int,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
) -> str:
    """One iTIP message about one session to one attendee: METHOD:REQUEST
    (add or move it) or CANCEL (remove it; STATUS:CANCELLED).

    plnorg sends for the facilitator, so ORGANIZER carries SENT-BY with the
    site's address. The attendee is asked for no reply (RSVP=FALSE): the
    registration on plnorg is the answer, and replies would land in the
    facilitator's mailbox without changing a seat.

    The title is the workshop's, not numbered in its series: an invitation
    stays true when a session is added to or removed from the series, so
    that touches no other session's event."""
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"Not an invitation method: {method!r}")
    cal = _calendar(method)
    event = session_event(
        workshop,
        session,
        sessions=[session],
        include_link=True,
        cancelled=method == CANCEL,
        alarm=False,
        numbered=False,
        uid=uid,
        sequence=sequence,
    )
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    organizer_params = {"sent_by": f"mailto:{sender}"} if sender and sender != organizer_email else {}
    event.add("organizer", _calendar_user(organizer_email, organizer_name, **organizer_params))
    event.add(
        "attendee",
        _calendar_user(
            attendee_email,
            attendee_name,
            cutype="INDIVIDUAL",
            role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION",
            rsvp=False,
        ),
    )
    cal.add_component(event)
    _add_timezones(cal, [session])
    return cal.to_ical().decode("utf-8")


def invitation_parts(ics: str, *, method: str) -> tuple[dict, dict]:
    """The outbox's alternative (what calendar-aware mail clients act on) and
    attachment (for the others) of one invitation, as Google Calendar sends
    its own: text/calendar with the method in the multipart/alternative part,
    and the same text as an application/ics file."""
    alternative = {"content": ics, "mimetype": f"text/calendar; method={method}"}
    attachment = {
        "filename": "cancel.ics" if method == CANCEL else "workshop.ics",
        "content": ics,
        "mimetype": "application/ics",
    }
    return alternative, attachment
