"""Read state on the site: the stream's badges and "Unread only", toggles
with and without JavaScript, "mark all as read", entry pages, home."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feeds.demo import CONSENT_CANARY
from feeds.models import Entry, SavedEntry
from feeds.reader.models import ReadMark, ReadMarker
from feeds.reader.services.read_state import read_bound_now, read_state_get, unread_count
from feeds.stream import StreamFilters, filtered_entries
from members.models import Member
from tests.factories import EntryFactory
from tests.pages import parse_page, text_of
from tests.reader.conftest import signed_in

pytestmark = pytest.mark.django_db


def articles(response) -> list[tuple[str, str]]:
    """(title, data-unread) of each entry on a stream page, in order."""
    body = response.content.decode()
    found = re.findall(r'<article class="entry[^"]*" id="entry-(\d+)" data-entry="\d+" data-unread="([01])"', body)
    titles = dict(Entry.objects.filter(pk__in=[int(pk) for pk, _u in found]).values_list("pk", "title"))
    return [(titles[int(pk)], unread) for pk, unread in found]


def stream(client, **params):
    response = client.get(reverse("feeds:stream"), params)
    assert response.status_code == 200
    return response


def test_the_stream_marks_unread_entries_with_a_word_not_only_a_colour(world):
    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot3"].pk}), {"read": "1"})

    response = stream(client)

    assert articles(response) == [
        ("Hello from the meetup", "1"),
        ("A chart I like", "0"),
        ("On-call without tears", "1"),
        ("Data meetup notes", "1"),
        ("Error budgets", "1"),
        ("An old post", "0"),
    ]
    body = response.content.decode()
    first = body[body.index(f'id="entry-{world["toot1"].pk}"') : body.index(f'id="entry-{world["toot3"].pk}"')]
    assert '<p class="entry-meta"><span class="badge badge-unread">Unread</span> <span class="entry-source">' in first
    assert body.count('class="badge badge-unread"') == 4
    assert f'<article class="entry is-unread" id="entry-{world["toot1"].pk}"' in body
    assert f'<article class="entry" id="entry-{world["toot3"].pk}"' in body


def test_unread_only_lists_exactly_the_unread_count(world):
    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["post1"].pk}), {"read": "1"})
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["old"].pk}), {"read": "0"})

    response = stream(client, unread="1")

    titles = [title for title, _unread in articles(response)]
    assert titles == ["Hello from the meetup", "A chart I like", "Data meetup notes", "Error budgets", "An old post"]
    assert {unread for _title, unread in articles(response)} == {"1"}
    state = read_state_get(member=world["dora"])
    assert unread_count(filtered_entries(StreamFilters()), state=state) == len(titles)
    assert 'id="f-unread" value="1" checked' in response.content.decode()


def test_unread_only_combines_with_filters_and_pages(world):
    for i in range(60):
        EntryFactory(
            feed=world["account"], title=f"Bulk {i:02d}", published_at=world["now"] - timedelta(hours=6, minutes=i)
        )
    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot1"].pk}), {"read": "1"})

    first = stream(client, unread="1", kind="account")
    older = parse_page(first).links
    next_url = next(link for link in older if "cursor=" in link).replace("&amp;", "&")
    second = client.get(reverse("feeds:stream") + next_url)

    seen = [t for t, _u in articles(first)] + [t for t, _u in articles(second)]
    assert len(seen) == 62  # 2 toots + 60 bulk, toot1 read
    assert "Hello from the meetup" not in seen
    assert "unread=1" in next_url and "kind=account" in next_url
    assert (
        unread_count(filtered_entries(StreamFilters(kind="account")), state=read_state_get(member=world["dora"])) == 62
    )


def test_nothing_unread_says_so(world):
    client = signed_in(world["dora"])
    client.post(
        reverse("reader:mark_all_read"), {"newest": read_bound_now().newest_id, "next": reverse("feeds:stream")}
    )

    response = stream(client, unread="1")

    assert "Nothing unread here: you are up to date. Show read entries too" in text_of(response)
    assert 'href="/stream/">Show read entries too' in response.content.decode()


def test_toggles_without_javascript_redirect_back_to_the_entry(world):
    client = signed_in(world["dora"])
    here = reverse("feeds:stream") + "?kind=account"
    page = stream(client, kind="account")
    form = next(f for f in parse_page(page).forms if f["action"] == f"/entries/{world['toot1'].pk}/read/")

    response = client.post(form["action"], form["fields"], follow=False)

    assert form["fields"]["read"] == "1"
    assert form["fields"]["next"] == f"{here}#entry-{world['toot1'].pk}"
    assert response.status_code == 302
    assert response["Location"] == f"{here}#entry-{world['toot1'].pk}"
    assert "Marked as read." in text_of(client.get(response["Location"]))
    assert ReadMark.objects.filter(member=world["dora"], entry=world["toot1"], is_read=True).exists()


def test_toggles_answer_json_to_the_shortcuts(world):
    client = signed_in(world["dora"])
    url = reverse("reader:entry_read", kwargs={"entry_id": world["toot2"].pk})
    star = reverse("reader:entry_star", kwargs={"entry_id": world["toot2"].pk})

    read = client.post(url, {"read": "1"}, headers={"X-Reader-Fetch": "1"})
    starred = client.post(star, {"starred": "1"}, headers={"X-Reader-Fetch": "1"})
    bad = client.post(url, {"read": "maybe"}, headers={"X-Reader-Fetch": "1"})

    assert (read.status_code, read.json()) == (200, {"entry": world["toot2"].pk, "read": True})
    assert (starred.status_code, starred.json()) == (200, {"entry": world["toot2"].pk, "starred": True})
    assert (bad.status_code, bad.json()) == (400, {"error": "Say whether to mark it read or unread."})
    assert SavedEntry.objects.filter(member=world["dora"], entry=world["toot2"]).exists()
    # No flash message waits for the next page.
    assert "Saved for later." not in text_of(stream(client))


def test_saved_entries_show_as_saved_in_the_stream(world):
    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_star", kwargs={"entry_id": world["toot3"].pk}), {"starred": "1"})

    response = stream(client)

    forms = {f["action"]: f["fields"] for f in parse_page(response).forms}
    assert forms[f"/entries/{world['toot3'].pk}/star/"]["starred"] == "0"  # posting removes it
    assert forms[f"/entries/{world['toot1'].pk}/star/"]["starred"] == "1"
    assert "Saved — remove : A chart I like" in text_of(response)


def test_an_entry_nobody_shares_cannot_be_marked(world):
    client = signed_in(world["dora"])
    private = EntryFactory(title=f"Private {CONSENT_CANARY}")

    response = client.post(reverse("reader:entry_read", kwargs={"entry_id": private.pk}), {"read": "1"})
    star = client.post(reverse("reader:entry_star", kwargs={"entry_id": private.pk}), {"starred": "1"})

    assert (response.status_code, star.status_code) == (404, 404)
    assert not ReadMark.objects.filter(entry=private).exists()
    assert not SavedEntry.objects.filter(entry=private).exists()


def test_mark_all_read_marks_the_view_up_to_the_page_and_no_further(world):
    client = signed_in(world["dora"])
    page = stream(client, team=world["support"].pk)
    form = next(f for f in parse_page(page).forms if f["action"] == reverse("reader:mark_all_read"))
    arrived = EntryFactory(feed=world["account"], title="Arrived meanwhile", published_at=world["now"])

    response = client.post(form["action"], form["fields"])
    landing = text_of(client.get(response["Location"]))

    assert "Marked as read. Entries that arrive from now on are new." in landing
    assert form["fields"]["team"] == str(world["support"].pk)
    assert "unread" not in form["fields"] and "cursor" not in form["fields"]
    assert response["Location"] == f"/stream/?team={world['support'].pk}"
    # Support's view is the blog (Chen shares it): its posts are read, the
    # toots and what arrived after the page was drawn are not.
    unread = [t for t, _u in articles(stream(client, unread="1"))]
    assert unread == ["Arrived meanwhile", "Hello from the meetup", "A chart I like", "Data meetup notes"]
    assert arrived.pk > int(form["fields"]["newest"])


def test_mark_all_read_of_the_whole_stream_moves_the_marker(world):
    client = signed_in(world["dora"])
    form = next(f for f in parse_page(stream(client)).forms if f["action"] == reverse("reader:mark_all_read"))

    client.post(form["action"], form["fields"])

    assert ReadMarker.objects.get(member=world["dora"]).read_through_id == int(form["fields"]["newest"])
    assert ReadMark.objects.filter(member=world["dora"]).count() == 0
    assert articles(stream(client, unread="1")) == []


def test_mark_all_read_with_a_filter_no_longer_valid_marks_nothing(world):
    client = signed_in(world["dora"])

    response = client.post(reverse("reader:mark_all_read"), {"newest": read_bound_now().newest_id, "team": "999999"})
    broken = client.post(reverse("reader:mark_all_read"), {"newest": "lots"})

    assert response.status_code == broken.status_code == 302
    assert "Nothing was marked: this view's filters are no longer valid." in text_of(client.get(response["Location"]))
    assert not ReadMark.objects.filter(member=world["dora"]).exists()
    assert ReadMarker.objects.filter(member=world["dora"], read_through_id__gt=0).count() == 0


def test_opening_an_entry_marks_it_read_and_offers_unread_and_neighbours(world):
    client = signed_in(world["dora"])

    response = client.get(reverse("feeds:entry", kwargs={"entry_id": world["post1"].pk}))

    assert ReadMark.objects.filter(member=world["dora"], entry=world["post1"], is_read=True).exists()
    page = parse_page(response)
    [toggle] = [f for f in page.forms if f["action"] == f"/entries/{world['post1'].pk}/read/"]
    assert toggle["fields"]["read"] == "0"
    assert toggle["fields"]["next"] == f"/stream/#entry-{world['post1'].pk}"
    assert f"/entries/{world['toot3'].pk}/" in page.nav_links  # newer
    assert f"/entries/{world['toot2'].pk}/" in page.nav_links  # older
    assert "Mark as unread" in text_of(response) and "Keyboard shortcuts" in text_of(response)


def test_each_entry_page_in_turn_links_its_own_neighbours(world):
    """The neighbours' query is compiled once (core.querymemo) and run with
    each entry's date and id: j and k walk the stream one entry at a time."""
    client = signed_in(world["dora"])
    order = ["toot1", "toot3", "post1", "toot2", "post2"]  # newest first, as the stream lists them

    def neighbours(name):
        links = parse_page(client.get(reverse("feeds:entry", kwargs={"entry_id": world[name].pk}))).nav_links
        return [other for other in order if f"/entries/{world[other].pk}/" in links]

    assert [neighbours(name) for name in order] == [
        ["toot3"],
        ["toot1", "post1"],
        ["toot3", "toot2"],
        ["post1", "post2"],
        ["toot2"],
    ]


