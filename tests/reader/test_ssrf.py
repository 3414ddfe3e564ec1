"""Subscribing from a reading app is one more door a URL comes in by: it
refuses every forbidden address like My PLN's form, and a trap server on a
forbidden loopback address sees no request (as tests/faults/test_ssrf_every_door.py)."""

import pytest

from feeds.models import Feed, Subscription
from feeds.reader.services.app_passwords import app_password_create
from tests.feeds.servers import FeedServer, numbered_items, redirect, rss
from tests.feeds.test_fetch import FORBIDDEN_URLS
from tests.reader.clients import GoogleReader

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

LEGIT_HOST, TRAP_HOST = "127.0.0.2", "127.0.0.9"


@pytest.fixture
def hosts(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = [f"{LEGIT_HOST}/32"]
    legit, trap = FeedServer(LEGIT_HOST), FeedServer(TRAP_HOST)
    trap.set("/feed.xml", rss(numbered_items(2, prefix="trap")))
    yield legit, trap
    legit.stop()
    trap.stop()
    assert sum(trap.hits.values()) == 0, f"the trap saw requests: {dict(trap.hits)}"


@pytest.fixture
def reader(world):
    made = app_password_create(member=world["dora"], name="App")
    client = GoogleReader()
    client.client_login("dora@example.org", made.password)
    return client


def test_quickadd_and_subscribe_refuse_every_forbidden_address(hosts, world, reader):
    legit, trap = hosts
    moved = legit.handle("/moved.xml", redirect(trap.url("/feed.xml"), 301))
    for url in [url for url, _m, _a in FORBIDDEN_URLS] + [trap.url("/feed.xml"), moved]:
        quick = reader.post("reader/api/0/subscription/quickadd", {"quickadd": url})
        edit = reader.post("reader/api/0/subscription/edit", {"ac": "subscribe", "s": f"feed/{url}"})
        assert quick.status_code == edit.status_code == 400, url
        assert quick.json()["numResults"] == 0 and quick.json()["error"], url
        assert edit.content.startswith(b"Bad Request: "), url
    assert Subscription.objects.filter(member=world["dora"]).count() == 0
    assert not Feed.objects.filter(url__contains=TRAP_HOST).exists()


def test_a_legitimate_feed_is_added_as_a_private_source(hosts, world, reader):
    legit, _trap = hosts
    url = legit.set("/feed.xml", rss(numbered_items(2, prefix="ok")))

    response = reader.post(
        "reader/api/0/subscription/edit", {"ac": "subscribe", "s": f"feed/{url}", "a": "user/-/label/Ops"}
    )

    assert (response.status_code, response.content) == (200, b"OK")
    sub = Subscription.objects.get(member=world["dora"], feed__url=url)
    assert (sub.kind, sub.is_shared, sub.topics) == ("source", False, ["ops"])
