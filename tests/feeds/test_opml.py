"""OPML import (four exporters' shapes, bad files) and export, and a round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from feeds.models import Subscription
from feeds.opml import OPMLError, opml_export, opml_import, opml_parse
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "opml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def topics_by_url(member) -> dict[str, list[str]]:
    return dict(Subscription.objects.filter(member=member).values_list("feed__url", "topics"))


def test_feedly_export_folders_become_topics():
    member = MemberFactory()

    report = opml_import(member=member, content=fixture("feedly.opml"), is_shared=False)

    assert report.added == 3
    assert topics_by_url(member) == {
        "https://simonwillison.net/atom/everything/": ["tech"],
        "https://jvns.ca/atom.xml": ["tech"],
        "https://jarche.com/feed/": ["learning"],
    }
    assert not Subscription.objects.filter(member=member, is_shared=True).exists()


def test_inoreader_export_nested_folders_and_text_without_title():
    feeds = opml_parse(fixture("inoreader.opml"))

    assert [(f.title, f.url, f.site_url, f.topics) for f in feeds] == [
        ("Flowing Data", "https://flowingdata.com/feed", "https://flowingdata.com", ("data",)),
        (
            "Information is Beautiful",
            "https://informationisbeautiful.net/feed/",
            "https://informationisbeautiful.net",
            ("data", "visualising"),
        ),
        ("Podcast: Learning Out Loud", "https://podcast.example.org/feed.xml", "https://podcast.example.org/", ()),
    ]


def test_miniflux_export_reports_bad_refused_and_duplicate_rows_and_keeps_good_ones():
    member = MemberFactory()
    kept = SubscriptionFactory(member=member)

    report = opml_import(member=member, content=fixture("miniflux.opml"), is_shared=True)

    assert [(r.position, r.outcome, r.message) for r in report.rows] == [
        (1, "added", ""),
        (2, "refused", "That address is missing http:// or https:// at the start."),
        (3, "refused", "That address is not a public internet address, so plnorg will not fetch it."),
        (4, "duplicate", "Listed twice: already imported as feed #1."),
    ]
    assert set(Subscription.objects.filter(member=member).values_list("feed__url", flat=True)) == {
        kept.feed.url,
        "https://lwn.net/headlines/rss",
    }
    assert Subscription.objects.get(member=member, feed__url="https://lwn.net/headlines/rss").topics == ["all"]


def test_netnewswire_export_top_level_and_folder():
    member = MemberFactory()

    opml_import(member=member, content=fixture("netnewswire.opml"), is_shared=False)

    assert topics_by_url(member) == {
        "https://daringfireball.net/feeds/main": [],
        "https://alistapart.com/main/feed/": ["design"],
    }


def test_import_twice_says_already_there():
    member = MemberFactory()
    opml_import(member=member, content=fixture("netnewswire.opml"), is_shared=False)

    report = opml_import(member=member, content=fixture("netnewswire.opml"), is_shared=False)

    assert [r.outcome for r in report.rows] == ["already", "already"]
    assert Subscription.objects.filter(member=member).count() == 2


def test_billion_laughs_is_refused_before_expansion():
    with pytest.raises(OPMLError) as refused:
        opml_parse(fixture("billion_laughs.opml"))

    assert refused.value.message.startswith("That file declares a DTD or entities")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,url\nx,https://example.com", "That file is not an OPML file: it is not valid XML (line 1, column 0)."),
        (b"<rss version='2.0'><channel/></rss>", "That file is XML but not OPML: it does not start with <opml>."),
        (b"<opml version='2.0'><head/></opml>", "That OPML file has no <body>, so it lists no feeds."),
    ],
)
def test_files_that_are_not_opml_are_refused_with_a_reason(content, message):
    with pytest.raises(OPMLError) as refused:
        opml_parse(content)

    assert refused.value.message == message


def test_hundreds_of_outlines_import_without_fetching():
    member = MemberFactory()
    outlines = "".join(f'<outline text="Feed {n}" xmlUrl="https://site{n}.example.com/feed"/>' for n in range(400))
    content = f'<opml version="2.0"><body><outline text="Bulk">{outlines}</outline></body></opml>'.encode()

    report = opml_import(member=member, content=content, is_shared=False)

    assert report.added == 400
    assert Subscription.objects.filter(member=member, feed__last_fetched_at__isnull=True).count() == 400


def test_import_page_never_fetches_so_slow_feeds_cannot_hold_the_request(client, slow_site):
    """An OPML file naming a slow site's page and feeds imports without one request to it."""
    member = MemberFactory()
    client.force_login(member.user)
    outlines = [slow_site.url, *slow_site.feeds, *(f"{slow_site.server.url}/more/{n}.xml" for n in range(189))]
    body = "".join(f'<outline text="Feed {n}" xmlUrl="{url}"/>' for n, url in enumerate(outlines))
    upload = SimpleUploadedFile("slow.opml", f'<opml version="2.0"><body>{body}</body></opml>'.encode())

    response = client.post(reverse("feeds:opml_import"), {"file": upload, "kind": "source", "share": "no"})

    assert "200 added, out of 200 feeds in the file." in text_of(response)
    assert Subscription.objects.filter(member=member, feed__last_fetched_at__isnull=True).count() == 200
    assert slow_site.server.requests == []


def test_round_trip_export_then_import_into_a_fresh_member():
    ana = MemberFactory()
    SubscriptionFactory(member=ana, feed=FeedFactory(title="One"), topics=["data", "python"])
    SubscriptionFactory(member=ana, feed=FeedFactory(title="Two"), topics=[])
    SubscriptionFactory(member=ana, feed=FeedFactory(title="Three"), topics=["data"])
    SubscriptionFactory(member=ana, kind="account")  # accounts are not exported
    fresh = MemberFactory()

    opml_import(member=fresh, content=opml_export(member=ana), is_shared=False)

    assert topics_by_url(fresh) == dict(
        Subscription.objects.filter(member=ana, kind="source").values_list("feed__url", "topics")
    )


def test_import_page_shows_the_report_and_export_downloads(client):
    member = MemberFactory()
    client.force_login(member.user)
    upload = SimpleUploadedFile("miniflux.opml", fixture("miniflux.opml"), content_type="text/x-opml")

    response = client.post(reverse("feeds:opml_import"), {"file": upload, "kind": "source", "share": "no"})
    export = client.get(reverse("feeds:opml_export"))

    page = text_of(response)
    assert "1 added, out of 4 feeds in the file." in page
    assert "Listed twice: already imported as feed #1." in page
    assert export["Content-Type"] == "text/x-opml; charset=utf-8"
    assert b'xmlUrl="https://lwn.net/headlines/rss"' in export.content


def test_import_page_refuses_entity_tricks_next_to_the_field(client):
    member = MemberFactory()
    client.force_login(member.user)
    upload = SimpleUploadedFile("x.opml", fixture("billion_laughs.opml"))

    response = client.post(reverse("feeds:opml_import"), {"file": upload, "kind": "source", "share": "no"})

    assert "That file declares a DTD or entities" in text_of(response)
    assert not Subscription.objects.filter(member=member).exists()
