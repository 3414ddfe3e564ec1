from django.db import migrations

# GIN's fast update keeps new entries' search terms in a pending list that
# every search through the index reads in full until the list is merged
# (when it outgrows gin_pending_list_limit, by default 4 MB, or at vacuum).
# At a million entries that read was 4.2 ms of a rare word's 4.3 ms probe
# (422 pending pages); bounded at 256 kB it is at most 32 pages, and
# storing entries costs the same (bench/ingest.py, PostgreSQL CPU per feed).
PENDING_LIST_KB = 256


def limit_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX entry_search_idx SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def limit_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX entry_search_idx RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0006_lighter_ingest_writes"),
    ]

    operations = [
        migrations.RunPython(limit_set, limit_reset),
    ]
