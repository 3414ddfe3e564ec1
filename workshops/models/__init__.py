"""Workshop models, one module per subject. Issue 10 adds `clock.py` here."""

from .registration import Attendance, Feedback, Registration, RegistrationEvent
from .resource import Resource
from .workshop import CalendarFeed, Topic, Workshop, WorkshopMaterial, WorkshopSession

__all__ = [
    "Attendance",
    "CalendarFeed",
    "Feedback",
    "Registration",
    "RegistrationEvent",
    "Resource",
    "Topic",
    "Workshop",
    "WorkshopMaterial",
    "WorkshopSession",
]
