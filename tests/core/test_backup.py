"""Backup round trip: pg_dump + uploads, restored into a fresh database.

Time entries, registrations (with their history) and an uploaded workshop
file are made through the services, committed (`transaction=True`: pg_dump
only sees committed rows), backed up, and restored as on a new machine: a
separate plnorg process configured with a new database and an empty uploads
folder runs `restore`, and another reads every row back by id; each must
equal the original field for field, and the file byte for byte.

Checking a backup in another database (`restore --database`) must leave the
live uploads folder exactly as it is: a file deleted since the backup stays
deleted.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from core.backup import backup_create, backup_restore
from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import MemberFactory
from tests.workshops.factories import WorkshopFactory
from workshops.clock.models import TimeEntry, TimeEntryHistory
from workshops.clock.services import time_entry_create
from workshops.models import RegistrationEvent
from workshops.services.registration import workshop_register
from workshops.services.workshop import material_add

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"

# Run by `manage.py shell` against the restored database: the rows (Django's
# JSON serialization, every field) and the material's bytes read through its
# FileField, i.e. through the storage and the restored MEDIA_ROOT.
READ_BACK = """
import json
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.db import connection
from workshops.models import WorkshopMaterial

wanted = json.loads({wanted!r})
rows = {{
    label: json.loads(serializers.serialize("json", apps.get_model(label).objects.filter(pk__in=ids).order_by("pk")))
    for label, ids in wanted["rows"].items()
}}
with WorkshopMaterial.objects.get(pk=wanted["material"]).file.open("rb") as f:
    file_hex = f.read().hex()
print(json.dumps({{
    "database": connection.settings_dict["NAME"],
    "media_root": str(settings.MEDIA_ROOT),
    "rows": rows,
    "file_hex": file_hex,
}}))
"""


def _pg(dbname: str):
    db = settings.DATABASES["default"]
    return psycopg2.connect(dbname=dbname, host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"])


def _table_counts(dbname: str) -> dict[str, int]:
    conn = _pg(dbname)
    try:
        with conn.cursor() as cur:
            counts = {}
            for model in apps.get_models():
                cur.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
                counts[model._meta.db_table] = cur.fetchone()[0]
            return counts
    finally:
        conn.close()


def _serialized(model, ids: list[int]) -> list[dict]:
    return json.loads(serializers.serialize("json", model.objects.filter(pk__in=ids).order_by("pk")))


def _manage_in_a_new_process(*args: str, database: str, media_root: Path) -> str:
    """Run manage.py as plnorg on another machine would: configured with that
    database and that uploads folder. Returns what it printed."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media_root), "S3_BUCKET": ""},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _read_back_in_a_new_process(*, database: str, media_root: Path, wanted: dict) -> dict:
    script = READ_BACK.format(wanted=json.dumps(wanted))
    return json.loads(
        _manage_in_a_new_process("shell", "-v", "0", "-c", script, database=database, media_root=media_root)
    )


