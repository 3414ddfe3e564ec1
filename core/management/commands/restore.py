from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup folder made by `backup` (database and uploads). Replaces current data."

    def add_arguments(self, parser):
        parser.add_argument("source", help="The backup folder (var/backups/plnorg-...).")
        parser.add_argument("--database", help="Restore into this database name instead of the configured one.")

    def handle(self, *args, **options):
        try:
            backup_restore(source=Path(options["source"]), database=options.get("database"))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"restored {options['source']}"))
