"""DATABASE_TRANSACTION_POOLING: the one setting for running behind PgBouncer
in transaction mode (README "Scaling")."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.feeds.test_workers import _database_url

ROOT = Path(__file__).resolve().parents[2]
# Reads one row of an .iterator() query and counts the connection's open
# server-side cursors (pg_cursors lists named cursors while they are open).
PROBE = """
import django; django.setup()
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
with transaction.atomic():
    rows = ContentType.objects.all().iterator(chunk_size=1)
    next(rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        print(connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"], cursor.fetchone()[0])
"""


def _probe(script: str = PROBE, **env: str) -> str:
    """What ``script`` prints in a new process with the settings ``env`` gives
    (the two pooling variables unset unless given)."""
    unset = ("DATABASE_TRANSACTION_POOLING", "DATABASE_PREPARED_STATEMENTS")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="plnorg.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.django_db
def test_by_default_iterator_queries_use_server_side_cursors():
    assert _probe() == "False 1"


@pytest.mark.django_db
def test_transaction_pooling_turns_server_side_cursors_off():
    assert _probe(DATABASE_TRANSACTION_POOLING="1") == "True 0"


PREPARED_PROBE = """
import django; django.setup()
from django.conf import settings
from django.db import connection
from core.querymemo import values_rows
from django.contrib.contenttypes.models import ContentType
values_rows("probe", lambda: ContentType.objects.filter(pk__gte=0).values_list("pk"))
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    print(settings.DATABASE_PREPARED_STATEMENTS, cursor.fetchone()[0])
"""


@pytest.mark.django_db
def test_kept_queries_are_prepared_on_the_server_by_default():
    assert _probe(PREPARED_PROBE) == "True 1"


@pytest.mark.django_db
def test_transaction_pooling_turns_prepared_statements_off():
    assert _probe(PREPARED_PROBE, DATABASE_TRANSACTION_POOLING="1") == "False 0"
    assert _probe(PREPARED_PROBE, DATABASE_PREPARED_STATEMENTS="0") == "False 0"
