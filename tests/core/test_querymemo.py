"""core.querymemo: a queryset compiled once per key gives what the ORM gives,
and the database still decides the rows on every run (visibility included)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core import querymemo
from core.querymemo import values_rows
from feeds.models import Entry, Subscription
from tests.factories import EntryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_memo():
    querymemo.clear()
    yield
    querymemo.clear()


class Builder:
    """A builder that counts how often it is asked to build."""

    def __init__(self, make):
        self.make, self.calls = make, 0

    def __call__(self, **values):
        self.calls += 1
        return self.make(**values)


def visible_titles(feed_id=0):
    """The visible entries of one feed (the test database holds the demo's too)."""
    return Entry.objects.shared().filter(feed_id=feed_id).order_by("title").values_list("title", "published_at")


def test_rows_equal_the_orms_own_and_the_query_is_built_once():
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="B", published_at=moment)
    EntryFactory(feed=sub.feed, title="A", published_at=moment)
    build = Builder(lambda: visible_titles(sub.feed_id))

    first = values_rows("titles", build)
    with CaptureQueriesContext(connection) as queries:
        second = values_rows("titles", build)

    assert first == second == list(visible_titles(sub.feed_id)) == [("A", moment), ("B", moment)]
    assert build.calls == 1
    assert len(queries.captured_queries) == 1  # the memo runs the query each time


def test_the_database_decides_visibility_on_every_run():
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="Shared for now")
    build = Builder(lambda: visible_titles(sub.feed_id))
    assert [title for title, _ in values_rows("titles", build)] == ["Shared for now"]

    Subscription.objects.filter(pk=sub.pk).update(is_shared=False)  # no signal, no cache to drop

    assert values_rows("titles", build) == []
    assert build.calls == 1


def test_a_new_key_builds_again_and_an_empty_in_list_runs_no_query():
    build = Builder(lambda: Entry.objects.filter(pk__in=[]).values_list("pk"))

    with CaptureQueriesContext(connection) as queries:
        assert values_rows("none", build) == []
        assert values_rows("none", build) == []
    assert (build.calls, len(queries.captured_queries)) == (1, 0)

    assert values_rows("none again", build) == []
    assert build.calls == 2


def test_a_settings_change_starts_afresh():
    build = Builder(visible_titles)
    values_rows("titles", build)

    with override_settings(READER_UNREAD_DAYS=3):
        values_rows("titles", build)

    assert build.calls == 2


def test_only_the_most_recent_keys_are_kept(monkeypatch):
    monkeypatch.setattr(querymemo, "SIZE", 2)
    build = Builder(visible_titles)
    for key in ("a", "b", "a", "c"):  # "a" used again, so "b" is the oldest when "c" comes
        values_rows(key, build)
    assert build.calls == 3

    values_rows("a", build)
    assert build.calls == 3
    values_rows("b", build)
    assert build.calls == 4


def test_only_values_list_querysets_are_taken():
    with pytest.raises(TypeError, match="values_list"):
        values_rows("models", lambda: Entry.objects.all())
    with pytest.raises(TypeError, match="values_list"):
        values_rows("flat", lambda: Entry.objects.values_list("pk", flat=True))


def after(feed_id):
    """A builder with named values: the feed's visible entries after a moment."""

    def build(published_at, pk):
        return (
            Entry.objects.shared()
            .filter(feed_id=feed_id, published_at__gte=published_at)
            .exclude(published_at=published_at, id__lte=pk)
            .order_by("published_at", "id")
            .values_list("title")
        )

    return build


def test_named_values_go_in_their_places_and_the_query_is_built_once():
    sub = SubscriptionFactory(is_shared=True)
    moments = [datetime(2024, 5, day, 12, tzinfo=UTC) for day in (1, 2, 3)]
    first, second, third = (EntryFactory(feed=sub.feed, title=f"Day {m.day}", published_at=m) for m in moments)
    build = Builder(after(sub.feed_id))

    answers = [
        values_rows("after", build, published_at=entry.published_at, pk=entry.pk) for entry in (first, second, third)
    ]

    assert answers == [[("Day 2",), ("Day 3",)], [("Day 3",)], []]
    assert answers[0] == list(after(sub.feed_id)(first.published_at, first.pk))
    assert build.calls == 1


