"""Read state (feeds/reader/services/read_state.py): the rule, exceptions,
"mark all as read" with its bound, compaction, and what is stored."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds.models import Entry, SavedEntry
from feeds.reader.models import ReadMark, ReadMarker
from feeds.reader.services import read_state
from feeds.reader.services.read_state import (
    ReadBound,
    ReadStateRefused,
    entries_mark,
    entries_mark_all_read,
    entries_read,
    entries_unread,
    entry_open,
    read_bound_at,
    read_bound_now,
    read_state_compact,
    read_state_get,
    unread_among,
    unread_by_feed,
    unread_count,
)
from feeds.stream import StreamFilters, filtered_entries
from tests.factories import EntryFactory

pytestmark = pytest.mark.django_db

STREAM = StreamFilters()


def unread_titles(member, filters=STREAM) -> list[str]:
    state = read_state_get(member=member)
    entries = entries_unread(filtered_entries(filters), state=state).order_by("-published_at", "-id")
    return list(entries.values_list("title", flat=True))


def marks(member) -> dict[str, bool]:
    return dict(ReadMark.objects.filter(member=member).values_list("entry__title", "is_read"))


def mark(member, *entries, read=True):
    return entries_mark(member=member, entries=filtered_entries(STREAM), entry_ids=[e.pk for e in entries], read=read)


def test_a_new_member_has_the_window_unread_and_older_entries_read(world):
    dora = world["dora"]

    assert unread_titles(dora) == [
        "Hello from the meetup",
        "A chart I like",
        "On-call without tears",
        "Data meetup notes",
        "Error budgets",
    ]
    assert unread_count(filtered_entries(STREAM), state=read_state_get(member=dora)) == 5
    assert list(
        entries_read(filtered_entries(STREAM), state=read_state_get(member=dora)).values_list("title", flat=True)
    ) == ["An old post"]
    assert not ReadMarker.objects.filter(member=dora).exists()


def test_marking_one_read_writes_one_exception_and_unread_removes_it(world):
    dora = world["dora"]

    mark(dora, world["toot3"])
    after_read = unread_titles(dora)
    stored = marks(dora)
    mark(dora, world["toot3"], read=False)

    assert "A chart I like" not in after_read and len(after_read) == 4
    assert stored == {"A chart I like": True}
    # Kept unread: an exception that wins even after the entry leaves the window.
    assert marks(dora) == {"A chart I like": False}
    assert "A chart I like" in unread_titles(dora)


def test_reading_what_the_rule_already_calls_read_stores_nothing(world):
    dora = world["dora"]

    mark(dora, world["old"])

    assert marks(dora) == {}
    assert "An old post" not in unread_titles(dora)


def test_keeping_an_old_entry_unread_brings_it_back_and_reading_it_drops_the_exception(world):
    dora = world["dora"]

    mark(dora, world["old"], read=False)
    kept = unread_titles(dora)
    mark(dora, world["old"])

    assert kept[-1] == "An old post" and len(kept) == 6
    assert marks(dora) == {}
    assert "An old post" not in unread_titles(dora)


def test_entries_nobody_can_see_are_never_marked(world):
    dora = world["dora"]
    private = EntryFactory(title="Not shared", feed__title="Private feed")

    marked = mark(dora, private, world["toot1"])

    assert marked == [world["toot1"].pk]
    assert marks(dora) == {"Hello from the meetup": True}


def test_mark_all_read_moves_the_marker_and_later_entries_stay_unread(world):
    dora = world["dora"]
    mark(dora, world["toot3"])
    mark(dora, world["old"], read=False)
    bound = read_bound_now()
    later = EntryFactory(feed=world["account"], title="Arrived meanwhile", published_at=world["now"])

    entries_mark_all_read(member=dora, entries=None, bound=bound)

    assert ReadMarker.objects.get(member=dora).read_through_id >= bound.newest_id
    assert ReadMarker.objects.get(member=dora).read_through_id < later.pk
    assert marks(dora) == {}
    assert unread_titles(dora) == ["Arrived meanwhile"]


def test_mark_all_read_of_a_filtered_view_marks_only_that_view(world):
    dora = world["dora"]
    team = StreamFilters(team=world["support"].pk)

    entries_mark_all_read(member=dora, entries=filtered_entries(team), bound=read_bound_now())

    assert unread_titles(dora, team) == []
    assert unread_titles(dora) == ["Hello from the meetup", "A chart I like", "Data meetup notes"]
    # The two blog posts below the oldest unread entry became part of the
    # marker (compaction); the one above it is an exception.
    marker = ReadMarker.objects.get(member=dora).read_through_id
    assert marker == world["toot2"].pk - 1
    assert marks(dora) == {"On-call without tears": True}


def test_filtered_mark_all_read_respects_the_bound(world):
    dora = world["dora"]
    bound = read_bound_now()
    later = EntryFactory(feed=world["blog"], title="Later post", published_at=world["now"])

    entries_mark_all_read(member=dora, entries=filtered_entries(StreamFilters(kind="source")), bound=bound)

    assert later.pk > bound.newest_id
    assert unread_titles(dora, StreamFilters(kind="source")) == ["Later post"]


def test_a_bound_by_arrival_time_keeps_late_arrivals_unread(world):
    dora = world["dora"]
    now = world["now"]
    Entry.objects.filter(pk=world["toot1"].pk).update(first_seen_at=now + timedelta(minutes=5))
    Entry.objects.exclude(pk=world["toot1"].pk).update(first_seen_at=now - timedelta(minutes=5))

    bound = read_bound_at(now)
    entries_mark_all_read(member=dora, entries=None, bound=bound)

    # toot1 has the highest id but arrived after the bound: a fetch that
    # finished late. The bound is by arrival, so it stays unread.
    assert bound == ReadBound(newest_id=world["toot3"].pk, arrived_by=now)
    assert unread_titles(dora) == ["Hello from the meetup"]


def test_compaction_changes_no_answer_and_keeps_few_rows(world):
    dora = world["dora"]
    rng = random.Random(19)
    extra = [
        EntryFactory(feed=world["blog"], title=f"Extra {i}", published_at=world["now"] - timedelta(hours=6 + i))
        for i in range(30)
    ]
    everything = list(filtered_entries(STREAM))
    for entry in rng.sample(everything, 25):
        mark(dora, entry, read=rng.random() < 0.8)
    before = set(
        entries_unread(filtered_entries(STREAM), state=read_state_get(member=dora)).values_list("pk", flat=True)
    )
    rows_before = ReadMark.objects.filter(member=dora).count()

    read_state_compact(member=dora)

    after = set(
        entries_unread(filtered_entries(STREAM), state=read_state_get(member=dora)).values_list("pk", flat=True)
    )
    assert after == before
    assert ReadMark.objects.filter(member=dora).count() <= rows_before
    assert len(extra) == 30


def test_counts_per_feed_and_in_total_equal_the_unread_listing(world):
    dora = world["dora"]
    mark(dora, world["post1"])
    state = read_state_get(member=dora)

    by_feed = unread_by_feed(filtered_entries(STREAM), state=state)

    assert {feed_id: row.count for feed_id, row in by_feed.items()} == {world["account"].pk: 3, world["blog"].pk: 1}
    assert by_feed[world["account"].pk].newest_seen_at == world["toot1"].first_seen_at
    assert sum(row.count for row in by_feed.values()) == len(unread_titles(dora)) == 4


# What Dora has unread once toot1 is marked read and the old post kept unread.
UNREAD_AFTER_TOOT1_READ_AND_OLD_KEPT = {
    "A chart I like",
    "On-call without tears",
    "Data meetup notes",
    "Error budgets",
    "An old post",
}


def test_unread_among_answers_for_fetched_entries_in_one_query(world, django_assert_num_queries):
    dora = world["dora"]
    mark(dora, world["toot1"])
    mark(dora, world["old"], read=False)
    state = read_state_get(member=dora)
    page = list(filtered_entries(STREAM).order_by("-published_at"))

    with django_assert_num_queries(1):
        unread = unread_among(state=state, entries=page)

    assert {e.title for e in page if e.pk in unread} == UNREAD_AFTER_TOOT1_READ_AND_OLD_KEPT


def test_page_reading_answers_marks_saves_marker_and_newest_in_one_query(world, django_assert_num_queries):
    dora, ben = world["dora"], world["ben"]
    mark(dora, world["toot1"])
    mark(dora, world["old"], read=False)
    SavedEntry.objects.create(member=dora, entry=world["toot1"])  # saved and read
    SavedEntry.objects.create(member=dora, entry=world["old"])  # saved and kept unread
    SavedEntry.objects.create(member=ben, entry=world["toot2"])  # someone else's
    ReadMarker.objects.update_or_create(member=dora, defaults={"read_through_id": world["toot2"].pk})
    state = read_state_get(member=dora)
    page = list(filtered_entries(STREAM).order_by("-published_at"))

    with django_assert_num_queries(1):
        reading = read_state.page_reading(member_id=dora.pk, entries=page)

    assert reading.state.read_through_id == world["toot2"].pk
    assert reading.unread == unread_among(state=state, entries=page)
    assert reading.saved == {world["toot1"].pk, world["old"].pk}
    assert reading.newest_id == Entry.objects.latest("pk").pk
    # With the state already read (the "Unread only" page), the same answers.
    given = read_state.page_reading(member_id=dora.pk, entries=page, state=state)
    assert (given.state, given.unread, given.saved) == (state, reading.unread, reading.saved)


def test_page_reading_of_an_empty_page_still_gives_the_marker_and_newest(world):
    dora = world["dora"]
    ReadMarker.objects.update_or_create(member=dora, defaults={"read_through_id": 7})

    reading = read_state.page_reading(member_id=dora.pk, entries=[])

    assert (reading.state.read_through_id, reading.unread, reading.saved) == (7, set(), set())
    assert reading.newest_id == Entry.objects.latest("pk").pk


def test_page_reading_of_a_member_without_a_marker_counts_from_zero(world):
    reading = read_state.page_reading(member_id=world["ben"].pk, entries=[])

    assert (reading.state.read_through_id, reading.state.kept_unread) == (0, {})


def test_opening_an_entry_marks_it_read(world):
    dora = world["dora"]

    entry_open(member=dora, entry=world["toot2"])
    entry_open(member=dora, entry=world["old"])  # already read by the rule: nothing stored

    assert marks(dora) == {"Data meetup notes": True}


def test_opening_an_unread_entry_is_one_read_and_one_write(world):
    dora = world["dora"]

    with CaptureQueriesContext(connection) as queries:
        entry_open(member=dora, entry=world["toot1"])

    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT", "INSERT"]
    assert marks(dora) == {"Hello from the meetup": True}


def test_opening_an_entry_kept_unread_below_the_marker_drops_its_exception(world):
    """The marker says read; the exception said unread. Opening it leaves the
    rule to say read, as marking it read one by one does."""
    dora = world["dora"]
    mark(dora, world["toot2"], read=False)
    ReadMarker.objects.update_or_create(member=dora, defaults={"read_through_id": world["toot1"].pk})

    entry_open(member=dora, entry=world["toot2"])

    assert marks(dora) == {}
    state = read_state_get(member=dora)
    assert unread_among(state=state, entries=[world["toot2"]]) == set()


def test_opening_a_read_entry_again_writes_nothing_and_an_unread_one_is_read_again(world):
    """The second opening keeps when it was first read (no write at all); an
    entry marked unread since is marked read by opening it."""
    dora = world["dora"]
    entry_open(member=dora, entry=world["toot2"])
    first = ReadMark.objects.get(member=dora, entry=world["toot2"]).marked_at

    with CaptureQueriesContext(connection) as queries:
        entry_open(member=dora, entry=world["toot2"])

    assert ReadMark.objects.get(member=dora, entry=world["toot2"]).marked_at == first
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE", "BEGIN"))]
    mark(dora, world["toot2"], read=False)
    entry_open(member=dora, entry=world["toot2"])
    assert marks(dora) == {"Data meetup notes": True}


def test_keeping_too_many_unread_is_refused_and_nothing_changes(world, monkeypatch):
    dora = world["dora"]
    many = [
        EntryFactory(feed=world["blog"], title=f"Old {i}", published_at=world["now"] - timedelta(days=50 + i))
        for i in range(3)
    ]
    monkeypatch.setattr(read_state, "KEPT_UNREAD_MAX", 2)

    with pytest.raises(ReadStateRefused) as refused:
        mark(dora, *many, read=False)

    assert refused.value.message == "At most 2 entries can be kept unread; mark some as read first."
    assert marks(dora) == {}


def test_the_window_follows_the_setting(world, settings):
    settings.READER_UNREAD_DAYS = 60

    assert unread_titles(world["dora"])[-1] == "An old post"


def test_the_nightly_task_compacts_every_member_with_read_exceptions(world):
    from feeds.reader.tasks import compact_read_state

    dora = world["dora"]
    mark(dora, world["old"], read=False)
    for key in ("post2", "toot2"):
        mark(dora, world[key])
    before = unread_titles(dora)
    with_exceptions = ReadMark.objects.filter(is_read=True).values("member_id").distinct().count()

    assert compact_read_state() == with_exceptions  # the demo employee's too

    # post2 and toot2 were the oldest entries in the window: the marker moved
    # past them, their exceptions are gone; the entry kept unread stays so.
    assert ReadMarker.objects.get(member=dora).read_through_id == world["post1"].pk - 1
    assert marks(dora) == {"An old post": False}
    assert unread_titles(dora) == before
