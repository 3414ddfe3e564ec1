"""The shared stream: names, views, filters, keyset pages, consent, entry page."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feeds.models import Entry, Feed, Subscription
from feeds.stream import StreamFilters, cursor_decode, cursor_encode, stream_page
from members.models import Member
from tests.factories import EntryFactory, FeedFactory, MemberFactory, PickFactory, SubscriptionFactory, TeamFactory
from tests.pages import parse_page, text_of

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    """The demo's feeds hidden (so only this world shows), then two teams:
    Ana publishes a Mastodon account; Ben, Chen and three more share a blog."""
    Feed.objects.update(hidden_at=timezone.now())
    research, support = TeamFactory(name="Stream research"), TeamFactory(name="Stream support")
    ana = MemberFactory(display_name="Ana", team=research)
    ben = MemberFactory(display_name="Ben", team=research)
    chen = MemberFactory(display_name="Chen", team=support)
    others = [MemberFactory(display_name=f"Zed {i}", team=support) for i in range(3)]
    account = FeedFactory(title="Ana on Mastodon", platform="mastodon")
    blog = FeedFactory(title="Reliability Weekly", platform="blog")
    SubscriptionFactory(member=ana, feed=account, kind=Subscription.Kind.ACCOUNT, topics=["data"])
    for person in [ben, chen, *others]:
        SubscriptionFactory(member=person, feed=blog, kind=Subscription.Kind.SOURCE, topics=["reliability"])
    toot = EntryFactory(feed=account, title="Notes from the data meetup", published_at=NOW - timedelta(hours=1))
    post = EntryFactory(
        feed=blog,
        title="Error budgets in practice",
        summary="<p>Budgets <b>help</b> &amp; teams decide.</p>",
        published_at=NOW - timedelta(hours=2),
    )
    return {
        "ana": ana,
        "ben": ben,
        "chen": chen,
        "research": research,
        "support": support,
        "account": account,
        "blog": blog,
        "toot": toot,
        "post": post,
    }


def signed_in(client, member: Member):
    client.force_login(member.user)
    return client


def article_titles(response) -> list[str]:
    page = parse_page(response)
    stream_links = [link for link in page.links if link.startswith("/entries/") and link.count("/") == 3]
    return [Entry.objects.get(pk=int(link.split("/")[2])).title for link in stream_links]


def test_stream_shows_entries_newest_first_with_who_they_come_through(client, world):
    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"))

    text = text_of(response)
    assert article_titles(response) == ["Notes from the data meetup", "Error budgets in practice"]
    assert "Ana on Mastodon · Mastodon ·" in text
    assert "by Ana" in text
    assert "shared by Ben, Chen and 3 others" in text
    assert "Budgets help & teams decide." in text
    body = response.content.decode()
    assert body.count("<article") == 2
    assert f'href="{world["toot"].link}" rel="noopener noreferrer"' in body


def test_stream_names_three_people_without_others(client, world):
    Subscription.objects.filter(feed=world["blog"], member__display_name__startswith="Zed").update(is_shared=False)

    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"))

    assert "shared by Ben and Chen" in text_of(response)


def test_stream_times_in_the_members_time_zone(client, world):
    Member.objects.filter(pk=world["ben"].pk).update(time_zone="Asia/Tokyo")

    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"))

    # 11:00 UTC is 20:00 in Tokyo.
    assert 'datetime="2025-06-10T20:00:00+09:00"' in response.content.decode()


def test_views_what_we_publish_and_what_we_read(client, world):
    signed_in(client, world["ben"])

    publish = client.get(reverse("feeds:stream"), {"kind": "account"})
    read = client.get(reverse("feeds:stream"), {"kind": "source"})

    assert article_titles(publish) == ["Notes from the data meetup"]
    assert article_titles(read) == ["Error budgets in practice"]
    assert 'aria-current="page">What we read' in read.content.decode()


def test_unshared_paused_and_hidden_never_appear(client, world):
    private = FeedFactory(title="Private listening")
    SubscriptionFactory(member=world["ana"], feed=private, is_shared=False)
    EntryFactory(feed=private, title="Private episode", published_at=NOW)
    paused_member = MemberFactory(display_name="Paula", sharing_paused=True)
    paused_feed = FeedFactory(title="Paused feed")
    SubscriptionFactory(member=paused_member, feed=paused_feed, kind=Subscription.Kind.ACCOUNT)
    EntryFactory(feed=paused_feed, title="Paused post", published_at=NOW)
    hidden = EntryFactory(feed=world["account"], title="Hidden toot", published_at=NOW, hidden_at=NOW)
    signed_in(client, world["ben"])

    response = client.get(reverse("feeds:stream"))
    search = client.get(reverse("feeds:stream"), {"q": "private episode paused hidden"})
    pages = [
        client.get(reverse("feeds:entry", kwargs={"entry_id": e.pk})).status_code
        for e in Entry.objects.filter(title__in=["Private episode", "Paused post", "Hidden toot"])
    ]

    assert article_titles(response) == ["Notes from the data meetup", "Error budgets in practice"]
    assert "Private" not in text_of(response) and "Paula" not in text_of(response)
    assert article_titles(search) == []
    assert pages == [404, 404, 404]
    assert hidden.pk not in [e.pk for e in stream_page(StreamFilters()).entries]


def test_a_team_or_member_view_counts_only_what_its_people_share(client, world):
    # A team or member view gathers its feeds once (CASE WHEN feed_id IN (subquery));
    # the consent rules are the plain stream's: shared, not paused, active, not hidden.
    research = world["research"]
    unshared = FeedFactory(title="Ana's private list")
    SubscriptionFactory(member=world["ana"], feed=unshared, is_shared=False)
    EntryFactory(feed=unshared, title="Private to Ana", published_at=NOW)
    paused = MemberFactory(display_name="Paused researcher", team=research, sharing_paused=True)
    paused_feed = FeedFactory(title="Paused feed")
    SubscriptionFactory(member=paused, feed=paused_feed)
    EntryFactory(feed=paused_feed, title="From a paused member", published_at=NOW)
    gone = MemberFactory(display_name="Former researcher", team=research)
    gone.user.is_active = False
    gone.user.save()
    gone_feed = FeedFactory(title="Former feed")
    SubscriptionFactory(member=gone, feed=gone_feed)
    EntryFactory(feed=gone_feed, title="From a former member", published_at=NOW)
    hidden_feed = FeedFactory(title="Moderated feed", hidden_at=NOW)
    SubscriptionFactory(member=world["ben"], feed=hidden_feed)
    EntryFactory(feed=hidden_feed, title="From a hidden feed", published_at=NOW)
    EntryFactory(feed=world["account"], title="A hidden toot", published_at=NOW, hidden_at=NOW)
    signed_in(client, world["chen"])

    by_team = client.get(reverse("feeds:stream"), {"team": research.pk})
    by_ana = client.get(reverse("feeds:stream"), {"member": world["ana"].pk})
    by_team_sources = client.get(reverse("feeds:stream"), {"team": research.pk, "kind": "source"})
    sources = client.get(reverse("feeds:stream"), {"kind": "source"})  # kind alone: an EXISTS per entry

    assert article_titles(by_team) == ["Notes from the data meetup", "Error budgets in practice"]
    assert article_titles(by_ana) == ["Notes from the data meetup"]
    assert article_titles(by_team_sources) == ["Error budgets in practice"]
    assert article_titles(sources) == ["Error budgets in practice"]
    Subscription.objects.filter(member=world["ana"], feed=unshared).update(is_shared=True)
    assert article_titles(client.get(reverse("feeds:stream"), {"member": world["ana"].pk})) == [
        "Private to Ana",
        "Notes from the data meetup",
    ]


def test_names_come_from_shared_subscriptions_only(client, world):
    Subscription.objects.filter(member=world["chen"]).update(is_shared=False)
    Member.objects.filter(display_name="Zed 0").update(sharing_paused=True)

    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"))

    assert "shared by Ben, Zed 1 and Zed 2" in text_of(response)
    assert "Chen" not in text_of(response)


def test_filters_combine_and_stay_in_the_url(client, world):
    second = FeedFactory(title="Ben's blog", platform="blog")
    SubscriptionFactory(member=world["ben"], feed=second, kind=Subscription.Kind.ACCOUNT, topics=["data"])
    EntryFactory(feed=second, title="Data by Ben, old", published_at=NOW - timedelta(days=10))
    EntryFactory(feed=second, title="Data by Ben, new", published_at=NOW - timedelta(days=1))
    signed_in(client, world["chen"])
    params = {
        "team": world["research"].pk,
        "platform": "blog",
        "topic": "data",
        "kind": "account",
        "since": (NOW - timedelta(days=3)).date().isoformat(),
        "until": NOW.date().isoformat(),
    }

    response = client.get(reverse("feeds:stream"), params)
    by_member = client.get(reverse("feeds:stream"), {"member": world["ana"].pk})
    by_team = client.get(reverse("feeds:stream"), {"team": world["support"].pk})

    assert article_titles(response) == ["Data by Ben, new"]
    page = parse_page(response)
    form = next(f for f in page.forms if f["method"] == "get")
    assert form["fields"]["kind"] == "account"
    assert 'option value="blog" selected' in response.content.decode()
    assert article_titles(by_member) == ["Notes from the data meetup"]
    assert article_titles(by_team) == ["Error budgets in practice"]


def test_picks_only_shows_picked_entries_and_combines_with_other_filters(client, world):
    PickFactory(entry=world["post"], note="Read before the retro")
    signed_in(client, world["chen"])

    everything = client.get(reverse("feeds:stream"))
    picks = client.get(reverse("feeds:stream"), {"picks": "1"})
    picks_on_mastodon = client.get(reverse("feeds:stream"), {"picks": "1", "platform": "mastodon"})

    assert article_titles(everything) == ["Notes from the data meetup", "Error budgets in practice"]
    assert article_titles(picks) == ["Error budgets in practice"]
    assert '<input type="checkbox" name="picks" id="f-picks" value="1" checked>' in picks.content.decode()
    assert '<input type="checkbox" name="picks" id="f-picks" value="1">' in everything.content.decode()
    assert article_titles(picks_on_mastodon) == []
    assert "Nothing matches these filters" in text_of(picks_on_mastodon)
    assert stream_page(StreamFilters(picks=True)).entries[0].pk == world["post"].pk


def test_an_invalid_filter_is_ignored_and_the_rest_applies(client, world):
    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"), {"team": "999999", "platform": "blog"})

    assert article_titles(response) == ["Error budgets in practice"]
    assert "Select a valid choice" in text_of(response)


def test_the_filter_selects_accept_only_listed_values_and_mark_the_chosen_one():
    from feeds.forms.stream import StreamFilterForm

    choices = {"teams": [(1, "Data & AI")], "members": [(7, "Chen"), (9, "Ben")], "platforms": ["blog"],
               "topics": ["SRE"]}  # fmt: skip
    form = StreamFilterForm({"team": "1", "member": "8", "platform": "blog", "topic": "sre"}, choices=choices)

    chosen = form.filters()
    assert (chosen.team, chosen.member, chosen.platform, chosen.topic) == (1, None, "blog", "")
    assert form.errors == {
        "member": ["Select a valid choice. 8 is not one of the available choices."],
        "topic": ["Select a valid choice. sre is not one of the available choices."],
    }
    options = {field["name"]: field["options"] for field in form.select_fields()}
    assert options == {
        "team": '<option value="1" selected>Data &amp; AI</option>',
        "member": '<option value="7">Chen</option><option value="9">Ben</option>',
        "platform": '<option value="blog" selected>Blog</option>',
        "topic": '<option value="SRE">SRE</option>',
    }


def test_keyset_pages_skip_nothing_and_repeat_nothing_while_entries_arrive(world, monkeypatch):
    from core import querymemo
    from feeds import stream as stream_module

    querymemo.clear()
    built = []
    page_rows = stream_module._page_rows
    monkeypatch.setattr(stream_module, "_page_rows", lambda *a, **k: built.append(1) or page_rows(*a, **k))
    feed = world["account"]
    Entry.objects.filter(feed__in=[world["account"], world["blog"]]).delete()
    base = NOW - timedelta(days=1)
    # Ten entries, four of them at the very same instant (the id breaks the tie).
    originals = [EntryFactory(feed=feed, published_at=base - timedelta(minutes=i // 4 * 4)) for i in range(10)]
    seen: list[int] = []

    page = stream_page(StreamFilters(), page_size=3)
    seen += [e.pk for e in page.entries]
    while page.next_cursor:
        # New entries arrive between pages: newer ones, and one at the same
        # instant as the page's last entry but with a bigger id.
        EntryFactory(feed=feed, published_at=NOW)
        EntryFactory(feed=feed, published_at=page.entries[-1].published_at)
        page = stream_page(StreamFilters(), cursor=page.next_cursor, page_size=3)
        seen += [e.pk for e in page.entries]

    assert len(seen) == len(set(seen))
    expected = sorted(originals, key=lambda e: (e.published_at, e.pk), reverse=True)
    assert [pk for pk in seen if pk in {e.pk for e in originals}] == [e.pk for e in expected]
    # The first page's query, and one for every later page (the cursor's
    # instant and id go in as values: core.querymemo).
    assert len(built) == 2


def test_older_is_a_plain_link_with_rel_next(client, world):
    Entry.objects.bulk_create(
        [
            Entry(feed=world["account"], identity=f"bulk-{i}", title=f"Bulk {i:02d}", published_at=NOW - timedelta(days=1, minutes=i))
            for i in range(55)
        ]
    )  # fmt: skip
    signed_in(client, world["ben"])

    first = client.get(reverse("feeds:stream"), {"platform": "mastodon"})
    older_href = next(
        a.split('href="')[1].split('"')[0] for a in first.content.decode().split("<a ")[1:] if 'rel="next"' in a
    )
    second = client.get(reverse("feeds:stream") + older_href.replace("&amp;", "&"))

    assert len(article_titles(first)) == 50
    assert "platform=mastodon" in older_href
    assert article_titles(second) == [f"Bulk {i:02d}" for i in range(49, 55)]
    assert 'rel="next"' not in second.content.decode()


def test_cursor_round_trip_and_garbage(world):
    entry = world["toot"]

    key = cursor_decode(cursor_encode(entry))

    assert (key.published_at, key.pk, key.rank) == (entry.published_at, entry.pk, None)
    assert cursor_decode("not-a-cursor") is None
    assert cursor_decode("ZDoxOjA") is None  # "d:1:0": no id 0


def test_stream_with_a_garbage_cursor_shows_the_first_page(client, world):
    response = signed_in(client, world["ben"]).get(reverse("feeds:stream"), {"cursor": "%%%garbage"})

    assert article_titles(response) == ["Notes from the data meetup", "Error budgets in practice"]


def _queries_for_stream(client, params=None) -> int:
    client.get(reverse("feeds:stream"), params)  # warm the cached filter choices
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("feeds:stream"), params)
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode().count("<article")


def _add_entries_through_many_people(count: int) -> None:
    for i in range(count):
        feed = FeedFactory(platform="blog")
        for person in MemberFactory.create_batch(2):
            SubscriptionFactory(member=person, feed=feed, kind=Subscription.Kind.SOURCE)
        SubscriptionFactory(feed=feed, kind=Subscription.Kind.ACCOUNT)
        EntryFactory(feed=feed, published_at=NOW - timedelta(hours=3, minutes=i))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ["plain", "search", "team"])
def test_stream_query_count_is_the_same_for_1_and_50_entries(client, world, case):
    Entry.objects.filter(pk=world["post"].pk).delete()
    Entry.objects.filter(pk=world["toot"].pk).update(title="Notes entry")
    signed_in(client, world["ben"])
    params = {"plain": None, "search": {"q": "entry"}, "team": {"team": world["research"].pk}}[case]

    one, one_articles = _queries_for_stream(client, params)
    _add_entries_through_many_people(49)
    Member.objects.filter(subscriptions__feed__platform="blog").update(team=world["research"])
    many, many_articles = _queries_for_stream(client, params)

    assert (one_articles, many_articles) == (1, 50)
    assert one == many


def test_entry_page_shows_full_sanitized_content_and_who(client, world):
    Entry.objects.filter(pk=world["post"].pk).update(
        content='<p>Full text with <a href="https://example.org/x">a link</a>.</p><img src="x" onerror="alert(1)">'
    )

    response = signed_in(client, world["ana"]).get(reverse("feeds:entry", kwargs={"entry_id": world["post"].pk}))

    body = response.content.decode()
    text = text_of(response)
    assert '<h1 id="entry-title">Error budgets in practice</h1>' in body
    assert "Full text with a link" in text
    assert "onerror" not in body
    assert "Ben shares it (source)" in text and "Zed 2 shares it (source)" in text
    assert "Save for later" in text  # the curation block
    assert "Report this entry" in text


def test_entry_page_404_for_an_entry_nobody_shares(client, world):
    Subscription.objects.filter(feed=world["blog"]).update(is_shared=False)

    response = signed_in(client, world["ana"]).get(reverse("feeds:entry", kwargs={"entry_id": world["post"].pk}))

    assert response.status_code == 404
    assert "Error budgets" not in text_of(response)


def test_empty_stream_says_what_to_do_next(client, world):
    Entry.objects.all().delete()

    response = signed_in(client, world["ana"]).get(reverse("feeds:stream"))

    assert "Nothing in the stream yet. Share an account or a source from My PLN" in text_of(response)


def test_demo_stream_has_several_hundred_entries_across_teams_and_platforms(db):
    visible = Entry.objects.shared()

    platforms = set(visible.values_list("feed__platform", flat=True))
    teams = set(
        Subscription.objects.shared().filter(feed__entries__in=visible).values_list("member__team__name", flat=True)
    )

    assert visible.count() >= 200
    assert len(platforms) >= 5
    assert len(teams - {None}) >= 3


@pytest.fixture
def plain_sql(settings):
    """Queries run as SQL text, not as prepared statements (core.querymemo),
    so their text can be read; tests/core/test_querymemo.py shows both ways
    give the same rows."""
    settings.DATABASE_PREPARED_STATEMENTS = False


def _stream_sql(client, url: str) -> tuple[list[str], str]:
    """The SQL a stream page runs, and the page's "older" link."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    older = next(
        (a.split('href="')[1].split('"')[0] for a in response.content.decode().split("<a ")[1:] if 'rel="next"' in a),
        "",
    )
    return [query["sql"] for query in queries.captured_queries], older.replace("&amp;", "&")


