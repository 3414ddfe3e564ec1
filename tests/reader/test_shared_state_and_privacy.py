"""One read state for the web page and both APIs, and the consent canary
through every reading-API endpoint."""

import re

import pytest
from django.urls import reverse

from feeds.demo import CANARY_OWNER, CONSENT_CANARY
from feeds.models import Entry
from feeds.reader.services.app_passwords import app_password_create
from members.demo import demo_email
from members.models import Member
from tests.conftest import PERSONAS
from tests.reader.clients import Fever, GoogleReader, long_item_id
from tests.reader.conftest import signed_in

pytestmark = pytest.mark.django_db


def web_unread(client) -> dict[int, str]:
    body = client.get(reverse("feeds:stream")).content.decode()
    return {int(pk): flag for pk, flag in re.findall(r'id="entry-(\d+)" data-entry="\d+" data-unread="([01])"', body)}


def greader_read(reader: GoogleReader, pk: int) -> bool:
    [item] = reader.post("reader/api/0/stream/items/contents", [("i", str(pk))]).json()["items"]
    return "user/-/state/com.google/read" in item["categories"]


def fever_read(fever: Fever, pk: int) -> bool:
    [item] = fever.json("items", with_ids=str(pk))["items"]
    return bool(item["is_read"])


@pytest.fixture
def three_ways(world):
    made = app_password_create(member=world["dora"], name="Both apps")
    reader = GoogleReader()
    reader.client_login("dora@example.org", made.password)
    return signed_in(world["dora"]), reader, Fever("dora@example.org", made.password)


def test_marked_on_the_web_read_in_both_apps(world, three_ways):
    web, reader, fever = three_ways
    pk = world["toot2"].pk
    before = (greader_read(reader, pk), fever_read(fever, pk))

    web.post(reverse("reader:entry_read", kwargs={"entry_id": pk}), {"read": "1"})

    assert before == (False, False)
    assert (web_unread(web)[pk], greader_read(reader, pk), fever_read(fever, pk)) == ("0", True, True)


def test_marked_in_the_google_reader_app_read_on_the_web_and_in_fever(world, three_ways):
    web, reader, fever = three_ways
    pk = world["post1"].pk

    reader.post("reader/api/0/edit-tag", [("i", long_item_id(pk)), ("a", "user/-/state/com.google/read")])

    assert (web_unread(web)[pk], greader_read(reader, pk), fever_read(fever, pk)) == ("0", True, True)
    assert str(pk) not in fever.json("unread_item_ids")["unread_item_ids"].split(",")


def test_kept_unread_in_fever_unread_on_the_web_and_in_google_reader(world, three_ways):
    web, reader, fever = three_ways
    pk = world["old"].pk  # outside the unread window: read until kept unread
    counted = reader.json("reader/api/0/unread-count")["max"]

    fever.json(mark="item", **{"as": "unread"}, id=pk)

    assert web_unread(web)[pk] == "1"
    assert greader_read(reader, pk) is False
    assert reader.json("reader/api/0/unread-count")["max"] == counted + 1


def test_opening_the_entry_page_reads_it_everywhere(world, three_ways):
    web, reader, fever = three_ways
    pk = world["toot3"].pk

    web.get(reverse("feeds:entry", kwargs={"entry_id": pk}))

    assert (greader_read(reader, pk), fever_read(fever, pk)) == (True, True)


def test_saving_is_starring_in_both_apps(world, three_ways):
    web, reader, fever = three_ways
    pk = world["toot1"].pk

    web.post(reverse("reader:entry_star", kwargs={"entry_id": pk}), {"starred": "1"})
    starred = reader.json("reader/api/0/stream/contents/user/-/state/com.google/starred")

    assert [item["id"] for item in starred["items"]] == [long_item_id(pk)]
    assert fever.json("saved_item_ids")["saved_item_ids"] == str(pk)


# --- The consent canary, on the demo organization -------------------------------------------------


def _everything(reader: GoogleReader, fever: Fever, canary_ids: list[int]) -> list[tuple[str, bytes]]:
    """Every reading-API answer a member can get, including asking for the
    canary's entries by id."""
    answers = []
    for path, params in [
        ("reader/api/0/user-info", None),
        ("reader/api/0/subscription/list", {"output": "json"}),
        ("reader/api/0/tag/list", {"output": "json"}),
        ("reader/api/0/unread-count", {"output": "json"}),
        ("reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"n": 1000}),
        ("reader/api/0/stream/contents/user/-/state/com.google/starred", {"n": 1000}),
        ("reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "n": 10000}),
    ]:
        answers.append((path, reader.get(path, params).content))
    for label in [t["id"] for t in reader.json("reader/api/0/tag/list")["tags"]]:
        answers.append((label, reader.get(f"reader/api/0/stream/contents/{label}", {"n": 1000}).content))
    ids = [("i", str(pk)) for pk in canary_ids]
    answers.append(("items/contents", reader.post("reader/api/0/stream/items/contents", ids).content))
    for flags, values in [
        (("groups",), {}),
        (("feeds",), {}),
        (("items",), {}),
        (("items",), {"with_ids": ",".join(str(pk) for pk in canary_ids[:50])}),
        (("unread_item_ids", "saved_item_ids"), {}),
    ]:
        answers.append(("fever " + " ".join(flags), fever.call(*flags, **values).content))
    return answers


def test_the_consent_canary_reaches_no_one_else_through_either_api(db):
    canary_ids = list(Entry.objects.filter(title__contains=CONSENT_CANARY).values_list("pk", flat=True))
    assert canary_ids, "the demo organization holds the canary's private entries"
    leaks = []
    for persona, local in PERSONAS.items():
        if local is None:
            continue
        member = Member.objects.get(user__email=demo_email(local))
        made = app_password_create(member=member, name="Canary check")
        reader = GoogleReader()
        assert reader.client_login(member.user.email, made.password).status_code == 200
        fever = Fever(member.user.email, made.password)
        for where, body in _everything(reader, fever, canary_ids):
            if CONSENT_CANARY.encode() in body:
                leaks.append(f"{persona}: {where}")
    assert leaks == []


def test_the_canary_owner_sees_their_own_private_sources_listed_but_not_in_the_stream(db):
    owner = Member.objects.get(user__email__startswith=f"{CANARY_OWNER}@")
    made = app_password_create(member=owner, name="Own check")
    reader = GoogleReader()
    reader.client_login(owner.user.email, made.password)

    listed = reader.get("reader/api/0/subscription/list").content
    stream = reader.get("reader/api/0/stream/contents/user/-/state/com.google/reading-list", {"n": 1000}).content

    # The check is not vacuous: the owner's own list names them...
    assert CONSENT_CANARY.encode() in listed
    # ...and the stream, as on the web, holds only what is shared.
    assert CONSENT_CANARY.encode() not in stream
