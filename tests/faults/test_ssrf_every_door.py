"""SSRF through every door: each place a URL enters plnorg refuses forbidden
addresses, and trap servers on a forbidden loopback address see no request.

The legitimate servers run on 127.0.0.2, which the tests allowlist
(FETCH_ALLOWED_PRIVATE_NETWORKS = 127.0.0.2/32); the traps listen on
127.0.0.9, a loopback address outside the allowlist, so any request there
is a hole. Stored-but-never-fetched URLs (workshop online links, material
links, profile links in My PLN, resource library links) must be http(s),
without credentials or control characters; profile and resource links are
tried through their real forms.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from feeds.ingest import feed_fetch
from feeds.models import Feed, FetchLog, Subscription
from feeds.opml import opml_import
from feeds.websub.models import WebSubSubscription
from feeds.websub.services import websub_subscribe
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.feeds.conftest import LocalServer
from tests.feeds.servers import FeedServer, numbered_items, redirect, rss
from tests.feeds.test_fetch import FORBIDDEN_URLS
from tests.feeds.websub.hub import LocalHub, feed_document
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


# --- Profile links (My PLN: link-only platforms store the profile, never fetch it)

PROFILE_LINKS_REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript://www.linkedin.com/in/ana",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://www.linkedin.com/in/ana",
    "https://user:secret@www.linkedin.com/in/ana",
    "https://www.linkedin.com@evil.example/in/ana",
    "https://www.linkedin.com/in/a\nna",
    "https://www.linkedin.com/in/a\tna",
    "https://www.linkedin.com/in/\x00ana",
    "https://www.linkedin.com/in/a\u202ena",
    " javascript:alert(1)",
    "https://x.com/ana\r\nSet-Cookie: x=1",
    "https://user:secret@x.com/ana",
]


def _add_profile(client, platform: str, value: str, **extra):
    return client.post(
        reverse("feeds:subscription_add"),
        {"platform": platform, "value": value, "kind": "account", "share": "no", **extra},
    )


@pytest.mark.parametrize("platform", ["linkedin", "x", ""])
def test_profile_links_are_refused_unless_plain_http(member_client, platform):
    member, client = member_client
    for url in PROFILE_LINKS_REFUSED:
        response = _add_profile(client, platform, url)
        assert response.status_code == 200, url
        assert response.context["add_form"].errors["value"], url
    assert list(Subscription.objects.filter(member=member).values_list("profile_url", flat=True)) == []
    assert not Feed.objects.filter(url__contains="evil.example").exists()


def test_profile_links_accept_a_plain_https_profile(member_client):
    member, client = member_client

    response = _add_profile(client, "linkedin", "https://www.linkedin.com/in/ana")

    assert response.status_code == 302
    subscription = Subscription.objects.get(member=member)
    assert (subscription.profile_url, subscription.feed.url, subscription.feed.status) == (
        "https://www.linkedin.com/in/ana/",
        "https://www.linkedin.com/in/ana/",
        Feed.Status.LINK_ONLY,
    )


def test_a_chosen_feed_keeps_no_unsafe_profile_link(member_client):
    """Picking one of a site's feeds stores the site as the profile link; an
    unsafe site address is dropped, not stored (the feed itself is kept)."""
    member, client = member_client
    # The form itself refuses a NUL character, so that one never gets this far.
    sites = [url for url in STORED_ONLY_REFUSED if "\x00" not in url]
    for n, url in enumerate(sites):
        response = _add_profile(client, "", url, choose=f"https://blog.example.org/feed{n}.xml")
        assert response.status_code == 302, url
    # A bare "site/path" is read as an https address (as everywhere in My PLN).
    kept = {"meet.example.org/room": "https://meet.example.org/room"}
    stored = Subscription.objects.filter(member=member).select_related("feed")
    assert sorted((s.feed.url, s.profile_url, s.feed.site_url) for s in stored) == sorted(
        (f"https://blog.example.org/feed{n}.xml", kept.get(url, ""), kept.get(url, "")) for n, url in enumerate(sites)
    )


# --- Resource library links (stored and shown, never fetched) ----------------------


@pytest.fixture
def facilitator_client(client):
    from members.models import FACILITATORS
    from members.services import role_grant

    member = MemberFactory()
    role_grant(user=member.user, group_name=FACILITATORS)
    client.force_login(member.user)
    return client


def _add_resource(client, url: str):
    return client.post(
        reverse("workshops:resource_create"),
        {"title": "Linked guide", "kind": "guide", "description": "", "url": url, "topic": "", "audience": ""},
    )


def test_resource_library_links_are_refused_unless_plain_http(facilitator_client):
    from workshops.models import Resource

    for url in STORED_ONLY_REFUSED:
        response = _add_resource(facilitator_client, url)
        assert response.status_code == 200, url
        assert response.context["form"].errors, url
    assert list(Resource.objects.filter(title="Linked guide").values_list("url", flat=True)) == []


def test_resource_library_links_accept_plain_https(facilitator_client):
    from workshops.models import Resource

    response = _add_resource(facilitator_client, "https://meet.example.org/guide?id=1")

    assert response.status_code == 302
    assert list(Resource.objects.filter(title="Linked guide").values_list("url", flat=True)) == [
        "https://meet.example.org/guide?id=1"
    ]


def test_a_hub_a_feed_advertises_is_never_contacted_at_a_forbidden_address(hosts):
    """WebSub: the hub URL comes from the feed (third-party input); the
    subscription request goes through the safe fetcher, redirects included."""
    legit, _trap = hosts
    trap_hub = LocalHub(TRAP_HOST)
    redirector = LocalServer(LEGIT_HOST)
    redirector.redirect("/hub", trap_hub.url, status=307)
    hubs = [*TABLE, trap_hub.url, f"{redirector.url}/hub"]
    errors = []
    try:
        for n, hub in enumerate(hubs):
            document = feed_document(hub_url=hub, self_url=None, items=[("a", "A")])
            feed = FeedFactory(url=legit.set(f"/pushed{n}.xml", document))
            SubscriptionFactory(feed=feed)
            feed_fetch(feed_id=feed.pk)
            subscription = WebSubSubscription.objects.get(feed=feed)

            assert websub_subscribe(subscription_id=subscription.pk) is False, hub

            subscription.refresh_from_db()
            assert subscription.state == "failed", hub
            errors.append(subscription.last_error)
    finally:
        trap_hub.stop()
        redirector.stop()
    assert trap_hub.requests == []
    assert [e for e in errors if not e.startswith("plnorg could not reach the hub: ")] == []
    assert errors[-1] == (
        "plnorg could not reach the hub: The site redirected to another address, and that address points back "
        "to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    )
