"""DashboardSnapshot moves here from plnorg without touching the database: its
table keeps its name (`db_table`), this migration only tells Django's state
where it lives now, and its content type follows it."""

from django.db import migrations, models

APP_LABEL = "dashboard"
MOVED = [("plnorg", "dashboardsnapshot")]


def content_types_follow(apps, schema_editor, *, backwards=False):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.db_manager(schema_editor.connection.alias)
    for old_label, model in MOVED:
        source, target = (APP_LABEL, old_label) if backwards else (old_label, APP_LABEL)
        # A content type already under the target label (a database set up
        # after the move) has nothing to take over; leave both as they are.
        if not types.filter(app_label=target, model=model).exists():
            types.filter(app_label=source, model=model).update(app_label=target)
    ContentType.objects.clear_cache()


def content_types_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, backwards=True)


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
                    name='DashboardSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(help_text='4w, quarter or year', max_length=12, unique=True)),
                        ('computed_at', models.DateTimeField()),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('data', models.JSONField(default=dict)),
                    ],
                    options={
                        'db_table': 'plnorg_dashboardsnapshot',
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
