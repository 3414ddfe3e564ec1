"""Querysets compiled once per process and run again: the ORM's prepared statements.

Building and compiling a queryset is pure Python and costs the same on
every request: for the stream's page of entries it cost as much as
PostgreSQL took to run the query (1.0 ms each at 100,000 entries), and
psycopg2 has no prepared statements to save it. The SQL of a queryset is
a function of what it was built from, so a caller that names those inputs
in a key can compile once and run the same SQL and parameters again::

    rows = values_rows(("stream-page", filters, cursor), lambda: entries.values_list(...))

What the rows hold is still decided by the database on every run: a memo
keeps SQL text, never results, so visibility rules written in the queryset
(``Entry.objects.shared()``) apply to each run exactly as before.

The key must hold everything the queryset's SQL depends on. A builder that
reads data while it builds (a list of ids it fetched, the time of day) is
not a pure function of its key; do not memoize it. Settings changes (in
tests) and a new database connection object start afresh.

The memo is per thread (a compiler belongs to its thread's connection) and
keeps the ``SIZE`` most recently used keys (about 20 KB each).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.dispatch import receiver

SIZE = 128

_local = threading.local()
# Bumped when a setting changes: every thread's memo starts afresh.
_generation = 0


def _memo() -> OrderedDict[Hashable, tuple[SQLCompiler, str | None, tuple]]:
    memo = getattr(_local, "memo", None)
    if memo is None or _local.generation != _generation:
        memo = _local.memo = OrderedDict()
        _local.generation = _generation
    return memo


def _compiled(queryset: QuerySet) -> tuple[SQLCompiler, str | None, tuple]:
    if queryset._iterable_class is not ValuesListIterable:
        raise TypeError("values_rows() takes a values_list() queryset (not flat, not named)")
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return compiler, None, ()
    return compiler, sql or None, tuple(params)


def values_rows(key: Hashable, build: Callable[[], QuerySet]) -> list[tuple[Any, ...]]:
    """The rows of ``build()`` (a ``values_list()`` queryset) as tuples, as
    ``list(build())`` gives them, compiling it only the first time ``key``
    is seen in this thread."""
    memo = _memo()
    hit = memo.get(key)
    if hit is not None and hit[0].connection is _connection_of(hit[0]):
        memo.move_to_end(key)
    else:
        hit = memo[key] = _compiled(build())
        if len(memo) > SIZE:
            memo.popitem(last=False)
    compiler, sql, params = hit
    if sql is None:  # the ORM found the query empty (``pk__in=[]``)
        return []
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if compiler.has_extra_select:
        rows = [row[: compiler.col_count] for row in rows]
    return list(compiler.results_iter(results=[rows], tuple_expected=True))


def _connection_of(compiler: SQLCompiler):
    return connections[compiler.using]


def clear() -> None:
    """Forget every compiled query, in every thread."""
    global _generation  # noqa: PLW0603 - one counter for the process
    _generation += 1


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    clear()
