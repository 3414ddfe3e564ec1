"""Time on the clock (issue 10): the policy for paid PLN time, time entries,
their append-only history, running timers and locked weeks.

Time records are money: entries are never hard-deleted by people (deletion is
soft), every committed change is appended to `TimeEntryHistory`, and a
`version` column makes concurrent edits fail loudly instead of overwriting.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Member, Team

MAX_ENTRY_MINUTES = 12 * 60


class Activity(models.TextChoices):
    SEEK = "seek", _("Seek")
    SENSE = "sense", _("Sense")
    SHARE = "share", _("Share")
    WORKSHOP = "workshop", _("Workshop")
    MENTORING = "mentoring", _("Mentoring")


ACTIVITY_DESCRIPTIONS = {
    Activity.SEEK: _("Reading, listening"),
    Activity.SENSE: _("Reflecting, writing notes"),
    Activity.SHARE: _("Posting, presenting, helping colleagues"),
    Activity.WORKSHOP: _("Taking part in a workshop"),
    Activity.MENTORING: _("Mentoring or being mentored"),
}


def _all_activities() -> list[str]:
    return list(Activity.values)


class ClockPolicyQuerySet(models.QuerySet):
    def default(self) -> ClockPolicy | None:
        return self.filter(team__isnull=True).first()


class ClockPolicy(models.Model):
    """The organization's rules for paid PLN time. One row without a team is
    the default; a row with a team overrides it for that team."""

    class OverAllowance(models.TextChoices):
        FLAG = "flag", _("Allow and flag")
        REFUSE = "refuse", _("Refuse")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clock_policies",
        help_text=_("Empty: the organization's default policy. A team: an override for that team."),
    )
    weekly_allowance_minutes = models.PositiveIntegerField(
        _("weekly allowance (minutes)"), default=120, help_text=_("Paid PLN time per person and week.")
    )
    over_allowance = models.CharField(
        _("time beyond the allowance"), max_length=8, choices=OverAllowance.choices, default=OverAllowance.FLAG
    )
    approval_required = models.BooleanField(
        _("approval needed"), default=True, help_text=_("Off: submitted time counts without a manager's approval.")
    )
    hourly_cost = models.DecimalField(
        _("loaded hourly cost"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Used for cost figures only (salary plus overheads per hour)."),
    )
    counted_activities = models.JSONField(
        _("activities that count"), default=_all_activities, blank=True, help_text=_("Activity types that are paid.")
    )
    week_starts_on = models.PositiveSmallIntegerField(
        _("first day of the week"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    lock_approved_weeks = models.BooleanField(
        _("lock approved weeks"), default=True, help_text=_("A week approved as a whole changes only by an admin.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClockPolicyQuerySet.as_manager()

    class Meta:
        db_table = "workshops_clockpolicy"  # its table from before the clock became its own app
        verbose_name = _("clock policy")
        verbose_name_plural = _("clock policies")
        constraints = [
            # One default (team empty) and at most one override per team.
            models.UniqueConstraint(fields=["team"], nulls_distinct=False, name="one_clock_policy_per_team"),
        ]

    def __str__(self) -> str:
        return str(_("Policy for %(team)s") % {"team": self.team}) if self.team_id else str(_("Default policy"))

    def week_start(self, day: dt.date) -> dt.date:
        return day - dt.timedelta(days=(day.weekday() - self.week_starts_on) % 7)

    def counts(self, activity: str) -> bool:
        return activity in (self.counted_activities or [])

    def as_dict(self) -> dict:
        return {
            "team": self.team_id,
            "weekly_allowance_minutes": self.weekly_allowance_minutes,
            "over_allowance": self.over_allowance,
            "approval_required": self.approval_required,
            "hourly_cost": str(self.hourly_cost),
            "counted_activities": list(self.counted_activities or []),
            "week_starts_on": self.week_starts_on,
            "lock_approved_weeks": self.lock_approved_weeks,
        }


class TimeEntryQuerySet(models.QuerySet):
    def live(self) -> TimeEntryQuerySet:
        """Not deleted."""
        return self.filter(deleted_at__isnull=True)

    def of(self, member: Member) -> TimeEntryQuerySet:
        return self.filter(member=member)

    def in_week(self, start: dt.date) -> TimeEntryQuerySet:
        return self.filter(date__gte=start, date__lt=start + dt.timedelta(days=7))


class TimeEntry(models.Model):
    """Time one member spent on their PLN, in whole minutes on their local date."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Typed")
        TIMER = "timer", _("Timer")
        ATTENDANCE = "attendance", _("Workshop attendance")
        ADJUSTMENT = "adjustment", _("Attendance adjustment")

    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries")
    member_label = models.CharField(
        _("member label"), max_length=120, blank=True, help_text=_("Kept for payroll when the account is deleted.")
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries")
    team_name = models.CharField(_("team name"), max_length=120, blank=True)
    date = models.DateField(_("date"), help_text=_("The member's local date."))
    started_at = models.DateTimeField(_("start"), null=True, blank=True)
    ended_at = models.DateTimeField(_("end"), null=True, blank=True)
    minutes = models.IntegerField(_("minutes"))
    activity = models.CharField(_("activity"), max_length=12, choices=Activity.choices)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    workshop = models.ForeignKey(
        "workshops.Workshop", null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    session = models.ForeignKey(
        "workshops.WorkshopSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    stream_entry = models.ForeignKey(
        "feeds.Entry", null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    stream_title = models.CharField(_("stream entry title"), max_length=500, blank=True)
    stream_link = models.URLField(_("stream entry link"), max_length=2000, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    rejection_reason = models.TextField(_("reason"), blank=True, max_length=2000)
    flag_over_allowance = models.BooleanField(_("over the allowance"), default=False)
    flag_overlap = models.BooleanField(_("overlaps another entry"), default=False)
    flag_timer_capped = models.BooleanField(
        _("timer stopped at the limit"), default=False, help_text=_("The member should confirm the minutes.")
    )
    adjusts = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="adjustments")
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approver_email = models.EmailField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        db_table = "workshops_timeentry"  # its table from before the clock became its own app
        ordering = ["date", "started_at", "pk"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [
            models.Index(fields=["member", "date"]),
            models.Index(fields=["date", "status"]),
            models.Index(fields=["team", "date"]),
            # A manager's approvals: who has submitted time waiting (a small part of all entries).
            models.Index(
                fields=["member", "date"],
                name="timeentry_waiting_member",
                condition=Q(status="submitted", deleted_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__lte=MAX_ENTRY_MINUTES, minutes__gte=-MAX_ENTRY_MINUTES)
                & (Q(minutes__gt=0) | Q(source="adjustment")),
                name="time_entry_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=Q(started_at__isnull=True) | Q(ended_at__gt=models.F("started_at")),
                name="time_entry_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["member", "session"],
                condition=Q(source="attendance", session__isnull=False),
                name="one_attendance_entry_per_member_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_label or self.member_id} {self.date} {self.minutes} min {self.activity}"

    @property
    def is_timed(self) -> bool:
        return self.started_at is not None and self.ended_at is not None

    @property
    def owner_can_edit(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.REJECTED) and self.source in (
            self.Source.MANUAL,
            self.Source.TIMER,
        )

    @property
    def activity_description(self) -> str:
        return ACTIVITY_DESCRIPTIONS.get(self.activity, "")

    def snapshot(self) -> dict:
        """What the history records before and after a change."""
        return {
            "date": self.date.isoformat() if self.date else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "minutes": self.minutes,
            "activity": self.activity,
            "note": self.note,
            "status": self.status,
            "rejection_reason": self.rejection_reason,
            "flags": [
                name
                for name, on in (
                    ("over_allowance", self.flag_over_allowance),
                    ("overlap", self.flag_overlap),
                    ("timer_capped", self.flag_timer_capped),
                )
                if on
            ],
            "deleted": self.deleted_at is not None,
            "version": self.version,
        }


class TimeEntryHistoryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Time entry history is append-only.")


class TimeEntryHistory(models.Model):
    """Append-only: one row per committed change of a time entry."""

    entry = models.ForeignKey(TimeEntry, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = TimeEntryHistoryQuerySet.as_manager()

    class Meta:
        db_table = "workshops_timeentryhistory"  # its table from before the clock became its own app
        ordering = ["at", "pk"]
        verbose_name = _("time entry change")
        verbose_name_plural = _("time entry history")

    def __str__(self) -> str:
        return f"{self.action} {self.entry_id} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Time entry history is append-only.")
        return super().save(*args, **kwargs)


class ClockTimer(models.Model):
    """A running timer: at most one per member (the one-to-one enforces it)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="clock_timer")
    started_at = models.DateTimeField()
    activity = models.CharField(max_length=12, choices=Activity.choices, default=Activity.SEEK)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "workshops_clocktimer"  # its table from before the clock became its own app
        verbose_name = _("running timer")
        verbose_name_plural = _("running timers")

    def __str__(self) -> str:
        return f"{self.member_id} since {self.started_at:%Y-%m-%d %H:%M}"


class ClockWeekLock(models.Model):
    """A member's week that was approved as a whole and may now change only by an admin."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="clock_week_locks")
    week_start = models.DateField()
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "workshops_clockweeklock"  # its table from before the clock became its own app
        verbose_name = _("locked week")
        verbose_name_plural = _("locked weeks")
        constraints = [models.UniqueConstraint(fields=["member", "week_start"], name="one_lock_per_member_week")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.week_start}"
