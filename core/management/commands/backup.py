from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the uploads folder into one timestamped folder."

    def add_arguments(self, parser):
        parser.add_argument("--output", default="var/backups", help="Folder that receives the backup.")

    def handle(self, *args, **options):
        try:
            folder = backup_create(destination=Path(options["output"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"backup written to {folder}"))
