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

On PostgreSQL the SQL is also prepared on the server, once per connection
(``PREPARE``, then ``EXECUTE`` with the values): planning the stream's page
query cost PostgreSQL more than running it (1.2 ms against 0.6 ms at 100,000
entries). After five runs PostgreSQL may keep one generic plan for every
value, so a query whose best plan depends on a value's statistics (a full
text search: a common word walks the date index, a rare one uses the GIN
index) passes ``prepare=False``. ``settings.DATABASE_PREPARED_STATEMENTS``
turns preparing off (it is off behind PgBouncer in transaction mode, where
a connection changes hands between transactions). A statement the server
refuses to prepare (a value whose type it cannot tell) is run as plain SQL.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import DatabaseError, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.dispatch import receiver

SIZE = 128
PREPARED_SIZE = SIZE  # statements kept prepared on one connection

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


def values_rows(
    key: Hashable, build: Callable[..., QuerySet], *, prepare: bool = True, **values: Any
) -> list[tuple[Any, ...]]:
    """The rows of ``build(**values)`` (a ``values_list()`` queryset) as
    tuples, as ``list(build(**values))`` gives them, compiling it only the
    first time ``key`` is seen in this thread (and, unless ``prepare`` is
    False, preparing it on the server once per connection)."""
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
    connection = compiler.connection
    with connection.cursor() as cursor:
        name = _prepared_name(connection, sql, hit.params) if prepare else None
        if name is None:
            cursor.execute(sql, params)
        else:
            _execute_prepared(connection, cursor, name, sql, params)
        rows = cursor.fetchall()
    if compiler.has_extra_select:
        rows = [row[: compiler.col_count] for row in rows]
    return list(compiler.results_iter(results=[rows], tuple_expected=True))


def _connection_of(compiler: SQLCompiler):
    return connections[compiler.using]


# --- Server-side prepared statements (PostgreSQL) -------------------------------

_PLACEHOLDER = re.compile(r"%%|%s")
_UNPREPARABLE = ""  # a statement the server refused: run as plain SQL
_NO_SUCH_STATEMENT = "26000"  # SQLSTATE invalid_sql_statement_name


class _Prepared:
    """The statements prepared on one server connection: SQL and parameter
    types -> name (or _UNPREPARABLE), most recently used last."""

    def __init__(self, raw) -> None:
        self.raw = raw  # the DB-API connection they live on
        self.names: OrderedDict[tuple[str, tuple[str, ...]], str] = OrderedDict()
        self.counter = 0


def _pg_type(value: Any) -> str | None:
    """The type a parameter is declared with (None: it cannot be)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        # integer where it fits, so functions such as left(text, integer) match.
        return "integer" if -(2**31) <= value < 2**31 else "bigint"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "timestamp with time zone" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, UUID):
        return "uuid"
    return None


def _prepared_name(connection, sql: str, params: tuple) -> str | None:
    """The name of ``sql`` prepared on this connection (preparing it now if
    need be), or None to run it as plain SQL."""
    if connection.vendor != "postgresql" or not getattr(settings, "DATABASE_PREPARED_STATEMENTS", False):
        return None
    types = tuple(_pg_type(value) for value in params)
    if None in types or "%(" in sql:
        return None
    raw = connection.connection
    prepared = getattr(_local, "prepared", None)
    if prepared is None or prepared.raw is not raw:  # a new server session holds none
        prepared = _local.prepared = _Prepared(raw)
    statement = (sql, types)
    name = prepared.names.get(statement)
    if name is not None:
        prepared.names.move_to_end(statement)
        return name or None
    prepared.counter += 1
    name = f"plnorg_memo_{prepared.counter}"
    numbers = iter(range(1, len(params) + 1))
    text = _PLACEHOLDER.sub(lambda m: "%" if m.group(0) == "%%" else f"${next(numbers)}", sql)
    declared = f" ({', '.join(types)})" if types else ""
    if not _prepare(connection, f"PREPARE {name}{declared} AS {text}"):
        name = _UNPREPARABLE
    prepared.names[statement] = name
    if len(prepared.names) > PREPARED_SIZE:
        _statement, old = prepared.names.popitem(last=False)
        if old:
            _deallocate(connection, old)
    return name or None


def _execute_prepared(connection, cursor, name: str, sql: str, params) -> None:
    """EXECUTE ``name`` with ``params``. If the server has forgotten its
    statements (something ran DEALLOCATE ALL or DISCARD ALL on the session),
    outside a transaction the query runs as plain SQL and the next call
    prepares afresh; inside one the error stands (the transaction is lost)."""
    try:
        cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params)
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) != _NO_SUCH_STATEMENT or connection.in_atomic_block:
            raise
        _local.prepared = None
        cursor.execute(sql, params)


def _prepare(connection, statement: str) -> bool:
    """Run ``statement`` (a PREPARE) on the DB-API connection itself: it is
    set-up, not one of the page's queries, so Django's query log and counts
    (and the tests that read them) see only the EXECUTEs. False if the server
    refuses it; inside a transaction a savepoint keeps a refusal from
    aborting the transaction."""
    in_transaction = not connection.get_autocommit()
    with connection.connection.cursor() as raw:
        if in_transaction:
            raw.execute("SAVEPOINT plnorg_memo_prepare")
        try:
            raw.execute(statement)
        except connection.Database.Error:
            if in_transaction:
                raw.execute("ROLLBACK TO SAVEPOINT plnorg_memo_prepare")
                raw.execute("RELEASE SAVEPOINT plnorg_memo_prepare")
            return False
        if in_transaction:
            raw.execute("RELEASE SAVEPOINT plnorg_memo_prepare")
    return True


def _deallocate(connection, name: str) -> None:
    with connection.connection.cursor() as raw:
        raw.execute(f"DEALLOCATE {name}")


def clear() -> None:
    """Forget every compiled query, in every thread."""
    global _generation  # noqa: PLW0603 - one counter for the process
    _generation += 1


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    clear()
