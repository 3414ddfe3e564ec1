"""Registrations (with the waitlist), their append-only history, attendance
per session and feedback."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member

from .workshop import SEAT_STATUSES, Workshop, WorkshopSession


class RegistrationStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested (waiting for approval)")
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    PARTIAL = "partial", _("Attended in part")
    NO_SHOW = "no_show", _("Did not attend")
    EXCUSED = "excused", _("Excused")


class RegistrationQuerySet(models.QuerySet):
    def holding_seats(self) -> RegistrationQuerySet:
        return self.filter(status__in=SEAT_STATUSES)

    def waitlisted(self) -> RegistrationQuerySet:
        return self.filter(status=RegistrationStatus.WAITLISTED)

    def attendees(self) -> RegistrationQuerySet:
        return self.filter(status__in=(RegistrationStatus.ATTENDED, RegistrationStatus.PARTIAL))


class Registration(models.Model):
    """One member's place in one workshop. One row per member and workshop: a
    member who cancels and registers again gets their row back, and the
    history says so."""

    Status = RegistrationStatus

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="registrations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="workshop_registrations")
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices)
    waitlist_position = models.PositiveIntegerField(
        _("waitlist position"), null=True, blank=True, help_text=_("1 is next in line; only while waitlisted.")
    )
    overbooked = models.BooleanField(
        _("overbooked"), default=False, help_text=_("A facilitator gave this seat beyond the capacity on purpose.")
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Set when a facilitator registered the member on their behalf."),
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    feedback_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["workshop", "member"], name="registration_unique_workshop_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.workshop} ({self.status})"

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATUSES

    @property
    def is_active(self) -> bool:
        """Registered, waiting, or requested: not cancelled."""
        return self.status != RegistrationStatus.CANCELLED


class RegistrationEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The registration history is append-only.")


class RegistrationEvent(models.Model):
    """One step in a registration's history. Rows are only ever inserted."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices)
    session = models.ForeignKey(
        WorkshopSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text=_("Attendance")
    )
    minutes = models.PositiveIntegerField(null=True, blank=True)
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RegistrationEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("registration event")
        verbose_name_plural = _("registration history")

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The registration history is append-only.")
        super().save(*args, **kwargs)


class Attendance(models.Model):
    """Whether one registered member took part in one session."""

    class Status(models.TextChoices):
        ATTENDED = "attended", _("Attended")
        PARTIAL = "partial", _("Partly")
        NO_SHOW = "no_show", _("No-show")
        EXCUSED = "excused", _("Excused")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="attendance")
    session = models.ForeignKey(WorkshopSession, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=10, choices=Status.choices)
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True, help_text=_("Time attended."))
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["registration", "session"], name="attendance_unique_registration_session")
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} @ {self.session_id}: {self.status}"


class Feedback(models.Model):
    """An attendee's one answer to the short survey after the last session."""

    registration = models.OneToOneField(Registration, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)], help_text=_("1 (poor) to 5 (excellent)")
    )
    next_step = models.CharField(_("what you will do next"), max_length=300, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=3000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_5")
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.registration_id}"
