"""The Fever API (/api/fever/) spoken by a protocol client: auth, groups,
feeds, favicons, items, unread and saved ids, marks, errors."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from feeds.models import Entry, Feed, SavedEntry, Subscription
from feeds.reader.models import ReadMark
from feeds.reader.services.app_passwords import app_password_create, app_password_revoke
from members.models import User
from tests.factories import EntryFactory
from tests.reader.clients import Fever

pytestmark = pytest.mark.django_db


@pytest.fixture
def fever(world):
    Subscription.objects.create(
        member=world["dora"], feed=world["blog"], kind="source", is_shared=False, topics=["ops"]
    )
    made = app_password_create(member=world["dora"], name="Read You")
    return Fever("dora@example.org", made.password), made


def ids(value: str) -> list[int]:
    return [int(pk) for pk in value.split(",")] if value else []


def test_without_a_valid_api_key_auth_is_0_with_401(world, fever):
    client, made = fever

    nothing = client.http.get("/api/fever/?api")
    wrong = client.call("groups", api_key="0" * 32)
    app_password_revoke(app_password=made.app_password)
    revoked = client.call("groups")

    assert (nothing.status_code, nothing.json()) == (
        401,
        {"api_version": 3, "auth": 0, "error": "POST api_key: md5 of “email:app password”."},
    )
    expected = {
        "api_version": 3,
        "auth": 0,
        "error": "This api_key is not valid (revoked, or the account was deactivated).",
    }
    assert (wrong.status_code, wrong.json()) == (401, expected)
    assert (revoked.status_code, revoked.json()) == (401, expected)


def test_a_deactivated_members_key_is_dead(world, fever):
    client, _made = fever
    User.objects.filter(pk=world["dora"].user_id).update(is_active=False)

    assert client.call().status_code == 401


def test_the_account_password_is_never_a_fever_key(world, fever):
    client = Fever("dora@example.org", "correct horse battery")

    assert client.call().json()["auth"] == 0


def test_failed_keys_are_rate_limited_per_address(world, fever):
    client, _made = fever
    statuses = [client.call(api_key=f"{n:032x}").status_code for n in range(20)]

    limited = client.call()

    assert statuses == [401] * 20
    assert (limited.status_code, limited.json()["error"]) == (
        429,
        "Too many failed sign-ins: wait a few minutes, then try again.",
    )


def test_a_bare_call_answers_auth_and_last_refreshed(world, fever):
    client, _made = fever
    Feed.objects.filter(pk=world["blog"].pk).update(last_success_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))

    assert client.json() == {"api_version": 3, "auth": 1, "last_refreshed_on_time": 1893553445}


def test_groups_and_feeds_with_feeds_groups(world, fever):
    client, _made = fever
    Feed.objects.filter(pk=world["blog"].pk).update(last_success_at=datetime(2030, 1, 2, tzinfo=UTC))

    groups = client.json("groups")
    feeds = client.json("feeds")

    by_title = {g["title"]: g["id"] for g in groups["groups"]}
    research, support = world["research"].pk, world["support"].pk
    assert list(by_title) == ["My PLN", "data", "ops", "reliability", "Team: Reader research", "Team: Reader support"]
    assert (by_title["My PLN"], by_title["Team: Reader research"], by_title["Team: Reader support"]) == (
        1,
        2 * research,
        2 * support,
    )
    assert all(by_title[t] % 2 == 1 and by_title[t] > 1 for t in ("data", "ops", "reliability"))
    blog, account = world["blog"].pk, world["account"].pk
    expected_groups = [
        {"group_id": 1, "feed_ids": str(blog)},
        {"group_id": by_title["data"], "feed_ids": str(account)},
        {"group_id": by_title["ops"], "feed_ids": str(blog)},
        {"group_id": by_title["reliability"], "feed_ids": str(blog)},
        {"group_id": 2 * research, "feed_ids": f"{min(blog, account)},{max(blog, account)}"},
        {"group_id": 2 * support, "feed_ids": str(blog)},
    ]
    assert groups["feeds_groups"] == feeds["feeds_groups"] == expected_groups
    assert feeds["feeds"] == [
        {
            "id": blog,
            "favicon_id": 1,
            "title": "Reliability Weekly",
            "url": "https://reliability.example.net/feed.xml",
            "site_url": world["blog"].site_url,
            "is_spark": 0,
            "last_updated_on_time": 1893542400,
        },
        {
            "id": account,
            "favicon_id": 1,
            "title": "Ana on Mastodon",
            "url": "https://social.example.net/@ana.rss",
            "site_url": world["account"].site_url,
            "is_spark": 0,
            "last_updated_on_time": 0,
        },
    ]
    assert client.json("groups")["groups"] == groups["groups"]  # the same ids every time


def test_favicons(world, fever):
    client, _made = fever

    [favicon] = client.json("favicons")["favicons"]

    assert favicon["id"] == 1
    kind, data = favicon["data"].split(";base64,")
    assert kind == "image/png"
    assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_items_by_since_id_max_id_and_with_ids(world, fever):
    client, _made = fever
    order = [world[k].pk for k in ("old", "post2", "toot2", "post1", "toot3", "toot1")]
    SavedEntry.objects.create(member=world["dora"], entry=world["toot3"])
    Entry.objects.filter(pk=world["toot1"].pk).update(author="Ana", content="<p>Full <script>x</script>text</p>")

    since = client.json("items", since_id=order[1])
    below = client.json("items", max_id=order[3])
    chosen = client.json("items", with_ids=f"{order[5]},{order[0]}")
    first = client.json("items")

    assert [i["id"] for i in since["items"]] == order[2:]
    assert [i["id"] for i in below["items"]] == [order[2], order[1], order[0]]
    assert [i["id"] for i in chosen["items"]] == [order[0], order[5]]
    assert [i["id"] for i in first["items"]] == order
    assert since["total_items"] == 6
    toot1 = Entry.objects.get(pk=order[5])
    assert since["items"][-1] == {
        "id": toot1.pk,
        "feed_id": world["account"].pk,
        "title": "Hello from the meetup",
        "author": "Ana",
        "html": "<p>Full text</p>",
        "url": toot1.link,
        "is_saved": 0,
        "is_read": 0,
        "created_on_time": int(toot1.published_at.timestamp()),
    }
    flags = {i["id"]: (i["is_read"], i["is_saved"]) for i in first["items"]}
    assert flags[world["old"].pk] == (1, 0)  # outside the unread window
    assert flags[world["toot3"].pk] == (0, 1)


def test_total_items_is_counted_once_a_minute(world, fever):
    client, _made = fever
    assert client.json("items")["total_items"] == 6

    EntryFactory(feed=world["blog"], title="Seventh", published_at=timezone.now())
    cached = client.json("items")["total_items"]
    cache.clear()

    assert (cached, client.json("items")["total_items"]) == (6, 7)


def test_unread_and_saved_item_ids(world, fever):
    client, _made = fever
    SavedEntry.objects.create(member=world["dora"], entry=world["post1"])

    body = client.json("unread_item_ids", "saved_item_ids")

    assert ids(body["unread_item_ids"]) == sorted(world[k].pk for k in ("post2", "toot2", "post1", "toot3", "toot1"))
    assert ids(body["saved_item_ids"]) == [world["post1"].pk]


def test_mark_items_read_unread_saved_unsaved(world, fever):
    client, _made = fever
    toot1 = world["toot1"].pk

    read = client.json(mark="item", **{"as": "read"}, id=toot1)
    saved = client.json(mark="item", **{"as": "saved"}, id=toot1)
    unread = client.json(mark="item", **{"as": "unread"}, id=world["old"].pk)
    unsaved = client.json(mark="item", **{"as": "unsaved"}, id=toot1)

    assert toot1 not in ids(read["unread_item_ids"])
    assert ids(saved["saved_item_ids"]) == [toot1]
    assert world["old"].pk in ids(unread["unread_item_ids"])
    assert ids(unsaved["saved_item_ids"]) == []
    assert set(ReadMark.objects.filter(member=world["dora"]).values_list("entry_id", "is_read")) == {
        (toot1, True),
        (world["old"].pk, False),
    }


def test_mark_a_feed_read_before_a_time(world, fever):
    client, _made = fever
    now = timezone.now()
    Entry.objects.update(first_seen_at=now - timedelta(hours=2))
    late = EntryFactory(feed=world["blog"], title="Late", published_at=now, first_seen_at=now)

    body = client.json(
        mark="feed", **{"as": "read"}, id=world["blog"].pk, before=int((now - timedelta(hours=1)).timestamp())
    )

    assert ids(body["unread_item_ids"]) == sorted([world["toot2"].pk, world["toot3"].pk, world["toot1"].pk, late.pk])


def test_mark_a_group_read_and_group_0_is_everything(world, fever):
    client, _made = fever
    groups = {g["title"]: g["id"] for g in client.json("groups")["groups"]}

    data = client.json(mark="group", **{"as": "read"}, id=groups["data"])
    sparks = client.json(mark="group", **{"as": "read"}, id=-1)
    everything = client.json(mark="group", **{"as": "read"}, id=0)

    assert ids(data["unread_item_ids"]) == sorted([world["post2"].pk, world["post1"].pk])
    assert ids(sparks["unread_item_ids"]) == ids(data["unread_item_ids"])  # no feed is a spark
    assert everything["unread_item_ids"] == ""


@pytest.mark.parametrize(
    "values, message",
    [
        ({"mark": "item", "as": "read"}, "give the id of the item to mark."),
        ({"mark": "item", "as": "read", "id": "12a"}, "id must be a whole number, not '12a'."),
        (
            {"mark": "feed", "as": "saved", "id": "1"},
            "mark must be item (as read, unread, saved or unsaved), feed or group (as read); got 'feed' as 'saved'.",
        ),
        ({"mark": "feed", "as": "read", "id": "999999999"}, "Unknown feed 999999999."),
        ({"mark": "group", "as": "read", "id": "7777777"}, "Unknown group 7777777."),
        ({"mark": "group", "as": "read", "id": "0", "before": "soon"}, "before must be a whole number, not 'soon'."),
    ],
)
def test_bad_marks_answer_400_and_change_nothing(world, fever, values, message):
    client, _made = fever

    response = client.call(**values)

    assert (response.status_code, response.json()) == (400, {"api_version": 3, "auth": 1, "error": message})
    assert not ReadMark.objects.filter(member=world["dora"]).exists()


def test_with_ids_is_capped_at_50(world, fever):
    client, _made = fever

    response = client.call("items", with_ids=",".join(str(n) for n in range(1, 52)))

    assert response.status_code == 400
    assert response.json()["error"] == "with_ids must be at most 50 item ids separated by commas."


def test_an_id_nobody_can_see_is_left_alone(world, fever):
    client, _made = fever
    private = EntryFactory(title="Not shared")

    body = client.json(mark="item", **{"as": "saved"}, id=private.pk)
    chosen = client.json("items", with_ids=str(private.pk))

    assert body["saved_item_ids"] == ""
    assert chosen["items"] == []
    assert not SavedEntry.objects.filter(entry=private).exists()


def test_items_run_the_same_queries_for_one_item_and_many(world, fever):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _made = fever
    Entry.objects.exclude(pk=world["toot1"].pk).delete()

    def queries() -> int:
        client.json("items", "unread_item_ids")
        with CaptureQueriesContext(connection) as captured:
            client.json("items", "unread_item_ids")
        return len(captured.captured_queries)

    one = queries()
    for i in range(40):
        EntryFactory(feed=world["blog"], title=f"Many {i}", published_at=timezone.now() - timedelta(minutes=i))

    assert queries() == one