def test_the_stream_runs_the_same_queries_for_one_entry_and_many(world):
    Entry.objects.exclude(pk=world["toot1"].pk).delete()
    client = signed_in(world["dora"])

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            stream(client, **params)
        return len(captured.captured_queries)

    stream(client)  # the first request also fills the cached filter choices
    one, one_unread = queries(), queries(unread="1")
    for i in range(60):
        entry = EntryFactory(feed=world["blog"], title=f"Many {i}", published_at=world["now"] - timedelta(minutes=i))
        if i % 3 == 0:
            client.post(reverse("reader:entry_read", kwargs={"entry_id": entry.pk}), {"read": "1"})
    many, many_unread = queries(), queries(unread="1")

    assert one == many
    assert one_unread == many_unread


@pytest.mark.parametrize("quiet", [False, True], ids=["quiet-off", "quiet-on"])
def test_home_shows_the_unread_count_unless_quiet(world, quiet):
    Member.objects.filter(pk=world["dora"].pk).update(quiet_mode=quiet)
    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot1"].pk}), {"read": "1"})

    response = client.get(reverse("home"))

    text = text_of(response)
    if quiet:
        assert "unread" not in text.lower()
    else:
        assert "The stream 4 unread entries Entries older than 30 days count as read." in text
        assert 'href="/stream/?unread=1">4 unread entries</a>' in response.content.decode()