def _entry_queries(sql: list[str]) -> list[str]:
    return [query for query in sql if re.search(r'\bFROM "feeds_entry"', query)]


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({}, id="unfiltered"),
        pytest.param({"team": "research", "kind": "account"}, id="team-and-kind"),
        pytest.param({"q": "bulk"}, id="search-by-date"),
        pytest.param({"q": "bulk", "order": "relevance"}, id="search-by-relevance"),
    ],
)
def test_stream_sql_never_uses_offset_nor_counts_entries(client, world, filters, plain_sql):
    Entry.objects.bulk_create(
        [
            Entry(feed=world["account"], identity=f"bulk-{i}", title=f"Bulk {i:02d}", published_at=NOW - timedelta(days=1, minutes=i))
            for i in range(60)
        ]
    )  # fmt: skip
    params = {k: (world[v].pk if k == "team" else v) for k, v in filters.items()}
    signed_in(client, world["ben"])
    first_url = reverse("feeds:stream") + ("?" + urlencode(params) if params else "")

    first, older = _stream_sql(client, first_url)
    second, _ = _stream_sql(client, reverse("feeds:stream") + older)

    assert "cursor=" in older
    for sql in first + second:
        assert not re.search(r"\bOFFSET\b", sql, re.IGNORECASE), sql
    for sql in first + second:
        assert not (re.search(r"\bCOUNT\s*\(", sql, re.IGNORECASE) and '"feeds_entry"' in sql), sql
    # The page itself is one LIMIT 51 query (50 shown, one to know there is more) ...
    assert [q for q in _entry_queries(first) if "LIMIT 51" in q]
    # ... and the next page starts from the last row's key, not from a position.
    keyset = [q for q in _entry_queries(second) if "LIMIT 51" in q]
    assert len(keyset) == 1
    key = cursor_decode(parse_qs(urlsplit(older).query)["cursor"][0])
    assert re.search(rf'"feeds_entry"\."id" [<>]=? {key.pk}\b', keyset[0]), keyset[0]


