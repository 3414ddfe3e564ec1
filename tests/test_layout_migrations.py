"""The layout change moved models between apps (issue 21) without touching a
row: a database made by the code from before it, with the demo organization
in it, migrates forward to the new layout and reads back exactly the same.

The old code is taken from git (the newest commit before the layout: see
`pre_layout_commit`), extracted to a temporary folder and run with this
virtualenv's Python against a fresh PostgreSQL database: `migrate` and
`seed_demo`, plus an admin log entry and a group's permissions on moved
models. Then this code runs the layout's migrations on that database, and
every row of every table is compared, as are the moved models' rows read
through each code's ORM.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
LAYOUT_MARKER = "core/permissions.py"  # the ground the layout created

# The layout's migrations (the ones that move models), and the moved models.
LAYOUT_MIGRATIONS = [
    ("clock", "0001_initial"),
    ("dashboard", "0001_initial"),
    ("introductions", "0001_initial"),
    ("members", "0008_introduction_moved"),
    ("plnorg", "0004_models_moved"),
    ("workshops", "0004_clock_moved"),
]
MOVED = {  # old label -> new label; their tables keep their names
    "workshops.ClockPolicy": "clock.ClockPolicy",
    "workshops.TimeEntry": "clock.TimeEntry",
    "workshops.TimeEntryHistory": "clock.TimeEntryHistory",
    "workshops.ClockTimer": "clock.ClockTimer",
    "workshops.ClockWeekLock": "clock.ClockWeekLock",
    "members.Introduction": "introductions.Introduction",
    "plnorg.IntroductionSuggestion": "introductions.IntroductionSuggestion",
    "plnorg.ConnectorStatus": "introductions.ConnectorStatus",
    "plnorg.IntroductionComputation": "introductions.IntroductionComputation",
    "plnorg.DashboardSnapshot": "dashboard.DashboardSnapshot",
}

# Run by the old code after seeding: admin log entries and a group holding
# permissions on moved models (content types the migration must carry over).
OLD_EXTRAS = """
import json, os
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
User = apps.get_model("members", "User")
admin = User.objects.get(email="admin@example.com")
logged = {}
for label, codename in [("workshops.TimeEntry", "view_timeentry"), ("members.Introduction", "change_introduction"),
                        ("plnorg.DashboardSnapshot", "view_dashboardsnapshot")]:
    model = apps.get_model(label)
    row = model.objects.order_by("pk").first()
    entry = LogEntry.objects.log_actions(user_id=admin.pk, queryset=[row], action_flag=CHANGE,
                                         change_message="layout test", single_object=True)
    logged[label] = {"log_entry": entry.pk, "object_id": row.pk}
    group, _ = Group.objects.get_or_create(name="Layout auditors")
    group.permissions.add(Permission.objects.get(content_type=ContentType.objects.get_for_model(model), codename=codename))
reader = User.objects.get(email="employee@example.com")
reader.groups.add(Group.objects.get(name="Layout auditors"))
json.dump(logged, open(os.environ["LAYOUT_OUT"], "w"))
"""

# Every row of the given models through the ORM (dumpdata's format).
ORM_ROWS = """
import json, os
from django.apps import apps
from django.core import serializers
out = {}
for label in json.loads(os.environ["LAYOUT_MODELS"]):
    model = apps.get_model(label)
    out[label] = json.loads(serializers.serialize("json", model.objects.order_by("pk")))
