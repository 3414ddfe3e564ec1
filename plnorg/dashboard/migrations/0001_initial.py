"""DashboardSnapshot moves here from plnorg without touching the database: its
table keeps its name (`db_table`), this migration only tells Django's state
where it lives now, and its content type follows it."""

from django.db import migrations, models

from core.model_moves import MoveContentTypes


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("plnorg", "0002_dashboard_snapshot"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="DashboardSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("period", models.CharField(help_text="4w, quarter or year", max_length=12, unique=True)),
                        ("computed_at", models.DateTimeField()),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("data", models.JSONField(default=dict)),
                    ],
                    options={
                        "db_table": "plnorg_dashboardsnapshot",
                    },
                ),
            ],
        ),
        MoveContentTypes(models=[("plnorg", "dashboardsnapshot")], to="dashboard"),
    ]
