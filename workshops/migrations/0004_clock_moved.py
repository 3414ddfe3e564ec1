"""Time on the clock moved to its own app (workshops/clock/); its tables stay
as they are (see clock 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0003_timeentry_waiting_index"),
        ("clock", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="TimeEntryHistory"),
                migrations.DeleteModel(name="ClockTimer"),
                migrations.DeleteModel(name="ClockWeekLock"),
                migrations.DeleteModel(name="TimeEntry"),
                migrations.DeleteModel(name="ClockPolicy"),
            ],
        ),
    ]
