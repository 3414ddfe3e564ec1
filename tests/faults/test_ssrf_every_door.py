"""SSRF through every door: each place a URL enters plnorg refuses forbidden
addresses, and trap servers on a forbidden loopback address see no request.

The legitimate servers run on 127.0.0.2, which the tests allowlist
(FETCH_ALLOWED_PRIVATE_NETWORKS = 127.0.0.2/32); the traps listen on
127.0.0.9, a loopback address outside the allowlist, so any request there
is a hole. Stored-but-never-fetched URLs (workshop online links, material
links) must be http(s), without credentials or control characters.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from feeds.ingest import feed_fetch
from feeds.models import Feed, FetchLog, Subscription
from feeds.opml import opml_import
from tests.factories import FeedFactory, MemberFactory
from tests.feeds.servers import FeedServer, numbered_items, redirect, rss
from tests.feeds.test_fetch import FORBIDDEN_URLS
from tests.pages import text_of
from workshops.services.workshop import material_add, online_url_check

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

LEGIT_HOST = "127.0.0.2"
TRAP_HOST = "127.0.0.9"
# A representative slice of the refused-URL table (every kind of reason),
# plus the trap itself.
TABLE = [url for url, _message, _address in FORBIDDEN_URLS]


@pytest.fixture
def hosts(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = [f"{LEGIT_HOST}/32"]
    legit, trap = FeedServer(LEGIT_HOST), FeedServer(TRAP_HOST)
    trap.set("/feed.xml", rss(numbered_items(2, prefix="trap")))
    trap.set("/", b"<html><head><title>trap</title></head></html>", content_type="text/html")
    yield legit, trap
    legit.stop()
    trap.stop()
    assert sum(trap.hits.values()) == 0, f"the trap saw requests: {dict(trap.hits)}"


@pytest.fixture
def member_client(client):
    member = MemberFactory()
    client.force_login(member.user)
    return member, client


def _add(client, value: str, platform: str = ""):
    return client.post(
        reverse("feeds:subscription_add"), {"platform": platform, "value": value, "kind": "source", "share": "no"}
    )


def test_my_pln_by_url_refuses_every_forbidden_address(hosts, member_client):
    _legit, trap = hosts
    member, client = member_client
    for url in [*TABLE, trap.url("/feed.xml"), trap.url("/")]:
        response = _add(client, url)
        assert response.status_code == 200, url
        assert "Handle or web address" in text_of(response)
    assert Subscription.objects.filter(member=member).count() == 0
    assert Feed.objects.filter(url__contains=TRAP_HOST).count() == 0


@pytest.mark.parametrize(
    ("platform", "handle"),
    [("mastodon", f"@ana@{TRAP_HOST}"), ("mastodon", "@ana@169.254.169.254"), ("mastodon", "@ana@[::1]"),
     ("substack", TRAP_HOST), ("blog", f"http://{TRAP_HOST}/"), ("website", "http://10.0.0.1/")],
)  # fmt: skip
def test_my_pln_by_handle_refuses_forbidden_servers(hosts, member_client, platform, handle):
    member, client = member_client

    response = _add(client, handle, platform)

    assert response.status_code == 200
    assert Subscription.objects.filter(member=member).count() == 0
    assert not Feed.objects.filter(url__contains=handle.split("@")[-1].strip("[]/").split("/")[-1]).exists()


def test_discovery_candidates_on_forbidden_addresses_are_not_fetched(hosts, member_client):
    legit, trap = hosts
    member, client = member_client
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="t{n}" href="{url}">'
        for n, url in enumerate([trap.url("/feed.xml"), "http://169.254.169.254/latest/meta-data/", "http://[::1]/"])
    )
    page = legit.set("/blog/", f"<html><head>{links}</head><body>A blog</body></html>", content_type="text/html")

    response = _add(client, page)

    assert legit.hits["/blog/"] == 1
    assert Subscription.objects.filter(member=member).count() == 0
    assert "Handle or web address" in text_of(response)


def test_opml_import_refuses_forbidden_addresses_and_fetches_nothing(hosts):
    _legit, trap = hosts
    member = MemberFactory()
    outlines = "".join(
        f'<outline type="rss" text="f{n}" xmlUrl="{url.replace("&", "&amp;")}"/>'
        for n, url in enumerate([*TABLE, trap.url("/feed.xml"), "javascript:alert(1)", "file:///etc/passwd"])
    )
    outlines += '<outline type="rss" text="ok" xmlUrl="https://blog.example.org/feed.xml"/>'
    document = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'.encode()

    opml_import(member=member, content=document, is_shared=False)

    assert list(Subscription.objects.filter(member=member).values_list("feed__url", flat=True)) == [
        "https://blog.example.org/feed.xml"
    ]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_scheduled_fetch_refuses_a_redirect_to_a_forbidden_address(hosts, status):
    legit, trap = hosts
    feed = FeedFactory(url=legit.handle(f"/moved{status}.xml", redirect(trap.url("/feed.xml"), status)))

    feed_fetch(feed_id=feed.pk, lease=None)

    log = FetchLog.objects.get(feed=feed)
    assert log.outcome == FetchLog.Outcome.ERROR
    assert "not a public internet address" in log.error or "loopback" in log.error.lower(), log.error
    assert legit.hits[f"/moved{status}.xml"] == 1
    assert feed.entries.count() == 0


STORED_ONLY_REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example.org/x",
    "https://user:secret@meet.example.org/room",
    "https://meet.example.org@evil.example/room",
    "https://meet.example.org/ro\nom",
    "https://meet.example.org/ro\tom",
    "https://meet.example.org/\x00room",
    " javascript:alert(1)",
    "//meet.example.org/room",
    "meet.example.org/room",
]


@pytest.mark.parametrize("url", STORED_ONLY_REFUSED)
def test_workshop_online_links_refuse_everything_but_plain_http(url):
    with pytest.raises(ValidationError):
        online_url_check(url)


def test_workshop_online_links_accept_plain_https():
    assert online_url_check("https://meet.example.org/room?id=1") == "https://meet.example.org/room?id=1"


@pytest.mark.parametrize("url", STORED_ONLY_REFUSED[:8])
def test_material_links_refused_unless_plain_http(url):
    from tests.workshops.factories import WorkshopFactory
    from workshops.models import WorkshopMaterial

    workshop = WorkshopFactory()
    with pytest.raises(ValidationError):
        material_add(workshop=workshop, actor=MemberFactory().user, title="Link", url=url)
    assert WorkshopMaterial.objects.filter(workshop=workshop).count() == 0
