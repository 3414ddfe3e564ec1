"""Calendar invitations: SEQUENCE moves from the workshop to each session (one
per UID, as iCalendar counts it), and CalendarInvitation records what each
attendee's calendar was last sent.

Each session starts at its workshop's old SEQUENCE, so a calendar that
imported an earlier .ics of the session takes the next message as newer."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce


def sequence_to_sessions(apps, schema_editor):
    WorkshopSession = apps.get_model("workshops", "WorkshopSession")
    Workshop = apps.get_model("workshops", "Workshop")
    WorkshopSession.objects.update(
        sequence=models.Subquery(Workshop.objects.filter(pk=models.OuterRef("workshop_id")).values("sequence")[:1])
    )


def sequence_to_workshops(apps, schema_editor):
    Workshop = apps.get_model("workshops", "Workshop")
    WorkshopSession = apps.get_model("workshops", "WorkshopSession")
    highest = WorkshopSession.objects.filter(workshop=models.OuterRef("pk")).order_by("-sequence").values("sequence")
    Workshop.objects.update(sequence=Coalesce(models.Subquery(highest[:1]), 0))


class Migration(migrations.Migration):

    dependencies = [
        ('workshops', '0004_clock_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='workshopsession',
            name='sequence',
            field=models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE of this session's event: raised when its time, place or title changes or it is cancelled, and whenever an attendee needs a message newer than the last one they got. Never lowered."),
        ),
        migrations.RunPython(sequence_to_sessions, sequence_to_workshops),
        migrations.RemoveField(
            model_name='workshop',
            name='sequence',
        ),
        migrations.CreateModel(
            name='CalendarInvitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uid', models.CharField(help_text="The event's UID as first sent; kept, so later messages reach the same event.", max_length=255)),
                ('sequence', models.PositiveIntegerField(help_text='The SEQUENCE of the last message sent.')),
                ('method', models.CharField(choices=[('REQUEST', 'In the calendar (REQUEST)'), ('CANCEL', 'Removed from the calendar (CANCEL)')], help_text='The last message sent.', max_length=7)),
                ('fingerprint', models.CharField(help_text='A hash of the title, time and place as last sent: a change means an update.', max_length=64)),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now, help_text='When the last message was written.')),
                ('registration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='calendar_invitations', to='workshops.registration')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='calendar_invitations', to='workshops.workshopsession')),
            ],
            options={
                'verbose_name': 'calendar invitation',
                'verbose_name_plural': 'calendar invitations',
                'ordering': ['session__starts_at', 'id'],
                'constraints': [models.UniqueConstraint(fields=('registration', 'session'), name='calendar_invitation_unique')],
            },
        ),
    ]
