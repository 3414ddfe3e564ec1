"""Retention: entries older than ENTRY_RETENTION_DAYS are deleted nightly.

Kept whatever their age:

- entries someone picked, saved or recommended (curation is a choice to keep);
- entries any other model points to and would outlive: every relation to
  Entry found in ``Entry._meta.related_objects`` (hidden ones too) whose ``on_delete`` is not
  CASCADE (PROTECT and RESTRICT, but also SET_NULL and SET_DEFAULT: a time
  entry of issue 10 keeps a copy of the title and link and uses SET_NULL, and
  retention still never removes what it points to). The check is generic, so
  a model added later is covered without touching this module. CASCADE
  relations (the entry's outbound links) belong to the entry and go with it.

Deletes run in batches so a first run over years of entries never holds one
huge transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import Entry, Pick, Recommendation, SavedEntry

BATCH_SIZE = 1000


def _referencing_relations() -> list:
    """Relations to Entry whose rows would survive the entry's deletion.

    Like ``Entry._meta.related_objects`` but hidden ones included: a foreign
    key declared with ``related_name="+"`` still points to the entry.
    """
    return [
        rel
        for rel in Entry._meta.get_fields(include_hidden=True)
        if rel.is_relation
        and rel.auto_created
        and not rel.concrete
        and not rel.many_to_many
        and rel.on_delete is not models.CASCADE
    ]


def entries_expired(*, now: datetime | None = None, days: int | None = None) -> QuerySet[Entry]:
    """Entries past retention that nothing keeps."""
    days = settings.ENTRY_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Entry.objects.filter(published_at__lt=cutoff)
    for model in (Pick, SavedEntry, Recommendation):
        expired = expired.exclude(Exists(model.objects.filter(entry=OuterRef("pk"))))
    for rel in _referencing_relations():
        related = rel.related_model._base_manager.filter(**{rel.field.name: OuterRef("pk")})
        expired = expired.exclude(Exists(related))
    return expired


def entries_purge_expired(*, now: datetime | None = None, days: int | None = None, batch: int = BATCH_SIZE) -> int:
    """Delete expired entries (and their links). Returns how many entries."""
    total = 0
    while True:
        ids = list(entries_expired(now=now, days=days).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        # Re-check inside the delete: a save or pick may have arrived meanwhile.
        deleted = entries_expired(now=now, days=days).filter(pk__in=ids).delete()[1].get(Entry._meta.label, 0)
        total += deleted
        if len(ids) < batch:
            return total
