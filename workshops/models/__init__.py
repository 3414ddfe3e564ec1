"""Workshop models, one module per subject. Issue 10 adds `clock.py` here."""

from .clock import ClockPolicy, ClockTimer, ClockWeekLock, TimeEntry, TimeEntryHistory
from .registration import Attendance, Feedback, Registration, RegistrationEvent
from .resource import Resource
from .workshop import CalendarFeed, Topic, Workshop, WorkshopMaterial, WorkshopSession

__all__ = [
    "Attendance",
    "CalendarFeed",
    "ClockPolicy",
    "ClockTimer",
    "ClockWeekLock",
    "Feedback",
    "Registration",
    "RegistrationEvent",
    "Resource",
    "TimeEntry",
    "TimeEntryHistory",
    "Topic",
    "Workshop",
    "WorkshopMaterial",
    "WorkshopSession",
]
