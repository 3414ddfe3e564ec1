"""Backup round trip: pg_dump + uploads, restored into a fresh database."""

import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from plnorg.backup import backup_create, backup_restore

RESTORE_DB = "plnorg_restore_check"


def _table_counts(conn) -> dict[str, int]:
    counts = {}
    with conn.cursor() as cur:
        for model in apps.get_models():
            table = model._meta.db_table
            cur.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cur.fetchone()[0]
    return counts


def _pg(dbname: str):
    db = settings.DATABASES["default"]
    return psycopg2.connect(dbname=dbname, host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"])


@pytest.mark.django_db
@pytest.mark.timeout(120)
def test_backup_restores_every_row_and_upload(tmp_path, settings):
    media = tmp_path / "uploads"
    (media / "workshops").mkdir(parents=True)
    (media / "workshops" / "slides.pdf").write_bytes(b"%PDF-1.4 demo slides")
    settings.MEDIA_ROOT = str(media)
    # The seeded demo organization is committed in the test database; the
    # backup sees exactly what the restore must bring back.
    source_counts = _table_counts(_pg(connection.settings_dict["NAME"]))
    assert source_counts["members_member"] >= 30

    folder = backup_create(destination=tmp_path / "backups")
    assert (folder / "database.dump").stat().st_size > 0

    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", RESTORE_DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", RESTORE_DB], check=True)
    try:
        # Restore the uploads into an empty folder, as on a new machine.
        restored_media = tmp_path / "restored-uploads"
        settings.MEDIA_ROOT = str(restored_media)
        backup_restore(source=folder, database=RESTORE_DB)
        restored = _pg(RESTORE_DB)
        try:
            assert _table_counts(restored) == source_counts
        finally:
            restored.close()
        assert (restored_media / "workshops" / "slides.pdf").read_bytes() == b"%PDF-1.4 demo slides"
    finally:
        subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", RESTORE_DB], check=True)


def test_restore_refuses_a_folder_without_a_dump(tmp_path):
    from plnorg.backup import BackupError

    with pytest.raises(BackupError, match="is this a plnorg backup folder"):
        backup_restore(source=Path(tmp_path))
