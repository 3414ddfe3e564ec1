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

Values that change from call to call without changing the query's shape
(an entry's date and id) are passed by name instead of in the key; the
builder takes them as arguments::

    rows = values_rows("older", lambda published_at, pk: ..., published_at=entry.published_at, pk=entry.pk)

The first call builds with stand-in values of the same types, finds them
among the compiled parameters, and later calls put the real values in their
places. So the builder must use such a value only as a value, never to
decide the query's shape (no ``if pk > 10``, no slice). Where the database layer
changes a value on its way (SQLite turns datetimes into text) the stand-in is
not found, and that key is built afresh on every call, as without a memo.

The memo is per thread (a compiler belongs to its thread's connection) and
keeps the ``SIZE`` most recently used keys (about 20 KB each).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, NamedTuple

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


def _memo() -> OrderedDict[Hashable, _Compiled]:
    memo = getattr(_local, "memo", None)
    if memo is None or _local.generation != _generation:
        memo = _local.memo = OrderedDict()
        _local.generation = _generation
    return memo


class _Compiled(NamedTuple):
    compiler: SQLCompiler
    sql: str | None  # None: the ORM found the query empty (``pk__in=[]``)
    params: tuple
    # Where each named value goes in ``params``; None: the stand-ins were not
    # all found, so this key is built with the real values every time.
    slots: dict[str, list[int]] | None


def _compile(queryset: QuerySet) -> tuple[SQLCompiler, str | None, tuple]:
    if queryset._iterable_class is not ValuesListIterable:
        raise TypeError("values_rows() takes a values_list() queryset (not flat, not named)")
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return compiler, None, ()
    return compiler, sql or None, tuple(params)


def _stand_in(value: Any, n: int) -> Any:
    """A value of ``value``'s type that no real query holds."""
    if isinstance(value, bool):
        raise TypeError("values_rows(): a bool changes a query's shape; put it in the key")
    if isinstance(value, int):
        return -(2**62) - n
    if isinstance(value, datetime):
        return datetime(1901, 2, 3, 4, 5, 6, 700_000 + n, tzinfo=value.tzinfo)
    if isinstance(value, str):
        return f"\x00values_rows stand-in {n}"
    raise TypeError(f"values_rows(): no stand-in for a {type(value).__name__}; put it in the key")


def _compiled(build: Callable[..., QuerySet], values: dict[str, Any]) -> _Compiled:
    if not values:
        return _Compiled(*_compile(build()), slots={})
    stand_ins = {name: _stand_in(value, n) for n, (name, value) in enumerate(values.items())}
    compiler, sql, params = _compile(build(**stand_ins))
    slots = {
        name: [i for i, param in enumerate(params) if type(param) is type(stand_in) and param == stand_in]
        for name, stand_in in stand_ins.items()
    }
    return _Compiled(compiler, sql, params, slots if sql is not None and all(slots.values()) else None)


def values_rows(key: Hashable, build: Callable[..., QuerySet], **values: Any) -> list[tuple[Any, ...]]:
    """The rows of ``build(**values)`` (a ``values_list()`` queryset) as
    tuples, as ``list(build(**values))`` gives them, compiling it only the
    first time ``key`` is seen in this thread."""
    memo = _memo()
    if values:  # a value of another type would need other stand-ins
        key = (key, *((name, type(value)) for name, value in values.items()))
    hit = memo.get(key)
    if hit is not None and hit.compiler.connection is _connection_of(hit.compiler):
        memo.move_to_end(key)
    else:
        hit = memo[key] = _compiled(build, values)
        if len(memo) > SIZE:
            memo.popitem(last=False)
    if hit.slots is None:
        return list(build(**values))
    compiler, sql, params = hit.compiler, hit.sql, hit.params
    if sql is None:
        return []
    if hit.slots:
        params = list(params)
        for name, places in hit.slots.items():
            for i in places:
                params[i] = values[name]
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
