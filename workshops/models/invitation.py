"""What each attendee's calendar was last told about each session.

A calendar invitation (iTIP over email) is a conversation: the first REQUEST
adds the event, a later REQUEST with a higher SEQUENCE moves it, a CANCEL
removes it. plnorg keeps one row per registration and session with what it
last sent, so it knows who needs a message when something changes (and who
does not: a save that changes nothing sends nothing), which UID to address,
and which SEQUENCE the next message must exceed.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .registration import Registration
from .workshop import WorkshopSession


class CalendarInvitation(models.Model):
    class Method(models.TextChoices):
        REQUEST = "REQUEST", _("In the calendar (REQUEST)")
        CANCEL = "CANCEL", _("Removed from the calendar (CANCEL)")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="calendar_invitations")
    session = models.ForeignKey(WorkshopSession, on_delete=models.CASCADE, related_name="calendar_invitations")
    uid = models.CharField(
        max_length=255, help_text=_("The event's UID as first sent; kept, so later messages reach the same event.")
    )
    sequence = models.PositiveIntegerField(help_text=_("The SEQUENCE of the last message sent."))
    method = models.CharField(max_length=7, choices=Method.choices, help_text=_("The last message sent."))
    fingerprint = models.CharField(
        max_length=64, help_text=_("A hash of the title, time and place as last sent: a change means an update.")
    )
    sent_at = models.DateTimeField(default=timezone.now, help_text=_("When the last message was written."))

    class Meta:
        ordering = ["session__starts_at", "id"]
        verbose_name = _("calendar invitation")
        verbose_name_plural = _("calendar invitations")
        constraints = [
            models.UniqueConstraint(fields=["registration", "session"], name="calendar_invitation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.uid} #{self.sequence} {self.method}"

    @property
    def in_calendar(self) -> bool:
        return self.method == self.Method.REQUEST
