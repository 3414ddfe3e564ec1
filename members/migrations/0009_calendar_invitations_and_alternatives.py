"""Calendar invitations: the member's preference (on by default) and the
outbox's body alternatives (a text/calendar part with its method)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0008_introduction_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='member',
            name='calendar_invitations',
            field=models.BooleanField(default=True, help_text='Workshop confirmations, changes and cancellations arrive as calendar invitations that calendars add, move and remove. Off: no new invitations (a calendar file to add yourself instead); events already in the calendar are still moved or removed.', verbose_name='calendar invitations'),
        ),
        migrations.AddField(
            model_name='outboundemail',
            name='alternatives',
            field=models.JSONField(blank=True, default=list, help_text='More versions of the body beside the text and HTML: list of {content, mimetype}; the mimetype may carry parameters, e.g. text/calendar; method=REQUEST for a calendar invitation.'),
        ),
    ]