json.dump(out, open(os.environ["LAYOUT_OUT"], "w"))
"""

# Run by this code after migrating: what the admin log and the group point at.
NEW_EXTRAS = """
import json, os
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.apps import apps
logged = json.loads(os.environ["LAYOUT_LOGGED"])
User = apps.get_model("members", "User")
reader = User.objects.get(email="employee@example.com")
out = {
    "log_entries": {
        label: [e.content_type.app_label, e.content_type.model_class().__name__, e.get_edited_object().pk]
        for label, e in ((label, LogEntry.objects.get(pk=v["log_entry"])) for label, v in logged.items())
    },
    "group_permissions": sorted(
        f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Layout auditors").permissions.all()
    ),
    "reader_has": {
        perm: reader.has_perm(perm)
        for perm in ["clock.view_timeentry", "introductions.change_introduction", "dashboard.view_dashboardsnapshot",
                     "workshops.view_timeentry"]
    },
}
json.dump(out, open(os.environ["LAYOUT_OUT"], "w"))
"""

# The layout's migrations in one plan, as `migrate` runs a plan (the
# post_migrate signal once, on the final state), stopping there: migrations
# added after the layout are not this test's business.
MIGRATE_LAYOUT = """
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
executor = MigrationExecutor(connection)
targets = {targets!r}
plan = executor.migration_plan(targets)
state = executor._create_project_state(with_applied_migrations=True)
emit_pre_migrate_signal(0, False, connection.alias, apps=state.apps, plan=plan)
state = executor.migrate(targets, plan=plan, state=state.clone())
state.clear_delayed_apps_cache()
emit_post_migrate_signal(0, False, connection.alias, apps=state.apps, plan=plan)
print(sorted((m.app_label, m.name) for m, _backwards in plan))
"""


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def has_layout(commit: str) -> bool:
    found = subprocess.run(["git", "cat-file", "-e", f"{commit}:{LAYOUT_MARKER}"], cwd=ROOT, capture_output=True)
    return found.returncode == 0


# main's head when the layout landed (with every migration main had by then).
# Fixed, not searched for: branches merged later carry older commits without
# core/ whose migrations are behind it.
PRE_LAYOUT_COMMIT = "5616052a5667f007b239d94ae8fd3f094c223785"


def pre_layout_commit() -> str:
    """The newest state of main before the layout change."""
    return PRE_LAYOUT_COMMIT


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def connect(name: str):
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=name,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )
    connection.autocommit = True
    return connection


def every_row(name: str) -> dict[str, list[tuple]]:
    """Every table of the database: its rows, ordered by every column."""
    connection = connect(name)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the catalogue
            rows[table] = sorted(cursor.fetchall(), key=repr)
    connection.close()
    return rows


def run(code_root: Path, env: dict, *args: str, timeout: int = 180) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=code_root, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{code_root} manage.py {' '.join(args)}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def shell(code_root: Path, env: dict, script: str, out: Path, **variables: str):
    run(code_root, {**env, "LAYOUT_OUT": str(out), **variables}, "shell", "-c", script)
    return json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_database_from_before_the_layout_migrates_forward_with_every_row(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.fail("this test needs the git history (a clone, not an export) to build the old database")
    commit = pre_layout_commit()
    assert not has_layout(commit)
    old_root = tmp_path / "old"
    old_root.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(old_root, filter="data")

    name = f"plnorg_layout_{os.getpid()}"
    server = connect("postgres")
    with server.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    # Embedded broker and local-memory cache (no shared Redis), production settings otherwise.
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CACHE_URL", "PYTHONPATH")}
    env.update(DATABASE_URL=database_url(name), DEBUG="0", SECRET_KEY="layout-test-" + "x" * 40)
    try:
        # The old code builds the database: schema, demo organization, admin log, a group.
        run(old_root, env, "migrate", "--noinput")
        assert "Demo logins" in run(old_root, env, "seed_demo")
        logged = shell(old_root, env, OLD_EXTRAS, tmp_path / "logged.json")
        old_orm = shell(old_root, env, ORM_ROWS, tmp_path / "old_orm.json", LAYOUT_MODELS=json.dumps(sorted(MOVED)))
        before = every_row(name)
        before_content_types = dict(
            ((row[1], row[2]), row[0]) for row in before["django_content_type"]
        )  # (app_label, model) -> id

        # This code migrates it forward: only the layout's migrations.
        planned = run(ROOT, env, "shell", "-c", MIGRATE_LAYOUT.format(targets=LAYOUT_MIGRATIONS))
        assert planned.strip().splitlines()[-1] == repr(LAYOUT_MIGRATIONS)
        after = every_row(name)
        new_orm = shell(
            ROOT, env, ORM_ROWS, tmp_path / "new_orm.json", LAYOUT_MODELS=json.dumps(sorted(MOVED.values()))
        )
        extras = shell(ROOT, env, NEW_EXTRAS, tmp_path / "extras.json", LAYOUT_LOGGED=json.dumps(logged))
        # And whatever came after the layout applies on top.
        run(ROOT, env, "migrate", "--noinput")
        run(ROOT, env, "migrate", "--check")
    finally:
        with server.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()

    # The demo organization is there: time with its history, introductions, snapshots.
    counts = {table: len(before[table]) for table in before}
    assert all(
        counts[table] > 0
        for table in [
            "workshops_timeentry",
            "workshops_timeentryhistory",
            "workshops_clockpolicy",
            "members_introduction",
            "plnorg_introductionsuggestion",
            "plnorg_connectorstatus",
            "plnorg_introductioncomputation",
            "plnorg_dashboardsnapshot",
        ]
    ), counts
    # Every table of the database, every row: the same, but for the migration
    # log (the layout's migrations added) and the moved models' content types.
    unchanged = set(before) - {"django_migrations", "django_content_type"}
    assert sorted(after) == sorted(before)
    assert {
        table: (sorted(set(before[table]) - set(after[table])), sorted(set(after[table]) - set(before[table])))
        for table in sorted(unchanged)
        if after[table] != before[table]
    } == {}
    applied = sorted(set(after["django_migrations"]) - set(before["django_migrations"]))
    assert set(before["django_migrations"]) <= set(after["django_migrations"])
    assert sorted((app, migration) for _id, app, migration, _at in applied) == LAYOUT_MIGRATIONS
    moved_types = {(old.split(".")[0], old.split(".")[1].lower()): new.split(".")[0] for old, new in MOVED.items()}
    expected_types = sorted(
        (type_id, moved_types.get((app, model), app), model) for (app, model), type_id in before_content_types.items()
    )
    assert sorted(after["django_content_type"]) == expected_types

    # Through the ORMs: every row of every moved model reads back the same.
    assert {new: [(r["pk"], r["fields"]) for r in new_orm[new]] for new in MOVED.values()} == {
        new: [(r["pk"], r["fields"]) for r in old_orm[old]] for old, new in MOVED.items()
    }
    assert len(new_orm["clock.TimeEntry"]) == counts["workshops_timeentry"]
    # Admin log entries, a group's permissions and a member's rights follow the models.
    assert extras == {
        "log_entries": {
            "workshops.TimeEntry": ["clock", "TimeEntry", logged["workshops.TimeEntry"]["object_id"]],
            "members.Introduction": ["introductions", "Introduction", logged["members.Introduction"]["object_id"]],
            "plnorg.DashboardSnapshot": [
                "dashboard",
                "DashboardSnapshot",
                logged["plnorg.DashboardSnapshot"]["object_id"],
            ],
        },
        "group_permissions": [
            "clock.view_timeentry",
            "dashboard.view_dashboardsnapshot",
            "introductions.change_introduction",
        ],
        "reader_has": {
            "clock.view_timeentry": True,
            "introductions.change_introduction": True,
            "dashboard.view_dashboardsnapshot": True,
            "workshops.view_timeentry": False,
        },
    }
