"""Make an app password for a member and print it (for admins and scripts).

    python manage.py app_password ana@example.com "NetNewsWire"

Prints the password (shown this once), the member's Fever api_key and the
two API addresses. The audit log records it with no actor (the command
line). Fails with a message for an unknown or deactivated member.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from members.models import Member

from ...services.app_passwords import AppPasswordRefused, app_password_create, fever_api_key
from ...urls import FEVER_PREFIX, GREADER_PREFIX


class Command(BaseCommand):
    help = "Make an app password for a member's reading app and print it once."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The member's email address.")
        parser.add_argument("name", help="Which app or device it is for.")

    def handle(self, *args, email, name, **options):
        member = Member.objects.select_related("user").filter(user__email__iexact=email.strip()).first()
        if member is None:
            raise CommandError(f"No member with the email address {email}.")
        try:
            made = app_password_create(member=member, name=name, actor=None)
        except AppPasswordRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"app password for {member.user.email} ({made.app_password.name}): {made.password}")
        self.stdout.write(f"Fever api_key: {fever_api_key(email=member.user.email, password=made.password)}")
        self.stdout.write(f"Google Reader API: {settings.SITE_URL}/{GREADER_PREFIX}")
        self.stdout.write(f"Fever API: {settings.SITE_URL}/{FEVER_PREFIX}")
        self.stdout.write("It is shown only this once.")
