"""Time on the clock becomes its own app: ClockPolicy, TimeEntry,
TimeEntryHistory, ClockTimer and ClockWeekLock move here from workshops without
touching the database. Their tables keep their names (`db_table`), and so do
their indexes and constraints; this migration only tells Django's state where
they live now, and their content types follow them (so admin log entries,
permissions and the groups holding them keep pointing at them)."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import workshops.clock.models
from core.model_moves import MoveContentTypes


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("feeds", "0004_stream_search"),
        ("members", "0006_invitation"),
        ("workshops", "0003_timeentry_waiting_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ClockTimer",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("started_at", models.DateTimeField()),
                        (
                            "activity",
                            models.CharField(
                                choices=[
                                    ("seek", "Seek"),
                                    ("sense", "Sense"),
                                    ("share", "Share"),
                                    ("workshop", "Workshop"),
                                    ("mentoring", "Mentoring"),
                                ],
                                default="seek",
                                max_length=12,
                            ),
                        ),
                        ("note", models.CharField(blank=True, max_length=300)),
                        (
                            "member",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="clock_timer",
                                to="members.member",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "running timer",
                        "verbose_name_plural": "running timers",
                        "db_table": "workshops_clocktimer",
                    },
                ),
                migrations.CreateModel(
                    name="TimeEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "member_label",
                            models.CharField(
                                blank=True,
                                help_text="Kept for payroll when the account is deleted.",
                                max_length=120,
                                verbose_name="member label",
                            ),
                        ),
                        ("team_name", models.CharField(blank=True, max_length=120, verbose_name="team name")),
                        ("date", models.DateField(help_text="The member's local date.", verbose_name="date")),
                        ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="start")),
                        ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="end")),
                        ("minutes", models.IntegerField(verbose_name="minutes")),
                        (
                            "activity",
                            models.CharField(
                                choices=[
                                    ("seek", "Seek"),
                                    ("sense", "Sense"),
                                    ("share", "Share"),
                                    ("workshop", "Workshop"),
                                    ("mentoring", "Mentoring"),
                                ],
                                max_length=12,
                                verbose_name="activity",
                            ),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("manual", "Typed"),
                                    ("timer", "Timer"),
                                    ("attendance", "Workshop attendance"),
                                    ("adjustment", "Attendance adjustment"),
                                ],
                                default="manual",
                                max_length=12,
                            ),
                        ),
                        (
                            "stream_title",
                            models.CharField(blank=True, max_length=500, verbose_name="stream entry title"),
                        ),
                        ("stream_link", models.URLField(blank=True, max_length=2000, verbose_name="stream entry link")),
                        ("note", models.TextField(blank=True, max_length=2000, verbose_name="note")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("submitted", "Submitted"),
                                    ("approved", "Approved"),
                                    ("rejected", "Rejected"),
                                ],
                                default="draft",
                                max_length=10,
                                verbose_name="status",
                            ),
                        ),
                        ("rejection_reason", models.TextField(blank=True, max_length=2000, verbose_name="reason")),
                        ("flag_over_allowance", models.BooleanField(default=False, verbose_name="over the allowance")),
                        ("flag_overlap", models.BooleanField(default=False, verbose_name="overlaps another entry")),
                        (
                            "flag_timer_capped",
                            models.BooleanField(
                                default=False,
                                help_text="The member should confirm the minutes.",
                                verbose_name="timer stopped at the limit",
                            ),
                        ),
                        ("idempotency_key", models.UUIDField(blank=True, null=True, unique=True)),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("approved_at", models.DateTimeField(blank=True, null=True)),
                        ("approver_email", models.EmailField(blank=True, max_length=254)),
                        ("deleted_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "adjusts",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="adjustments",
                                to="clock.timeentry",
                            ),
                        ),
                        (
                            "approved_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "member",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="time_entries",
                                to="members.member",
                            ),
                        ),
                        (
                            "session",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="time_entries",
                                to="workshops.workshopsession",
                            ),
                        ),
                        (
                            "stream_entry",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="time_entries",
                                to="feeds.entry",
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="time_entries",
                                to="members.team",
                            ),
                        ),
                        (
                            "workshop",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="time_entries",
                                to="workshops.workshop",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "time entry",
                        "verbose_name_plural": "time entries",
                        "db_table": "workshops_timeentry",
                        "ordering": ["date", "started_at", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="TimeEntryHistory",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("actor_email", models.EmailField(blank=True, max_length=254)),
                        ("action", models.CharField(max_length=20)),
                        ("reason", models.TextField(blank=True)),
                        ("before", models.JSONField(blank=True, null=True)),
                        ("after", models.JSONField(blank=True, null=True)),
                        ("at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "entry",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="history",
                                to="clock.timeentry",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "time entry change",
                        "verbose_name_plural": "time entry history",
                        "db_table": "workshops_timeentryhistory",
                        "ordering": ["at", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="ClockPolicy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "weekly_allowance_minutes",
                            models.PositiveIntegerField(
                                default=120,
                                help_text="Paid PLN time per person and week.",
                                verbose_name="weekly allowance (minutes)",
                            ),
                        ),
                        (
                            "over_allowance",
                            models.CharField(
                                choices=[("flag", "Allow and flag"), ("refuse", "Refuse")],
                                default="flag",
                                max_length=8,
                                verbose_name="time beyond the allowance",
                            ),
                        ),
                        (
                            "approval_required",
                            models.BooleanField(
                                default=True,
                                help_text="Off: submitted time counts without a manager's approval.",
                                verbose_name="approval needed",
                            ),
                        ),
                        (
                            "hourly_cost",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("0.00"),
                                help_text="Used for cost figures only (salary plus overheads per hour).",
                                max_digits=8,
                                verbose_name="loaded hourly cost",
                            ),
                        ),
                        (
                            "counted_activities",
                            models.JSONField(
                                blank=True,
                                default=workshops.clock.models._all_activities,
                                help_text="Activity types that are paid.",
                                verbose_name="activities that count",
                            ),
                        ),
                        (
                            "week_starts_on",
                            models.PositiveSmallIntegerField(
                                choices=[
                                    (0, "Monday"),
                                    (1, "Tuesday"),
                                    (2, "Wednesday"),
                                    (3, "Thursday"),
                                    (4, "Friday"),
                                    (5, "Saturday"),
                                    (6, "Sunday"),
                                ],
                                default=0,
                                verbose_name="first day of the week",
                            ),
                        ),
                        (
                            "lock_approved_weeks",
                            models.BooleanField(
                                default=True,
                                help_text="A week approved as a whole changes only by an admin.",
                                verbose_name="lock approved weeks",
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty: the organization's default policy. A team: an override for that team.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="clock_policies",
                                to="members.team",
                                verbose_name="team",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "clock policy",
                        "verbose_name_plural": "clock policies",
                        "db_table": "workshops_clockpolicy",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("team",), name="one_clock_policy_per_team", nulls_distinct=False
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ClockWeekLock",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("week_start", models.DateField()),
                        ("locked_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "locked_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "member",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="clock_week_locks",
                                to="members.member",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "locked week",
                        "verbose_name_plural": "locked weeks",
                        "db_table": "workshops_clockweeklock",
                        "constraints": [
                            models.UniqueConstraint(fields=("member", "week_start"), name="one_lock_per_member_week")
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="timeentry",
                    index=models.Index(fields=["member", "date"], name="workshops_t_member__c7d972_idx"),
                ),
                migrations.AddIndex(
                    model_name="timeentry",
                    index=models.Index(fields=["date", "status"], name="workshops_t_date_be180a_idx"),
                ),
                migrations.AddIndex(
                    model_name="timeentry",
                    index=models.Index(fields=["team", "date"], name="workshops_t_team_id_5f903e_idx"),
                ),
                migrations.AddIndex(
                    model_name="timeentry",
                    index=models.Index(
                        condition=models.Q(("deleted_at__isnull", True), ("status", "submitted")),
                        fields=["member", "date"],
                        name="timeentry_waiting_member",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="timeentry",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("minutes__gte", -720),
                            ("minutes__lte", 720),
                            models.Q(("minutes__gt", 0), ("source", "adjustment"), _connector="OR"),
                        ),
                        name="time_entry_minutes_in_range",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="timeentry",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("started_at__isnull", True), ("ended_at__gt", models.F("started_at")), _connector="OR"
                        ),
                        name="time_entry_ends_after_start",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="timeentry",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("session__isnull", False), ("source", "attendance")),
                        fields=("member", "session"),
                        name="one_attendance_entry_per_member_session",
                    ),
                ),
            ],
        ),
        MoveContentTypes(
            models=[
                ("workshops", "clockpolicy"),
                ("workshops", "timeentry"),
                ("workshops", "timeentryhistory"),
                ("workshops", "clocktimer"),
                ("workshops", "clockweeklock"),
            ],
            to="clock",
        ),
    ]
