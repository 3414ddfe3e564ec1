"""Introduction moved to the introductions app (plnorg/introductions/); its
table, members_introduction, stays as it is (see introductions 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_outbox_unknown_status"),
        ("introductions", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Introduction")],
        ),
    ]
