"""Backups: the PostgreSQL database (pg_dump custom format) plus the uploads
folder, in one timestamped directory; restore puts both back.

Only PostgreSQL is supported here (production); the embedded mode's SQLite
file can simply be copied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections


class BackupError(Exception):
    pass


def _pg_env_and_args(alias: str = "default") -> tuple[dict[str, str], list[str]]:
    db = settings.DATABASES[alias]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("Backups need PostgreSQL; in the embedded mode copy var/plnorg.sqlite3 instead.")
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return env, args


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client package).")
    return path


def backup_create(*, destination: Path, alias: str = "default") -> Path:
    """Write <destination>/plnorg-<timestamp>/ with database.dump and uploads.tar.gz."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(destination) / f"plnorg-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    env, args = _pg_env_and_args(alias)
    name = settings.DATABASES[alias]["NAME"]
    result = subprocess.run(  # noqa: S603 - argv built from settings, no shell
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(folder / "database.dump"), *args, name],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(folder / "uploads.tar.gz", "w:gz") as tar:
        if media.exists():
            tar.add(media, arcname="uploads")
    return folder


def backup_restore(
    *, source: Path, alias: str = "default", database: str | None = None, uploads: Path | None = None
) -> Path:
    """Restore a backup folder into the configured (or the named) database and
    its uploads into a folder. The target database must exist; its tables are
    replaced (`--clean --if-exists`).

    The uploads go into ``uploads`` when given, else into the live uploads
    folder (MEDIA_ROOT), but only when restoring the configured database
    itself. Restoring into another database (to check a backup) never
    touches the live uploads: it needs ``uploads``, a folder other than the
    live one, and everything is checked before the database is touched.
    Returns the folder the uploads went into.
    """
    source = Path(source)
    dump = source / "database.dump"
    if not dump.exists():
        raise BackupError(f"{dump} not found: is this a plnorg backup folder?")
    env, args = _pg_env_and_args(alias)
    live_name = settings.DATABASES[alias]["NAME"]
    name = database or live_name
    media = _uploads_destination(uploads=uploads, live=name == live_name, name=name)
    connections.close_all()
    result = subprocess.run(  # noqa: S603 - argv built from settings, no shell
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            name,
            *args,
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    archive = source / "uploads.tar.gz"
    if archive.exists():
        media.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name == "uploads" or m.name.startswith("uploads/")]
            for member in members:
                member.name = member.name[len("uploads/") :] if member.name != "uploads" else "."
            tar.extractall(media, members=members, filter="data")
    return media


def _uploads_destination(*, uploads: Path | None, live: bool, name: str) -> Path:
    """Where a restore writes the backup's uploads; refuses to write a check's files over the live ones."""
    live_media = Path(settings.MEDIA_ROOT).resolve()
    if uploads is None:
        if live:
            return live_media
        raise BackupError(
            f"Restoring into another database ({name}) does not touch the live uploads folder ({live_media}): "
            "name a folder for the backup's uploads with --uploads FOLDER (an empty one, e.g. /tmp/plnorg-check)."
        )
    destination = Path(uploads).resolve()
    if not live and (
        destination == live_media or live_media in destination.parents or destination in live_media.parents
    ):
        raise BackupError(
            f"{destination} is, is inside or contains the live uploads folder ({live_media}); restoring into "
            f"another database ({name}) must not write there. Name another folder with --uploads."
        )
    return destination