def test_the_page_query_joins_each_feed_once_and_reads_only_what_a_row_shows(client, world, plain_sql):
    """Entry.objects.shared() checks the feed's moderation on the feed the
    page already joins (the subquery would otherwise join it again, which
    cost the planner more than the scan), and a row reads its columns only."""
    signed_in(client, world["ben"])
    first, _older = _stream_sql(client, reverse("feeds:stream"))

    page = [q for q in _entry_queries(first) if "LIMIT 51" in q]
    assert len(page) == 1
    assert len(re.findall(r'JOIN "feeds_feed"', page[0])) == 1
    assert not re.search(r'"feeds_subscription" U\d+ INNER JOIN "feeds_feed"', page[0])
    for column in ("search_vector", "content_hash", "identity", '"feeds_feed"."etag"'):
        assert column not in page[0], column


def test_names_of_a_hidden_feed_are_never_given(world):
    from feeds.stream import through_for

    assert [p.name for p in through_for([world["blog"].pk])[world["blog"].pk].sharers] == [
        "Ben",
        "Chen",
        "Zed 0",
        "Zed 1",
        "Zed 2",
    ]
    Feed.objects.filter(pk=world["blog"].pk).update(hidden_at=NOW)

    assert through_for([world["blog"].pk]) == {}


def test_a_row_names_its_source_as_the_feed_does(client, world):
    untitled = FeedFactory(title="", url="https://notes.example.net/feed.xml")
    SubscriptionFactory(member=world["chen"], feed=untitled, kind=Subscription.Kind.ACCOUNT)
    EntryFactory(feed=untitled, title="Untitled feed's post", published_at=NOW)

    page = stream_page(StreamFilters())
    body = signed_in(client, world["ben"]).get(reverse("feeds:stream")).content.decode()

    assert [(row.title, row.source, row.platform) for row in page.entries][:2] == [
        ("Untitled feed's post", "notes.example.net", untitled.platform),
        ("Notes from the data meetup", "Ana on Mastodon", "mastodon"),
    ]
    assert untitled.display_title == "notes.example.net"
    assert body.count('<span class="entry-source">notes.example.net</span>') == 1


def test_the_same_page_again_is_compiled_once_and_shows_what_is_shared_now(client, world, monkeypatch):
    """The stream keeps a page's SQL (core.querymemo), never its rows: a
    member who stops sharing, or pauses, leaves the very next page, names
    included, and the page's query was not built again."""
    from core import querymemo
    from feeds import stream as stream_module

    querymemo.clear()
    built = []
    page_rows = stream_module._page_rows
    monkeypatch.setattr(stream_module, "_page_rows", lambda *a, **k: built.append(1) or page_rows(*a, **k))
    signed_in(client, world["chen"])
    before = client.get(reverse("feeds:stream"))

    Subscription.objects.filter(member=world["ana"]).update(is_shared=False)
    Member.objects.filter(pk=world["ben"].pk).update(sharing_paused=True)
    after = client.get(reverse("feeds:stream"))

    assert article_titles(before) == ["Notes from the data meetup", "Error budgets in practice"]
    assert article_titles(after) == ["Error budgets in practice"]
    assert "by Ana" in text_of(before) and "by Ana" not in text_of(after)
    assert "shared by Ben, Chen and 3 others" in text_of(before)
    assert "shared by Chen, Zed 0 and 2 others" in text_of(after)  # Ben is named no more
    assert len(built) == 1
