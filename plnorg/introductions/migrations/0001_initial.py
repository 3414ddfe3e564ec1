"""The introductions models move here from members (Introduction) and plnorg
(suggestions, connectors, computations) without touching the database: their
tables keep their names (`db_table`), this migration only tells Django's state
where they live now, and their content types follow them (so admin log
entries, permissions and the groups holding them keep pointing at them)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.model_moves import MoveContentTypes


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0006_invitation"),
        ("plnorg", "0003_introductions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="IntroductionComputation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(help_text="suggestions or connectors", max_length=20, unique=True)),
                        ("computed_at", models.DateTimeField()),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        (
                            "data",
                            models.JSONField(
                                blank=True, default=dict, help_text="Figures of the run (members, pairs, edges...)."
                            ),
                        ),
                    ],
                    options={
                        "db_table": "plnorg_introductioncomputation",
                    },
                ),
                migrations.CreateModel(
                    name="ConnectorStatus",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("is_connector", models.BooleanField(default=False)),
                        ("betweenness", models.FloatField(default=0.0)),
                        ("communities_spanned", models.PositiveSmallIntegerField(default=0)),
                        ("computed_at", models.DateTimeField()),
                        (
                            "member",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="members.member"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "plnorg_connectorstatus",
                    },
                ),
                migrations.CreateModel(
                    name="Introduction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "from_suggestion",
                            models.BooleanField(default=False, help_text="Sent from a computed suggestion."),
                        ),
                        ("note", models.TextField(blank=True, max_length=2000, verbose_name="note")),
                        (
                            "reason",
                            models.CharField(
                                blank=True,
                                help_text="Why they might meet, e.g. 'both follow X and Y'.",
                                max_length=300,
                                verbose_name="reason",
                            ),
                        ),
                        (
                            "crosses_teams",
                            models.BooleanField(
                                default=False, help_text="The two were in different teams when introduced."
                            ),
                        ),
                        (
                            "a_answer",
                            models.CharField(
                                choices=[
                                    ("pending", "Not answered yet"),
                                    ("accepted", "Accepted"),
                                    ("declined", "Declined"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        (
                            "b_answer",
                            models.CharField(
                                choices=[
                                    ("pending", "Not answered yet"),
                                    ("accepted", "Accepted"),
                                    ("declined", "Declined"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("a_answered_at", models.DateTimeField(blank=True, null=True)),
                        ("b_answered_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "accepted_at",
                            models.DateTimeField(blank=True, help_text="When the second side accepted.", null=True),
                        ),
                        (
                            "follow_up_sent_at",
                            models.DateTimeField(
                                blank=True, help_text="When both were asked 'did you meet?' (once).", null=True
                            ),
                        ),
                        (
                            "a_met",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "Not asked yet"),
                                    ("yes", "Yes, we met"),
                                    ("not_yet", "Not yet"),
                                    ("no", "No"),
                                ],
                                default="",
                                max_length=8,
                            ),
                        ),
                        (
                            "b_met",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "Not asked yet"),
                                    ("yes", "Yes, we met"),
                                    ("not_yet", "Not yet"),
                                    ("no", "No"),
                                ],
                                default="",
                                max_length=8,
                            ),
                        ),
                        (
                            "met_at",
                            models.DateTimeField(blank=True, help_text="When the first side said they met.", null=True),
                        ),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "member_a",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="introductions_as_a",
                                to="members.member",
                            ),
                        ),
                        (
                            "member_b",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="introductions_as_b",
                                to="members.member",
                            ),
                        ),
                        (
                            "sender",
                            models.ForeignKey(
                                blank=True,
                                help_text="Who made the introduction (a leader from a suggestion, or any colleague).",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="introductions_sent",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "introduction",
                        "verbose_name_plural": "introductions",
                        "db_table": "members_introduction",
                        "ordering": ["-created_at", "-id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("member_a", "member_b"), name="introduction_unique_pair"),
                            models.CheckConstraint(
                                condition=models.Q(("member_a__lt", models.F("member_b"))),
                                name="introduction_pair_ordered",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="IntroductionSuggestion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("score", models.FloatField(help_text="The larger of the two similarities, for ordering.")),
                        (
                            "source_similarity",
                            models.FloatField(help_text="Jaccard similarity of their shared sources."),
                        ),
                        ("topic_similarity", models.FloatField(help_text="Jaccard similarity of their topics.")),
                        (
                            "common_sources",
                            models.JSONField(
                                blank=True, default=list, help_text="Titles of sources both share (a few)."
                            ),
                        ),
                        (
                            "common_topics",
                            models.JSONField(blank=True, default=list, help_text="Topics both have (a few)."),
                        ),
                        (
                            "is_stranger",
                            models.BooleanField(
                                default=False,
                                help_text="Similar topics (Jaccard >= 0.3) but different sources (Jaccard < 0.1).",
                            ),
                        ),
                        ("is_current", models.BooleanField(db_index=True, default=True)),
                        ("first_suggested_at", models.DateTimeField(db_index=True)),
                        ("computed_at", models.DateTimeField()),
                        (
                            "member_a",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="members.member"
                            ),
                        ),
                        (
                            "member_b",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="members.member"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "plnorg_introductionsuggestion",
                        "ordering": ["-score", "pk"],
                        "constraints": [
                            models.UniqueConstraint(fields=("member_a", "member_b"), name="suggestion_unique_pair")
                        ],
                    },
                ),
            ],
        ),
        MoveContentTypes(
            models=[
                ("members", "introduction"),
                ("plnorg", "introductionsuggestion"),
                ("plnorg", "connectorstatus"),
                ("plnorg", "introductioncomputation"),
            ],
            to="introductions",
        ),
    ]