def test_a_value_the_orm_changes_on_its_way_is_built_afresh_each_time():
    """A title compared with an int goes to the database as text: the int
    stand-in is not found among the parameters, so that key is built with the
    real value on every call (correct, as without a memo), while the same
    builder with text values is compiled once."""
    sub = SubscriptionFactory(is_shared=True)
    five = EntryFactory(feed=sub.feed, title="5")
    build = Builder(lambda value: Entry.objects.filter(feed_id=sub.feed_id, title=value).values_list("pk"))

    assert values_rows("by title", build, value="x") == []
    assert values_rows("by title", build, value="5") == [(five.pk,)]
    assert build.calls == 1
    assert values_rows("by title", build, value=5) == [(five.pk,)]
    assert values_rows("by title", build, value=6) == []
    assert build.calls == 1 + 3  # the int stand-in's build, then one for each call


def test_a_bool_value_is_refused_it_would_change_the_shape():
    with pytest.raises(TypeError, match="bool"):
        values_rows("flag", lambda on: Entry.objects.values_list("pk"), on=True)


# --- Prepared on the server (PostgreSQL) -------------------------------------------


@pytest.fixture
def prepared(settings):
    """Preparing on, and this connection holding no statement yet."""
    settings.DATABASE_PREPARED_STATEMENTS = True
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    querymemo._local.prepared = None


def prepared_statements() -> dict[str, str]:
    """This connection's prepared statements: name -> SQL text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'plnorg_memo_%%'")
        return dict(cursor.fetchall())


def test_a_kept_query_is_prepared_once_then_executed_with_its_values(prepared):
    sub = SubscriptionFactory(is_shared=True)
    moments = [datetime(2024, 5, day, 12, tzinfo=UTC) for day in (1, 2, 3)]
    first, second, _third = (EntryFactory(feed=sub.feed, title=f"Day {m.day}", published_at=m) for m in moments)
    build = Builder(after(sub.feed_id))
    before = set(prepared_statements())

    with CaptureQueriesContext(connection) as queries:
        one = values_rows("after", build, published_at=first.published_at, pk=first.pk)
        two = values_rows("after", build, published_at=second.published_at, pk=second.pk)
    added = {name: text for name, text in prepared_statements().items() if name not in before}

    assert (one, two) == ([("Day 2",), ("Day 3",)], [("Day 3",)])
    assert one == list(after(sub.feed_id)(first.published_at, first.pk))
    statements = [query["sql"] for query in queries.captured_queries]
    [name] = added
    # Preparing is set-up, out of Django's query log: one query a call, as before.
    assert [sql.split("(")[0] for sql in statements] == [f"EXECUTE {name}", f"EXECUTE {name}"]
    assert f"{sub.feed_id}" in statements[0] and "$1" in added[name] and '"feeds_entry"' in added[name]


def test_prepared_rows_follow_the_data_and_visibility_on_every_run(prepared):
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="Shared for now")
    build = Builder(lambda: visible_titles(sub.feed_id))
    assert [title for title, _ in values_rows("titles", build)] == ["Shared for now"]
    EntryFactory(feed=sub.feed, title="Also shared")
    assert [title for title, _ in values_rows("titles", build)] == ["Also shared", "Shared for now"]

    Subscription.objects.filter(pk=sub.pk).update(is_shared=False)

    assert values_rows("titles", build) == []
    assert build.calls == 1


def test_a_new_server_connection_prepares_again(prepared):
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="Kept")
    build = Builder(lambda: visible_titles(sub.feed_id))
    values_rows("titles", build)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a new server session looks like
    querymemo._local.prepared = None  # as when Django opens a new connection

    assert [title for title, _ in values_rows("titles", build)] == ["Kept"]
    assert len(prepared_statements()) == 1


def test_a_statement_the_server_refuses_runs_as_plain_sql_inside_a_transaction(prepared):
    """``id + '1'``: as plain SQL the server reads the quoted 1 as a number;
    prepared, the value is declared text and bigint + text does not exist.
    The refused PREPARE is rolled back to its savepoint, the test's
    transaction goes on, and the query runs as plain SQL every time (the
    PREPARE itself is set-up, outside Django's query log)."""
    from django.db.models.expressions import RawSQL

    sub = SubscriptionFactory(is_shared=True)
    entry = EntryFactory(feed=sub.feed, title="Counted")
    build = Builder(
        lambda: (
            Entry.objects.filter(feed_id=sub.feed_id).annotate(next_id=RawSQL("id + %s", ["1"])).values_list("next_id")
        )
    )

    with CaptureQueriesContext(connection) as queries:
        assert values_rows("plus one", build) == [(entry.pk + 1,)]
        assert values_rows("plus one", build) == [(entry.pk + 1,)]
    assert Entry.objects.filter(feed_id=sub.feed_id).count() == 1  # the transaction goes on
    assert prepared_statements() == {}
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT", "SELECT"]


def test_only_the_most_recent_statements_stay_prepared(prepared, monkeypatch):
    monkeypatch.setattr(querymemo, "PREPARED_SIZE", 2)
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="One")
    builders = [
        Builder(lambda: Entry.objects.filter(feed_id=sub.feed_id).values_list("title")),
        Builder(lambda: Entry.objects.filter(feed_id=sub.feed_id).values_list("pk")),
        Builder(lambda: Entry.objects.filter(feed_id=sub.feed_id).values_list("title", "pk")),
    ]

    for n, build in enumerate(builders):
        values_rows(f"statement {n}", build)

    texts = prepared_statements().values()
    assert len(texts) == 2
    assert not [text for text in texts if text.startswith("PREPARE") and 'SELECT "feeds_entry"."title" FROM' in text]