def test_home_counts_unread_entries_up_to_its_limit_then_says_more_than(world, monkeypatch):
    from feeds.reader.templatetags import reader

    client = signed_in(world["dora"])
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot1"].pk}), {"read": "1"})
    monkeypatch.setattr(reader, "HOME_UNREAD_LIMIT", 4)
    at_limit = client.get(reverse("home"))
    monkeypatch.setattr(reader, "HOME_UNREAD_LIMIT", 3)
    past_limit = client.get(reverse("home"))

    assert 'href="/stream/?unread=1">4 unread entries</a>' in at_limit.content.decode()
    assert "The stream More than 3 unread entries Entries older than 30 days count as read." in text_of(past_limit)
    assert 'href="/stream/?unread=1">More than 3 unread entries</a>' in past_limit.content.decode()
    state = read_state_get(member=world["dora"])
    assert unread_count(filtered_entries(StreamFilters()), state=state, limit=3) == 4
    assert unread_count(filtered_entries(StreamFilters()), state=state, limit=10) == 4


def test_home_says_up_to_date_when_nothing_is_unread(world):
    client = signed_in(world["dora"])
    client.post(reverse("reader:mark_all_read"), {"newest": read_bound_now().newest_id})

    assert "Nothing unread: you are up to date. Browse the stream" in text_of(client.get(reverse("home")))
