"""iCalendar files: one per workshop, and each member's feed of registrations.

One VEVENT per session, with a stable UID, the workshop's SEQUENCE (bumped on
every change calendars must pick up), a 30-minute alarm, and the online link
only for people who are registered. A cancelled workshop is STATUS:CANCELLED;
the cancellation email carries METHOD:CANCEL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Alarm, Calendar, Event

from .models import Workshop

ALARM_BEFORE = timedelta(minutes=30)


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "plnorg"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//workshops//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def session_uid(workshop: Workshop, session) -> str:
    return f"workshop-{workshop.pk}-session-{session.pk}@{_host()}"


def _events(workshop: Workshop, *, include_link: bool, cancel: bool) -> list[Event]:
    sessions = workshop.session_list
    page = settings.SITE_URL + reverse("workshops:detail", kwargs={"pk": workshop.pk})
    cancelled = cancel or workshop.status == Workshop.Status.CANCELLED
    events = []
    for index, session in enumerate(sessions, start=1):
        event = Event()
        event.add("uid", session_uid(workshop, session))
        summary = workshop.title if len(sessions) == 1 else f"{workshop.title} ({index}/{len(sessions)})"
        event.add("summary", summary)
        event.add("dtstamp", timezone.now())
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("sequence", workshop.sequence)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("url", page)
        description = [page]
        if session.is_online:
            if include_link and session.online_url:
                event.add("location", session.online_url)
                description.insert(0, session.online_url)
            else:
                event.add("location", "Online")
        elif session.room:
            event.add("location", session.room)
        event.add("description", "\n".join(description))
        if not cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", -ALARM_BEFORE)
            event.add_component(alarm)
        events.append(event)
    return events


def workshop_ics(workshop: Workshop, *, include_link: bool, method: str = "PUBLISH") -> str:
    """The calendar of one workshop's sessions. `method="CANCEL"` for the
    cancellation email."""
    cal = _calendar(method)
    for event in _events(workshop, include_link=include_link, cancel=method == "CANCEL"):
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def member_feed_ics(workshops: Iterable[Workshop]) -> str:
    """A member's calendar feed: every workshop they hold a seat in, online
    links included (they are registered)."""
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", f"{settings.SITE_NAME} workshops")
    for workshop in workshops:
        for event in _events(workshop, include_link=True, cancel=False):
            cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def ics_attachment(workshop: Workshop, *, include_link: bool, method: str = "PUBLISH") -> dict:
    """An outbox attachment ({filename, content, mimetype})."""
    return {
        "filename": "cancel.ics" if method == "CANCEL" else "workshop.ics",
        "content": workshop_ics(workshop, include_link=include_link, method=method),
        "mimetype": "text/calendar",
    }
