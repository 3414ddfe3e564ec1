"""Workshop models, one module per subject (time on the clock has its own app,
workshops/clock/)."""

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
