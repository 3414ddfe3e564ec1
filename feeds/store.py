"""Writing parsed entries: one bulk upsert per fetch, idempotent.

`entries_store` must run inside the caller's transaction. On PostgreSQL it is
one ``INSERT … ON CONFLICT (feed_id, identity) DO UPDATE … WHERE content_hash
IS DISTINCT FROM …`` statement: a retried task or two workers racing on the
same feed can never create a duplicate, an unchanged entry is not touched at
all, and an edited one is updated in place. ``RETURNING (xmax = 0)`` tells new
rows from updated ones. SQLite (the embedded mode) takes a plain fallback with
the ORM, correct there because SQLite runs one writer at a time. The vendor
check in `entries_store` is the only one in the ingestion pipeline.

Dates: an entry without a date gets the time it was first seen; a date in the
future is clamped to the fetch time; on update the earlier of the stored and
the new date is kept, so re-dating a post cannot bring it back to the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from .links import link_domain
from .models import Entry, EntryLink, Feed
from .parse import ParsedEntry

# Columns set by an update of an edited entry (published_at is handled apart).
_UPDATED_COLUMNS = (
    "title",
    "link",
    "author",
    "summary",
    "content",
    "enclosure_url",
    "enclosure_type",
    "image_url",
    "content_hash",
    "updated_at",
)


# Links per INSERT statement (3 parameters each; SQLite allows 32,766).
_LINK_ROWS_PER_INSERT = 2000


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    # identity -> id of each entry inserted or updated by this call
    written_ids: dict[str, int] = field(default_factory=dict)


def entry_published_at(entry: ParsedEntry, fetched_at: datetime) -> datetime:
    """No date: first seen. Future date: the fetch time."""
    if entry.published_at is None or entry.published_at > fetched_at:
        return fetched_at
    return entry.published_at


def _entry_row(feed: Feed, entry: ParsedEntry, fetched_at: datetime) -> Entry:
    return Entry(
        feed=feed,
        identity=entry.identity,
        title=entry.title,
        link=entry.link,
        author=entry.author,
        published_at=entry_published_at(entry, fetched_at),
        summary=entry.summary,
        content=entry.content,
        enclosure_url=entry.enclosure_url,
        enclosure_type=entry.enclosure_type[:100],
        image_url=entry.image_url,
        content_hash=entry.content_hash,
        first_seen_at=fetched_at,
        updated_at=fetched_at,
    )


def entries_store(*, feed: Feed, entries: list[ParsedEntry], fetched_at: datetime) -> StoreResult:
    """Insert new entries, update changed ones, leave the rest; record their links.

    ``entries`` must have distinct identities (parse_feed guarantees it).
    """
    if not entries:
        return StoreResult()
    # A stable order means concurrent upserts on one feed take row locks in
    # the same order and cannot deadlock.
    rows = sorted((_entry_row(feed, entry, fetched_at) for entry in entries), key=lambda row: row.identity)
    if connection.vendor == "postgresql":
        result = _upsert_postgresql(rows)
    else:
        result = _upsert_portable(feed, rows)
    _store_links(entries, result)
    return result


def _insert_fields():
    return [f for f in Entry._meta.concrete_fields if not f.primary_key and not getattr(f, "generated", False)]


def _upsert_postgresql(rows: list[Entry]) -> StoreResult:
    fields = _insert_fields()
    table = Entry._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list = []
    for row in rows:
        params.extend(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
    updates = ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in _UPDATED_COLUMNS)
    # Only names from our own model and %s placeholders go into the text.
    values = ", ".join([placeholder] * len(rows))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({quote('feed_id')}, {quote('identity')}) DO UPDATE SET {updates}, "
        f"{quote('published_at')} = LEAST({table}.{quote('published_at')}, EXCLUDED.{quote('published_at')}) "
        f"WHERE {table}.{quote('content_hash')} IS DISTINCT FROM EXCLUDED.{quote('content_hash')} "
        f"RETURNING {quote('id')}, {quote('identity')}, (xmax = 0) AS inserted"
    )
    result = StoreResult()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for entry_id, identity, inserted in cursor.fetchall():
            result.written_ids[identity] = entry_id
            if inserted:
                result.new += 1
            else:
                result.updated += 1
    return result


def _upsert_portable(feed: Feed, rows: list[Entry]) -> StoreResult:
    existing = {
        identity: (pk, content_hash, published_at)
        for identity, pk, content_hash, published_at in Entry.objects.filter(
            feed=feed, identity__in=[row.identity for row in rows]
        ).values_list("identity", "pk", "content_hash", "published_at")
    }
    new_rows = [row for row in rows if row.identity not in existing]
    changed = []
    for row in rows:
        if row.identity in existing and existing[row.identity][1] != row.content_hash:
            pk, _, stored_published = existing[row.identity]
            row.pk = pk
            row.published_at = min(stored_published, row.published_at)
            changed.append(row)
    Entry.objects.bulk_create(new_rows, ignore_conflicts=True)
    if changed:
        Entry.objects.bulk_update(changed, [*_UPDATED_COLUMNS, "published_at"])
    result = StoreResult(new=len(new_rows), updated=len(changed))
    if new_rows:
        result.written_ids.update(
            Entry.objects.filter(feed=feed, identity__in=[row.identity for row in new_rows]).values_list(
                "identity", "pk"
            )
        )
    result.written_ids.update((row.identity, row.pk) for row in changed)
    return result


def _store_links(entries: list[ParsedEntry], result: StoreResult) -> None:
    if not result.written_ids:
        return
    if result.updated:
        # An edit may have removed links: the written entries' links are replaced.
        EntryLink.objects.filter(entry_id__in=list(result.written_ids.values())).delete()
    rows = [
        (result.written_ids[entry.identity], url, link_domain(url)[:255])
        for entry in entries
        if entry.identity in result.written_ids
        for url in entry.links
    ]
    # Plain INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike):
    # thousands of links per fetch cost more as model instances than to store.
    quote = connection.ops.quote_name
    table = quote(EntryLink._meta.db_table)
    columns = ", ".join(quote(EntryLink._meta.get_field(name).column) for name in ("entry", "url", "domain"))
    for start in range(0, len(rows), _LINK_ROWS_PER_INSERT):
        chunk = rows[start : start + _LINK_ROWS_PER_INSERT]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING",  # noqa: S608
                [value for row in chunk for value in row],
            )
