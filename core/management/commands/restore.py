from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder made by `backup`. Into the configured database: replaces its data and puts the "
        "uploads back into the uploads folder (MEDIA_ROOT). Into another database (--database, e.g. to check a "
        "backup): the live uploads folder is never touched, and --uploads names the folder for the backup's files."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="The backup folder (var/backups/plnorg-...).")
        parser.add_argument("--database", help="Restore into this database name instead of the configured one.")
        parser.add_argument(
            "--uploads",
            metavar="FOLDER",
            help=(
                "Put the backup's uploads in this folder. Required with --database (another database), where it "
                "must not be the live uploads folder; by default the configured database's restore uses MEDIA_ROOT."
            ),
        )

    def handle(self, *args, **options):
        uploads = Path(options["uploads"]) if options.get("uploads") else None
        try:
            media = backup_restore(source=Path(options["source"]), database=options.get("database"), uploads=uploads)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"restored {options['source']} (uploads in {media})"))
