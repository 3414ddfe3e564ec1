"""DashboardSnapshot moved to the dashboard app, the introductions models to
the introductions app; their tables stay as they are (see dashboard 0001 and
introductions 0001). Only the heartbeat stays here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("plnorg", "0003_introductions"),
        ("dashboard", "0001_initial"),
        ("introductions", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="DashboardSnapshot"),
                migrations.DeleteModel(name="IntroductionComputation"),
                migrations.DeleteModel(name="ConnectorStatus"),
                migrations.DeleteModel(name="IntroductionSuggestion"),
            ],
        ),
    ]
