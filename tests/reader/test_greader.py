"""The Google Reader API (/api/greader/) spoken by a protocol client:
every endpoint with its exact JSON or text, parameters, errors, tokens."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from feeds.models import Entry, SavedEntry, Subscription
from feeds.reader.models import ReadMark, ReadMarker
from feeds.reader.services.app_passwords import app_password_create, app_password_revoke
from members.models import Member, User
from tests.factories import EntryFactory, FeedFactory
from tests.reader.clients import GoogleReader, long_item_id

pytestmark = pytest.mark.django_db


def us(moment) -> str:
    return str(int(moment.timestamp()) * 1_000_000 + moment.microsecond)


@pytest.fixture
def dora_app(world):
    """Dora follows the blog herself (privately, topic "ops") and has an app password."""
    Subscription.objects.create(
        member=world["dora"], feed=world["blog"], kind="source", is_shared=False, topics=["ops"]
    )
    made = app_password_create(member=world["dora"], name="NetNewsWire")
    reader = GoogleReader()
    assert reader.client_login("dora@example.org", made.password).status_code == 200
    return {"reader": reader, "password": made.password, "app_password": made.app_password}


def refs(body) -> list[str]:
    return [ref["id"] for ref in body["itemRefs"]]


def titles(body) -> list[str]:
    return [item["title"] for item in body["items"]]


# --- Signing in ------------------------------------------------------------------


def test_client_login_answers_the_three_lines(world):
    made = app_password_create(member=world["dora"], name="Reeder")
    response = GoogleReader().http.post(
        "/api/greader/accounts/ClientLogin", {"Email": "Dora@Example.org", "Passwd": made.password}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().split("\n")
    auth = lines[2][len("Auth=") :]
    assert lines == [f"SID={auth}", "LSID=null", f"Auth={auth}", ""]
    assert auth.startswith(f"{made.app_password.pk}/") and len(auth.split("/")[1]) == 64


@pytest.mark.parametrize(
    "email, password",
    [
        ("dora@example.org", "wrong-password"),
        ("dora@example.org", "correct horse battery"),  # the account password: never
        ("ana@example.org", None),  # another member's email with Dora's app password
    ],
    ids=["wrong", "account-password", "other-email"],
)
def test_client_login_refuses_anything_but_an_app_password(world, email, password):
    made = app_password_create(member=world["dora"], name="Reeder")

    response = GoogleReader().client_login(email, password or made.password)

    assert (response.status_code, response.content) == (401, b"Error=BadAuthentication\n")


def test_client_login_is_post_only(world):
    response = GoogleReader().http.get("/api/greader/accounts/ClientLogin", {"Email": "x", "Passwd": "y"})

    assert (response.status_code, response["Allow"]) == (405, "POST")


def test_client_login_is_rate_limited_like_the_sign_in_form(world):
    made = app_password_create(member=world["dora"], name="Reeder")
    reader = GoogleReader()

    for _ in range(3):
        assert reader.client_login("dora@example.org", made.password).status_code == 200  # successes do not count
    failures = [reader.client_login("dora@example.org", "guess").status_code for _ in range(5)]
    limited = reader.client_login("dora@example.org", made.password)

    assert failures == [401] * 5
    assert limited.status_code == 429
    assert limited.content.decode() == (
        "Error=BadAuthentication\nInfo=Too many failed sign-ins: wait a few minutes, then try again.\n"
    )


def test_members_with_two_factor_authentication_use_app_passwords(world):
    Authenticator.objects.create(user=world["dora"].user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    made = app_password_create(member=world["dora"], name="Reeder")
    reader = GoogleReader()

    assert reader.client_login("dora@example.org", made.password).status_code == 200
    assert reader.json("reader/api/0/user-info")["userEmail"] == "dora@example.org"


# --- Tokens -------------------------------------------------------------------------------


def test_without_auth_every_call_answers_401_with_the_protocol_body(world):
    response = GoogleReader().get("reader/api/0/subscription/list", {"output": "json"})

    assert response.status_code == 401
    assert response["Google-Bad-Token"] == "true"
    assert response.content.decode() == (
        "Unauthorized: send the header Authorization: GoogleLogin auth= and the Auth from ClientLogin.\n"
    )


def test_revoked_password_and_deactivated_member_end_the_token(world, dora_app):
    reader = dora_app["reader"]
    assert reader.get("reader/api/0/user-info").status_code == 200

    app_password_revoke(app_password=dora_app["app_password"])
    revoked = reader.get("reader/api/0/user-info")
    other = app_password_create(member=world["dora"], name="Second")
    second = GoogleReader()
    second.client_login("dora@example.org", other.password)
    User.objects.filter(pk=world["dora"].user_id).update(is_active=False)
    deactivated = second.get("reader/api/0/user-info")

    expected = b"Unauthorized: this Auth token is not valid (revoked, or the account was deactivated).\n"
    assert (revoked.status_code, revoked.content) == (401, expected)
    assert (deactivated.status_code, deactivated.content) == (401, expected)


def test_a_forged_token_is_refused(world, dora_app):
    reader = dora_app["reader"]
    pk = dora_app["app_password"].pk
    reader.auth = f"{pk}/{'0' * 64}"

    assert reader.get("reader/api/0/user-info").status_code == 401


def test_the_action_token_has_57_characters_and_is_checked(world, dora_app):
    reader = dora_app["reader"]
    token = reader.token()
    ids = [("i", str(world["toot1"].pk)), ("a", "user/-/state/com.google/read")]

    wrong = reader.post("reader/api/0/edit-tag", [*ids, ("T", "not-ours")], with_token=False)
    reeder = reader.post("reader/api/0/edit-tag", [*ids, ("T", "x")], with_token=False)
    ours = reader.post("reader/api/0/edit-tag", ids)

    assert len(token) == 57
    assert (wrong.status_code, wrong["Google-Bad-Token"]) == (401, "true")
    assert (reeder.status_code, reeder.content) == (200, b"OK")
    assert (ours.status_code, ours.content) == (200, b"OK")


# --- Reading ---------------------------------------------------------------------------------


def test_user_info(world, dora_app):
    assert dora_app["reader"].json("reader/api/0/user-info") == {
        "userId": str(world["dora"].pk),
        "userName": "Dora",
        "userProfileId": str(world["dora"].pk),
        "userEmail": "dora@example.org",
    }


def test_subscription_list_has_my_pln_first_then_the_stream_in_categories(world, dora_app):
    body = dora_app["reader"].json("reader/api/0/subscription/list", {"output": "json"})

    icon = "http://127.0.0.1:8000/static/favicon.svg"
    research, support = "Team: Reader research", "Team: Reader support"
    assert body == {
        "subscriptions": [
            {
                "id": f"feed/{world['blog'].pk}",
                "title": "Reliability Weekly",
                "categories": [
                    {"id": "user/-/label/My PLN", "label": "My PLN"},
                    {"id": "user/-/label/ops", "label": "ops"},
                    {"id": "user/-/label/reliability", "label": "reliability"},
                    {"id": f"user/-/label/{research}", "label": research},
                    {"id": f"user/-/label/{support}", "label": support},
                ],
                "url": "https://reliability.example.net/feed.xml",
                "htmlUrl": world["blog"].site_url,
                "iconUrl": icon,
            },
            {
                "id": f"feed/{world['account'].pk}",
                "title": "Ana on Mastodon",
                "categories": [
                    {"id": "user/-/label/data", "label": "data"},
                    {"id": f"user/-/label/{research}", "label": research},
                ],
                "url": "https://social.example.net/@ana.rss",
                "htmlUrl": world["account"].site_url,
                "iconUrl": icon,
            },
        ]
    }


def test_tag_list(world, dora_app):
    assert dora_app["reader"].json("reader/api/0/tag/list", {"output": "json"}) == {
        "tags": [
            {"id": "user/-/state/com.google/starred"},
            {"id": "user/-/label/My PLN", "type": "folder"},
            {"id": "user/-/label/data", "type": "folder"},
            {"id": "user/-/label/ops", "type": "folder"},
            {"id": "user/-/label/reliability", "type": "folder"},
            {"id": "user/-/label/Team: Reader research", "type": "folder"},
            {"id": "user/-/label/Team: Reader support", "type": "folder"},
        ]
    }


def test_unread_count_per_feed_label_and_reading_list(world, dora_app):
    reader = dora_app["reader"]
    reader.post("reader/api/0/edit-tag", [("i", str(world["post1"].pk)), ("a", "user/-/state/com.google/read")])
    seen = {key: Entry.objects.get(pk=world[key].pk).first_seen_at for key in ("toot1", "post2")}

    body = reader.json("reader/api/0/unread-count", {"output": "json"})

    account, blog = f"feed/{world['account'].pk}", f"feed/{world['blog'].pk}"
    newest_toot, newest_post = us(seen["toot1"]), us(seen["post2"])
    assert body["max"] == 4
    assert sorted(body["unreadcounts"], key=lambda row: row["id"]) == sorted(
        [
            {"id": account, "count": 3, "newestItemTimestampUsec": newest_toot},
            {"id": blog, "count": 1, "newestItemTimestampUsec": newest_post},
            {"id": "user/-/label/My PLN", "count": 1, "newestItemTimestampUsec": newest_post},
            {"id": "user/-/label/ops", "count": 1, "newestItemTimestampUsec": newest_post},
            {"id": "user/-/label/reliability", "count": 1, "newestItemTimestampUsec": newest_post},
            {"id": "user/-/label/data", "count": 3, "newestItemTimestampUsec": newest_toot},
            {
                "id": "user/-/label/Team: Reader research",
                "count": 4,
                "newestItemTimestampUsec": max(newest_toot, newest_post),
            },
            {"id": "user/-/label/Team: Reader support", "count": 1, "newestItemTimestampUsec": newest_post},
            {
                "id": "user/-/state/com.google/reading-list",
                "count": 4,
                "newestItemTimestampUsec": max(newest_toot, newest_post),
            },
        ],
        key=lambda row: row["id"],
    )
    # Each count is exactly what the unread listing of that stream holds.
    for row in body["unreadcounts"]:
        listed = reader.json(
            "reader/api/0/stream/items/ids", {"s": row["id"], "xt": "user/-/state/com.google/read", "n": 1000}
        )
        assert len(listed["itemRefs"]) == row["count"], row["id"]


def test_stream_contents_items_in_full(world, dora_app):
    entry = Entry.objects.get(pk=world["toot1"].pk)
    Entry.objects.filter(pk=entry.pk).update(
        content='<p>Hi <a href="/x">there</a></p><script>alert(1)</script>',
        author="Ana",
        enclosure_url="https://social.example.net/a.mp3",
        enclosure_type="audio/mpeg",
    )
    SavedEntry.objects.create(member=world["dora"], entry=entry)

    body = dora_app["reader"].json(
        "reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"n": 1, "output": "json"}
    )

    link = entry.link
    assert set(body) == {"id", "updated", "items", "continuation"}
    assert body["id"] == "user/-/state/com.google/reading-list"
    assert abs(body["updated"] - timezone.now().timestamp()) < 60
    assert body["items"] == [
        {
            "id": long_item_id(entry.pk),
            "crawlTimeMsec": str(int(us(entry.first_seen_at)) // 1000),
            "timestampUsec": us(entry.first_seen_at),
            "published": int(entry.published_at.timestamp()),
            "updated": int(max(entry.updated_at, entry.published_at).timestamp()),
            "title": "Hello from the meetup",
            "canonical": [{"href": link}],
            "alternate": [{"href": link, "type": "text/html"}],
            "summary": {
                "direction": "ltr",
                "content": '<p>Hi <a href="https://feeds.example.net/x" rel="noopener noreferrer nofollow">there</a></p>',
            },
            "author": "Ana",
            "categories": [
                "user/-/state/com.google/reading-list",
                "user/-/label/data",
                "user/-/label/Team: Reader research",
                "user/-/state/com.google/starred",
            ],
            "origin": {
                "streamId": f"feed/{world['account'].pk}",
                "title": "Ana on Mastodon",
                "htmlUrl": world["account"].site_url,
            },
            "enclosure": [{"href": "https://social.example.net/a.mp3", "type": "audio/mpeg"}],
        }
    ]


def test_stream_contents_pages_with_continuation_in_both_orders(world, dora_app):
    reader = dora_app["reader"]
    path = "reader/api/0/stream/contents/user/-/state/com.google/reading-list"

    first = reader.json(path, {"n": 4})
    second = reader.json(path, {"n": 4, "c": first["continuation"]})
    oldest = reader.json(path, {"n": 4, "r": "o"})
    older = reader.json(path, {"n": 4, "r": "o", "c": oldest["continuation"]})

    newest_first = ["Hello from the meetup", "A chart I like", "On-call without tears", "Data meetup notes"]
    assert titles(first) == newest_first
    assert titles(second) == ["Error budgets", "An old post"] and "continuation" not in second
    assert titles(oldest) + titles(older) == list(reversed(newest_first + ["Error budgets", "An old post"]))


def test_stream_contents_of_a_feed_a_label_starred_and_states(world, dora_app):
    reader = dora_app["reader"]
    reader.post(
        "reader/api/0/edit-tag", [("i", long_item_id(world["toot3"].pk)), ("a", "user/-/state/com.google/starred")]
    )
    reader.post("reader/api/0/edit-tag", [("i", str(world["post1"].pk)), ("a", "user/-/state/com.google/read")])
    base = "reader/api/0/stream/contents/"

    assert titles(reader.json(base + f"feed/{world['blog'].pk}")) == [
        "On-call without tears",
        "Error budgets",
        "An old post",
    ]
    assert titles(reader.json(base + "feed/" + world["blog"].url)) == [
        "On-call without tears",
        "Error budgets",
        "An old post",
    ]
    assert titles(reader.json(base + "user/-/label/data")) == [
        "Hello from the meetup",
        "A chart I like",
        "Data meetup notes",
    ]
    assert titles(reader.json(base + "user/-/label/My PLN")) == [
        "On-call without tears",
        "Error budgets",
        "An old post",
    ]
    assert titles(reader.json(base + "user/-/label/Team: Reader support")) == [
        "On-call without tears",
        "Error budgets",
        "An old post",
    ]
    assert titles(reader.json(base + "user/-/state/com.google/starred")) == ["A chart I like"]
    unread = reader.json(base + "user/-/state/com.google/reading-list", {"xt": "user/-/state/com.google/read"})
    assert titles(unread) == ["Hello from the meetup", "A chart I like", "Data meetup notes", "Error budgets"]
    read = reader.json(base + "user/-/state/com.google/reading-list", {"it": "user/-/state/com.google/read"})
    assert titles(read) == ["On-call without tears", "An old post"]
    # The client's own user id in place of "-" means the same.
    assert titles(reader.json(base + f"user/{world['dora'].pk}/label/data"))[0] == "Hello from the meetup"
    bazqux = reader.json("reader/api/0/stream/contents", {"s": "user/-/label/data", "n": 1})
    assert titles(bazqux) == ["Hello from the meetup"]


def test_ot_and_nt_filter_by_arrival(world, dora_app):
    now = timezone.now()
    Entry.objects.filter(pk=world["post2"].pk).update(first_seen_at=now - timedelta(days=2))
    Entry.objects.filter(pk=world["toot2"].pk).update(first_seen_at=now - timedelta(days=1))
    Entry.objects.exclude(pk__in=[world["post2"].pk, world["toot2"].pk]).update(first_seen_at=now)
    reader = dora_app["reader"]
    since = int((now - timedelta(hours=36)).timestamp())

    newer = reader.json("reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "ot": since})
    before = reader.json("reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "nt": since})

    assert len(refs(newer)) == 5 and str(world["post2"].pk) not in refs(newer)
    assert refs(before) == [str(world["post2"].pk)]


def test_stream_items_ids_short_form_and_continuation(world, dora_app):
    reader = dora_app["reader"]

    first = reader.json("reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "n": 2})
    rest = reader.json(
        "reader/api/0/stream/items/ids",
        {"s": "user/-/state/com.google/reading-list", "n": 10, "c": first["continuation"]},
    )

    toot1 = Entry.objects.get(pk=world["toot1"].pk)
    assert first["itemRefs"][0] == {"id": str(toot1.pk), "timestampUsec": us(toot1.first_seen_at)}
    assert refs(first) + refs(rest) == [
        str(world[key].pk) for key in ("toot1", "toot3", "post1", "toot2", "post2", "old")
    ]


def test_stream_items_contents_takes_both_id_forms_and_leaves_out_what_cannot_be_seen(world, dora_app):
    reader = dora_app["reader"]
    private = EntryFactory(title="Not shared with anyone")
    hex_bare = format(world["post1"].pk, "016x")

    response = reader.post(
        "reader/api/0/stream/items/contents",
        [
            ("i", long_item_id(world["toot2"].pk)),
            ("i", str(world["toot1"].pk)),
            ("i", hex_bare),
            ("i", str(private.pk)),
        ],
    )

    assert response.status_code == 200
    assert titles(response.json()) == ["Hello from the meetup", "On-call without tears", "Data meetup notes"]


# --- Writing --------------------------------------------------------------------------------------


def test_edit_tag_marks_read_unread_and_starred(world, dora_app):
    reader = dora_app["reader"]
    dora = world["dora"]
    ids = [("i", long_item_id(world["toot1"].pk)), ("i", str(world["toot3"].pk))]

    reader.post("reader/api/0/edit-tag", [*ids, ("a", "user/-/state/com.google/read")])
    after_read = set(ReadMark.objects.filter(member=dora).values_list("entry_id", "is_read"))
    reader.post("reader/api/0/edit-tag", [ids[0], ("r", "user/-/state/com.google/read")])
    reader.post("reader/api/0/edit-tag", [ids[1], ("a", "user/-/state/com.google/starred")])

    assert after_read == {(world["toot1"].pk, True), (world["toot3"].pk, True)}
    assert set(ReadMark.objects.filter(member=dora).values_list("entry_id", "is_read")) == {
        (world["toot1"].pk, False),
        (world["toot3"].pk, True),
    }
    assert list(SavedEntry.objects.filter(member=dora).values_list("entry_id", flat=True)) == [world["toot3"].pk]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            [("i", "tag:google.com,2005:reader/item/zz"), ("a", "user/-/state/com.google/read")],
            "'tag:google.com,2005:reader/item/zz' is not an item id.",
        ),
        ([("i", "12abc"), ("a", "user/-/state/com.google/read")], "'12abc' is not an item id."),
        ([("a", "user/-/state/com.google/read")], "give the items as i (one or more)."),
        (
            [("i", "1"), ("a", "user/-/label/favourites")],
            "'user/-/label/favourites' cannot be set on items: plnorg keeps read and starred only.",
        ),
        ([("i", "1")], "give a state to add (a) or remove (r)."),
        (
            [("i", "1"), ("a", "user/-/state/com.google/read"), ("r", "user/-/state/com.google/read")],
            "the same state cannot be added and removed at once.",
        ),
    ],
    ids=["bad-hex", "bad-decimal", "no-items", "label", "no-state", "both"],
)
def test_edit_tag_refuses_bad_input_and_changes_nothing(world, dora_app, data, message):
    reader = dora_app["reader"]
    good = ("i", str(world["toot1"].pk))

    response = reader.post("reader/api/0/edit-tag", [good, *data] if data[0][0] == "i" else data)

    assert (response.status_code, response.content.decode()) == (400, f"Bad Request: {message}\n")
    assert not ReadMark.objects.filter(member=world["dora"]).exists()


def test_oversized_item_lists_are_refused(world, dora_app):
    reader = dora_app["reader"]
    ids = [("i", str(n)) for n in range(1, 1002)]

    contents = reader.post("reader/api/0/stream/items/contents", ids)
    by_get = reader.get("reader/api/0/stream/items/contents", ids)
    edit = reader.post("reader/api/0/edit-tag", [*ids, ("a", "user/-/state/com.google/read")])

    assert contents.content == by_get.content == edit.content == b"Bad Request: at most 1000 items per request.\n"
    assert contents.status_code == by_get.status_code == edit.status_code == 400
    assert not ReadMark.objects.filter(member=world["dora"]).exists()


def test_mark_all_as_read_of_a_label_up_to_ts(world, dora_app):
    reader = dora_app["reader"]
    now = timezone.now()
    Entry.objects.update(first_seen_at=now - timedelta(minutes=10))
    late = EntryFactory(feed=world["account"], title="Arrived after ts", published_at=now, first_seen_at=now)
    ts = str(int((now - timedelta(minutes=5)).timestamp() * 1_000_000))

    response = reader.post("reader/api/0/mark-all-as-read", {"s": "user/-/label/data", "ts": ts})

    assert (response.status_code, response.content) == (200, b"OK")
    unread = reader.json(
        "reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"xt": "user/-/state/com.google/read"}
    )
    assert titles(unread) == ["Arrived after ts", "On-call without tears", "Error budgets"]
    assert late.pk


def test_mark_all_as_read_of_the_reading_list_moves_the_marker(world, dora_app):
    reader = dora_app["reader"]

    reader.post("reader/api/0/mark-all-as-read", {"s": "user/-/state/com.google/reading-list"})

    assert ReadMarker.objects.get(member=world["dora"]).read_through_id >= world["toot1"].pk
    assert reader.json("reader/api/0/unread-count")["max"] == 0


def test_quickadd_goes_through_the_safe_add_path_and_starts_private(world, dora_app, serve, settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    server = serve()
    server.route(
        "/feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Quick Feed</title><link>http://x/</link>'
        "<item><title>One</title><link>http://x/1</link><guid>1</guid></item></channel></rss>",
        content_type="application/rss+xml",
    )
    reader = dora_app["reader"]

    response = reader.post("reader/api/0/subscription/quickadd", {"quickadd": f"{server.url}/feed.xml"})

    sub = Subscription.objects.get(member=world["dora"], feed__url=f"{server.url}/feed.xml")
    assert response.json() == {
        "numResults": 1,
        "query": f"{server.url}/feed.xml",
        "streamId": f"feed/{sub.feed_id}",
        "streamName": "Quick Feed",
    }
    assert (sub.kind, sub.is_shared) == ("source", False)
    listed = reader.json("reader/api/0/subscription/list")["subscriptions"]
    assert any(s["id"] == f"feed/{sub.feed_id}" for s in listed)


def test_quickadd_refuses_private_addresses_like_the_form(world, dora_app):
    response = dora_app["reader"].post(
        "reader/api/0/subscription/quickadd", {"quickadd": "http://127.0.0.1:9/feed.xml"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["numResults"] == 0 and body["query"] == "http://127.0.0.1:9/feed.xml"
    assert body["error"] == (
        "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    )
    assert not Subscription.objects.filter(feed__url__startswith="http://127.0.0.1").exists()


def test_subscription_edit_labels_and_unsubscribes_own_sources_only(world, dora_app):
    reader = dora_app["reader"]
    blog, account = f"feed/{world['blog'].pk}", f"feed/{world['account'].pk}"

    labelled = reader.post(
        "reader/api/0/subscription/edit", {"ac": "edit", "s": blog, "a": "user/-/label/Reading Group"}
    )
    topics = Subscription.objects.get(member=world["dora"], feed=world["blog"]).topics
    colleague = reader.post("reader/api/0/subscription/edit", {"ac": "unsubscribe", "s": account})
    team = reader.post(
        "reader/api/0/subscription/edit", {"ac": "edit", "s": blog, "a": "user/-/label/Team: Reader support"}
    )
    rename = reader.post("reader/api/0/subscription/edit", {"ac": "edit", "s": blog, "t": "My name"})
    gone = reader.post("reader/api/0/subscription/edit", {"ac": "unsubscribe", "s": blog})

    assert (labelled.status_code, labelled.content, topics) == (200, b"OK", ["ops", "reading group"])
    assert colleague.status_code == 400
    assert colleague.content.decode() == (
        f"Bad Request: {account} is in the stream because colleagues share it; only your own sources can be changed here.\n"
    )
    assert team.content.decode() == (
        "Bad Request: 'Team: Reader support' follows who shares a source and cannot be set; use a topic instead.\n"
    )
    assert rename.content.decode() == (
        "Bad Request: titles come from the source and are the same for everyone: plnorg cannot rename one.\n"
    )
    assert (gone.status_code, gone.content) == (200, b"OK")
    assert not Subscription.objects.filter(member=world["dora"]).exists()
    assert Subscription.objects.filter(feed=world["blog"]).count() == 2  # Ben's and Chen's stay


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, params, message",
    [
        ("stream/contents/user/-/label/nope", {}, "Unknown label 'nope'."),
        ("stream/contents/feed/999999999", {}, "Unknown feed '999999999'."),
        ("stream/contents/splice/x", {}, "Unknown stream 'splice/x'."),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"n": "0"},
            "n must be a whole number from 1 to 1000, not '0'.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"n": "1001"},
            "n must be a whole number from 1 to 1000, not '1001'.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"n": "ten"},
            "n must be a whole number from 1 to 1000, not 'ten'.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"c": "%%%"},
            "Broken continuation '%%%': use the one the last page gave.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"r": "x"},
            "r must be d or n (newest first) or o (oldest first), not 'x'.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"xt": "user/-/state/com.google/like"},
            "Unknown state 'user/-/state/com.google/like': use read, unread or starred.",
        ),
        (
            "stream/contents/user/-/state/com.google/reading-list",
            {"ot": "yesterday"},
            "ot must be a Unix time, not 'yesterday'.",
        ),
        ("stream/items/ids", {}, "give exactly one stream as s."),
        (
            "stream/items/ids",
            {"s": "user/-/state/com.google/reading-list", "n": "10001"},
            "n must be a whole number from 1 to 10000, not '10001'.",
        ),
        ("subscription/list", {"output": "xml"}, "only output=json is available."),
    ],
)
def test_bad_input_answers_400_with_a_clear_message(world, dora_app, path, params, message):
    response = dora_app["reader"].get("reader/api/0/" + path, params)

    assert (response.status_code, response.content.decode()) == (400, f"Bad Request: {message}\n")


def test_a_continuation_from_the_other_order_is_refused(world, dora_app):
    reader = dora_app["reader"]
    path = "reader/api/0/stream/contents/user/-/state/com.google/reading-list"
    newest = reader.json(path, {"n": 1})

    response = reader.get(path, {"n": 1, "r": "o", "c": newest["continuation"]})

    assert response.content == b"Bad Request: This continuation belongs to the other order (r).\n"


def test_the_root_answers_ok_for_apps_that_probe_it(world):
    response = GoogleReader().http.get("/api/greader/")

    assert (response.status_code, response.content) == (200, b"OK")


# --- What the API shows is what the web stream shows ------------------------------------------------


def test_hidden_paused_and_private_entries_never_reach_the_api(world, dora_app):
    reader = dora_app["reader"]
    now = timezone.now()
    paused = FeedFactory(title="Paused member's feed")
    pauser = Member.objects.get(pk=world["ana"].pk)
    Subscription.objects.create(member=pauser, feed=paused, kind="account", is_shared=True)
    EntryFactory(feed=paused, title="From a paused member", published_at=now)
    Member.objects.filter(pk=pauser.pk).update(sharing_paused=True)
    EntryFactory(feed=world["blog"], title="Hidden by a facilitator", published_at=now, hidden_at=now)

    body = reader.json("reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"n": 100})
    subscriptions = reader.json("reader/api/0/subscription/list")["subscriptions"]

    assert titles(body) == ["On-call without tears", "Error budgets", "An old post"]
    assert [s["title"] for s in subscriptions] == ["Reliability Weekly"]


# --- Query counts: one item or many, the same queries ------------------------------------------


def _queries(reader: GoogleReader, path: str, params: dict | None = None) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader.get(path, params)  # warm: the app password's last-used time is written at most every 5 minutes
    with CaptureQueriesContext(connection) as captured:
        assert reader.get(path, params).status_code == 200
    return len(captured.captured_queries)


def test_lists_run_the_same_queries_for_one_item_and_many(world, dora_app):
    reader = dora_app["reader"]
    Entry.objects.exclude(pk=world["toot1"].pk).delete()
    calls = [
        ("reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"n": 100}),
        ("reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "n": 100}),
        ("reader/api/0/subscription/list", None),
        ("reader/api/0/unread-count", None),
        ("reader/api/0/tag/list", None),
    ]
    one = [_queries(reader, path, params) for path, params in calls]
    for i in range(40):
        feed = FeedFactory(title=f"More {i}")
        Subscription.objects.create(member=world["chen"], feed=feed, kind="source", is_shared=True, topics=[f"t{i}"])
        EntryFactory(feed=feed, title=f"Many {i}", published_at=timezone.now() - timedelta(minutes=i))
        EntryFactory(feed=world["account"], title=f"Toot {i}", published_at=timezone.now() - timedelta(minutes=i))

    many = [_queries(reader, path, params) for path, params in calls]

    assert one == many
