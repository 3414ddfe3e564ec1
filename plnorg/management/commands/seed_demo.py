from django.core.management.base import BaseCommand

from plnorg.demo import demo_logins_text, demo_seed


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization. Safe to run again."

    def handle(self, *args, **options):
        demo_seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo organization ready."))
        self.stdout.write(demo_logins_text())
