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
