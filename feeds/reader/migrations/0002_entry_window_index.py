"""A covering index on feeds_entry for unread counts.

Counting a member's unread entries reads every visible entry of the unread
window (READER_UNREAD_DAYS). With (published_at) and the columns the count
needs (id, feed_id, first_seen_at) in one partial index over entries not
hidden, PostgreSQL counts with an index-only scan instead of visiting tens of
thousands of table rows (once autovacuum has marked the table's pages
all-visible, as it does for a table that mostly grows). SQLite has no
INCLUDE: the same columns go in the key. It belongs to the reader, so it is
created here rather than in the feeds app.
"""

from django.db import migrations

NAME = "reader_entry_window_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {NAME} ON feeds_entry (published_at) INCLUDE (id, feed_id, first_seen_at) "
            "WHERE hidden_at IS NULL"
        )
    else:
        schema_editor.execute(
            f"CREATE INDEX {NAME} ON feeds_entry (published_at, id, feed_id, first_seen_at) WHERE hidden_at IS NULL"
        )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [("reader", "0001_read_state_app_passwords")]

    operations = [migrations.RunPython(create, drop)]
