"""Workshops, their sessions, materials and topics; the member's calendar feed."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from members.models import Member

# Registration statuses that hold a seat (attendance keeps the seat taken).
SEAT_STATUSES = ("registered", "attended", "partial", "no_show", "excused")


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class WorkshopQuerySet(models.QuerySet):
    def managed_by(self, user) -> WorkshopQuerySet:
        """Workshops a user may manage: every one for admins, else those they facilitate."""
        if user.is_staff:
            return self
        return self.filter(facilitators=user)

    def visible_to(self, user) -> WorkshopQuerySet:
        """Published, cancelled and finished workshops for every member; drafts
        only for their facilitators and admins."""
        if user.is_staff:
            return self
        return self.filter(~Q(status=Workshop.Status.DRAFT) | Q(facilitators=user)).distinct()

    def with_dates(self) -> WorkshopQuerySet:
        sessions = WorkshopSession.objects.filter(workshop=OuterRef("pk"))
        return self.annotate(
            first_start=Subquery(sessions.order_by("starts_at").values("starts_at")[:1]),
            last_end=Subquery(sessions.order_by("-ends_at").values("ends_at")[:1]),
        )

    def with_seats(self) -> WorkshopQuerySet:
        from .registration import Registration

        taken = (
            Registration.objects.filter(workshop=OuterRef("pk"), status__in=SEAT_STATUSES)
            .values("workshop")
            .annotate(n=Count("pk"))
            .values("n")
        )
        waiting = (
            Registration.objects.filter(workshop=OuterRef("pk"), status="waitlisted")
            .values("workshop")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(seats_taken=Coalesce(Subquery(taken), 0), waitlist_length=Coalesce(Subquery(waiting), 0))

    def upcoming(self) -> WorkshopQuerySet:
        """Published workshops whose first session has not started yet."""
        now = timezone.now()
        return self.with_dates().filter(status=Workshop.Status.PUBLISHED, first_start__gt=now)


class Workshop(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")
        FINISHED = "finished", _("Finished")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Markdown. Links and basic formatting are kept; HTML is removed.")
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("facilitators"), related_name="facilitated_workshops"
    )
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="workshops")
    audience = models.CharField(
        _("audience"), max_length=200, blank=True, help_text=_("Who it is for, e.g. “everyone”, “researchers”.")
    )
    capacity = models.PositiveIntegerField(_("capacity"), default=12, help_text=_("Seats for the whole series."))
    registration_deadline = models.DateTimeField(
        _("registration deadline"), null=True, blank=True, help_text=_("Empty: until the first session starts.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    approval_required = models.BooleanField(
        _("approval required"), default=False, help_text=_("A facilitator approves each registration.")
    )
    prework_note = models.TextField(_("pre-work"), blank=True, help_text=_("What to prepare before the first session."))
    resources = models.ManyToManyField(
        "workshops.Resource", verbose_name=_("library resources"), blank=True, related_name="workshops"
    )
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = WorkshopQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("workshop")
        verbose_name_plural = _("workshops")

    def __str__(self) -> str:
        return self.title

    @cached_property
    def session_list(self) -> list[WorkshopSession]:
        return sorted(self.sessions.all(), key=lambda s: s.starts_at)

    @property
    def first_session(self) -> WorkshopSession | None:
        return self.session_list[0] if self.session_list else None

    @property
    def last_session(self) -> WorkshopSession | None:
        return max(self.session_list, key=lambda s: s.ends_at) if self.session_list else None

    @property
    def starts_at(self):
        first = self.first_session
        return first.starts_at if first else None

    @property
    def ends_at(self):
        last = self.last_session
        return last.ends_at if last else None

    @property
    def effective_deadline(self):
        """Registration closes at the deadline, and at the latest when the first session starts."""
        start = self.starts_at
        if self.registration_deadline and start:
            return min(self.registration_deadline, start)
        return self.registration_deadline or start

    def has_started(self, now=None) -> bool:
        start = self.starts_at
        return start is not None and start <= (now or timezone.now())

    def has_ended(self, now=None) -> bool:
        end = self.ends_at
        return end is not None and end <= (now or timezone.now())

    @property
    def is_online(self) -> bool:
        return any(s.is_online for s in self.session_list)

    @property
    def description_html(self) -> str:
        from workshops.markdown import markdown_html

        return markdown_html(self.description)

    @property
    def calendar_uid_base(self) -> str:
        return f"workshop-{self.pk}"


class WorkshopSession(models.Model):
    """One meeting of the series: start and end are aware datetimes stored in
    UTC; `time_zone` is the zone the facilitator entered them in."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    mode = models.CharField(_("where"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    room = models.CharField(_("room"), max_length=200, blank=True)
    online_url = models.URLField(
        _("online link"), max_length=1000, blank=True, help_text=_("Shown only to registered people.")
    )
    sequence = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "iCalendar SEQUENCE of this session's event: raised when its time, place or title changes or it is "
            "cancelled, and whenever an attendee needs a message newer than the last one they got. Never lowered."
        ),
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.workshop} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_online(self) -> bool:
        return self.mode == self.Mode.ONLINE

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)


def material_upload_to(instance, filename: str) -> str:
    return f"workshops/materials/{secrets.token_hex(8)}/{filename}"


class WorkshopMaterial(models.Model):
    """A link or an uploaded file (checked by content, see workshops/uploads.py)."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), max_length=1000, blank=True)
    file = models.FileField(_("file"), upload_to=material_upload_to, blank=True, max_length=300)
    file_name = models.CharField(max_length=200, blank=True, help_text=_("The name the file is downloaded as."))
    content_type = models.CharField(max_length=120, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.title


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret address of a member's own calendar of registrations."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="workshop_calendar")
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar of {self.member}"