@pytest.fixture
def restore_database():
    """A fresh, empty database beside the test database (named after it, so
    parallel test runs on one server do not collide); dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_check"
    server = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", "--if-exists", *server, name], check=True)
    subprocess.run(["createdb", *server, name], check=True)
    yield name
    subprocess.run(["dropdb", "--if-exists", *server, name], check=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_backup_restores_time_entries_registrations_and_uploads(tmp_path, settings, restore_database):
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    facilitator = MemberFactory()
    role_grant(user=facilitator.user, group_name=FACILITATORS)
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator.user])
    seated, waiting = MemberFactory(), MemberFactory()
    registrations = [
        workshop_register(workshop_id=workshop.pk, member=member, actor=member.user) for member in (seated, waiting)
    ]
    yesterday = timezone.localdate() - timedelta(days=1)
    entries = [
        time_entry_create(
            member=seated, actor=seated.user, activity="seek", day=yesterday, minutes=45, note="Read two papers"
        )[0],
        time_entry_create(
            member=waiting, actor=waiting.user, activity="sense", day=yesterday, minutes=30, workshop=workshop
        )[0],
    ]
    material = material_add(
        workshop=workshop, actor=facilitator.user, title="Slides", upload=SimpleUploadedFile("week 1.pdf", PDF)
    )
    assert (Path(settings.MEDIA_ROOT) / material.file.name).read_bytes() == PDF
    wanted = {
        "rows": {
            "clock.TimeEntry": [e.pk for e in entries],
            "clock.TimeEntryHistory": list(
                TimeEntryHistory.objects.filter(entry__in=entries).values_list("pk", flat=True)
            ),
            "workshops.Registration": [r.pk for r in registrations],
            "workshops.RegistrationEvent": list(
                RegistrationEvent.objects.filter(registration__in=registrations).values_list("pk", flat=True)
            ),
            "workshops.WorkshopMaterial": [material.pk],
        },
        "material": material.pk,
    }
    original = {label: _serialized(apps.get_model(label), ids) for label, ids in wanted["rows"].items()}
    source_counts = _table_counts(connection.settings_dict["NAME"])

    folder = backup_create(destination=tmp_path / "backups")
    restored_media = tmp_path / "restored-uploads"  # empty, as on a new machine
    # The new machine restores into its own (default) database and uploads folder.
    printed = _manage_in_a_new_process("restore", str(folder), database=restore_database, media_root=restored_media)
    restored = _read_back_in_a_new_process(database=restore_database, media_root=restored_media, wanted=wanted)

    assert printed == f"restored {folder} (uploads in {restored_media})\n"
    assert (folder / "database.dump").stat().st_size > 0
    assert (restored["database"], restored["media_root"]) == (restore_database, str(restored_media))
    assert _table_counts(restore_database) == source_counts
    assert {label: len(rows) for label, rows in original.items()} == {
        "clock.TimeEntry": 2,
        "clock.TimeEntryHistory": 2,
        "workshops.Registration": 2,
        "workshops.RegistrationEvent": 2,
        "workshops.WorkshopMaterial": 1,
    }
    assert restored["rows"] == original
    # What the originals were, spelled out (the comparison above covers every field).
    by_pk = {label: {row["pk"]: row["fields"] for row in rows} for label, rows in restored["rows"].items()}
    seat, wait = (by_pk["workshops.Registration"][r.pk] for r in registrations)
    assert (seat["member"], seat["status"], seat["waitlist_position"]) == (seated.pk, "registered", None)
    assert (wait["member"], wait["status"], wait["waitlist_position"]) == (waiting.pk, "waitlisted", 1)
    assert sorted((e["registration"], e["status"]) for e in by_pk["workshops.RegistrationEvent"].values()) == sorted(
        [(registrations[0].pk, "registered"), (registrations[1].pk, "waitlisted")]
    )
    first, second = (by_pk["clock.TimeEntry"][e.pk] for e in entries)
    assert (first["member"], first["date"], first["minutes"], first["activity"], first["note"], first["status"]) == (
        seated.pk,
        yesterday.isoformat(),
        45,
        "seek",
        "Read two papers",
        TimeEntry.Status.DRAFT,
    )
    assert (second["member"], second["minutes"], second["workshop"]) == (waiting.pk, 30, workshop.pk)
    stored = by_pk["workshops.WorkshopMaterial"][material.pk]
    assert (stored["file"], stored["file_name"], stored["size_bytes"]) == (material.file.name, "week_1.pdf", len(PDF))
    assert (restored_media / material.file.name).read_bytes() == PDF
    assert bytes.fromhex(restored["file_hex"]) == PDF


def _folder_contents(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``, by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def _public_tables(dbname: str) -> list[str]:
    conn = _pg(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_checking_a_backup_in_another_database_leaves_the_live_uploads_as_they_are(
    tmp_path, settings, restore_database
):
    live = tmp_path / "uploads"
    settings.MEDIA_ROOT = str(live)
    facilitator = MemberFactory()
    role_grant(user=facilitator.user, group_name=FACILITATORS)
    workshop = WorkshopFactory(facilitators=[facilitator.user])
    kept, deleted = (
        material_add(workshop=workshop, actor=facilitator.user, title=title, upload=SimpleUploadedFile(name, body))
        for title, name, body in [("Kept", "kept.pdf", PDF + b"kept"), ("Deleted", "deleted.pdf", PDF + b"gone")]
    )
    folder = backup_create(destination=tmp_path / "backups")
    (live / deleted.file.name).unlink()  # deleted on the live site after the backup
    live_before = _folder_contents(live)
    assert live_before[kept.file.name] == PDF + b"kept"
    assert deleted.file.name not in live_before

    with pytest.raises(CommandError) as without_folder:
        call_command("restore", str(folder), "--database", restore_database)
    with pytest.raises(CommandError) as inside_live:
        call_command("restore", str(folder), "--database", restore_database, "--uploads", str(live / "check"))
    assert str(without_folder.value) == (
        f"Restoring into another database ({restore_database}) does not touch the live uploads folder ({live}): "
        "name a folder for the backup's uploads with --uploads FOLDER (an empty one, e.g. /tmp/plnorg-check)."
    )
    assert str(inside_live.value) == (
        f"{live / 'check'} is, is inside or contains the live uploads folder ({live}); restoring into "
        f"another database ({restore_database}) must not write there. Name another folder with --uploads."
    )
    assert _public_tables(restore_database) == []  # refused before pg_restore ran

    check = tmp_path / "check-uploads"
    out = StringIO()
    call_command("restore", str(folder), "--database", restore_database, "--uploads", str(check), stdout=out)

    assert out.getvalue() == f"restored {folder} (uploads in {check})\n"
    assert _folder_contents(live) == live_before  # byte for byte: the deleted file did not come back
    assert {name: body for name, body in _folder_contents(check).items() if body is not None} == {
        kept.file.name: PDF + b"kept",
        deleted.file.name: PDF + b"gone",
    }
    conn = _pg(restore_database)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT title FROM workshops_workshopmaterial WHERE workshop_id = %s ORDER BY title", [workshop.pk]
            )
            assert [row[0] for row in cur.fetchall()] == ["Deleted", "Kept"]
    finally:
        conn.close()


def test_restore_refuses_a_folder_without_a_dump(tmp_path):
    from core.backup import BackupError

    with pytest.raises(BackupError, match="is this a plnorg backup folder"):
        backup_restore(source=Path(tmp_path))