def test_turned_off_the_query_runs_as_plain_sql(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="Plain")
    build = Builder(lambda: visible_titles(sub.feed_id))

    with CaptureQueriesContext(connection) as queries:
        values_rows("titles", build)
        values_rows("titles", build)

    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT", "SELECT"]


@pytest.mark.django_db(transaction=True)
def test_statements_the_server_forgot_are_run_plainly_then_prepared_again(settings):
    """Outside a transaction, a session whose statements were dropped
    (DISCARD ALL, as a pooler's reset does) still answers, then prepares anew."""
    settings.DATABASE_PREPARED_STATEMENTS = True
    querymemo._local.prepared = None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="Still here")
    build = Builder(lambda: visible_titles(sub.feed_id))
    values_rows("titles", build)
    assert len(prepared_statements()) == 1
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")

    assert [title for title, _ in values_rows("titles", build)] == ["Still here"]
    assert prepared_statements() == {}
    assert [title for title, _ in values_rows("titles", build)] == ["Still here"]
    assert len(prepared_statements()) == 1


def test_a_literal_percent_in_the_sql_survives_preparing(prepared):
    """Django writes a literal % in SQL as %% (psycopg2's escape); the
    prepared text must hold one %, and each %s its own $n, in order."""
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    sub = SubscriptionFactory(is_shared=True)
    EntryFactory(feed=sub.feed, title="100% done")
    EntryFactory(feed=sub.feed, title="half done")
    build = Builder(
        lambda: (
            Entry.objects.filter(feed_id=sub.feed_id)
            .annotate(tag=RawSQL("%s || '%%'", ["x"]))
            .filter(RawSQL("title LIKE '100%%' || %s", [" done"], output_field=BooleanField()))
            .values_list("title", "tag")
        )
    )

    assert values_rows("percent", build) == [("100% done", "x%")] == values_rows("percent", build)
    [text] = prepared_statements().values()
    assert "($1 || '%')" in text and '"feed_id" = $2' in text and "LIKE '100%' || $3" in text
