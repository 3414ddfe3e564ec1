"""python manage.py scim_token NAME: a bearer token for one identity provider."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from plnorg.provisioning.services.tokens import ScimTokenRefused, scim_token_create


class Command(BaseCommand):
    help = "Create a SCIM bearer token for an identity provider (e.g. Okta) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who will use the token, e.g. Okta or 'Microsoft Entra ID'.")

    def handle(self, *args, name: str, **options):
        try:
            token, secret = scim_token_create(name=name, actor_label="manage.py scim_token")
        except ScimTokenRefused as exc:
            raise CommandError(exc.message) from None
        base_url = settings.SITE_URL + reverse("provisioning:users").removesuffix("Users")
        self.stdout.write(f"SCIM token for {token.name} (shown only now; plnorg keeps only its hash):\n")
        self.stdout.write(f"{secret}\n")
        self.stdout.write(f"SCIM base URL: {base_url.rstrip('/')}\n")
        self.stdout.write("Revoke it in the Django admin: Provisioning (SCIM) > SCIM tokens.\n")
