"""Hostile and broken feeds: each ends as a recorded, readable error or as clean entries.

Every case is served by a local server and goes through the real fetch →
parse → store path (`feed_fetch`), with the FetchLog and the feed's error as
members see them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from feeds.ingest import feed_fetch
from feeds.models import Entry, Feed, FetchLog
from tests.factories import FeedFactory
from tests.feeds.servers import FeedServer, drip, gzip_bomb, redirect, rss, silent, unbounded

pytestmark = pytest.mark.django_db

UNSAFE = re.compile(
    r"<script|<style|<iframe|<form|<svg|<math|<object|<embed|<base|<meta|<input|\son\w+=|javascript:|data:text",
    re.IGNORECASE,
)
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>&lol3;</title></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title></item></channel></rss>"""


@pytest.fixture
def server(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    settings.FEED_MAX_BYTES = 1024 * 1024
    settings.FEED_FETCH_DEADLINE_SECONDS = 2.0
    local = FeedServer("127.0.0.61")
    yield local
    local.stop()


def fetch_error(url: str) -> str:
    feed = FeedFactory(url=url)
    outcome = feed_fetch(feed_id=feed.pk)
    feed.refresh_from_db()
    log = FetchLog.objects.get(feed=feed)
    assert outcome.outcome == "error"
    assert (feed.error_count, log.outcome, log.error) == (1, "error", feed.last_error)
    assert feed.next_fetch_at > timezone.now()
    assert not Entry.objects.filter(feed=feed).exists()
    return feed.last_error


@pytest.mark.parametrize(
    ("name", "body", "options", "message"),
    [
        ("malformed", b"<rss><channel><title>x</title><item>", {}, "The feed could not be read (no element found) and no entries"),
        ("html", b"<!DOCTYPE html><html><head><title>Blog</title></head><body>Hi</body></html>", {"content_type": "text/html"},
         "The address returned a web page (HTML), not a feed. Check the feed address."),
        ("empty", b"", {}, "The feed address returned an empty page."),
        ("file path", b"/etc/passwd", {"content_type": "text/plain"}, "The address did not return a feed plnorg could read"),
        ("billion laughs", LAUGHS, {}, "The feed declares XML entities (<!ENTITY>), which plnorg refuses for safety"),
        ("external entity", XXE, {}, "The feed declares XML entities (<!ENTITY>), which plnorg refuses for safety"),
        ("over cap with length", b"<rss>" + b"x" * (2 * 1024 * 1024), {}, "The response was larger than 1 MB."),
        ("not found", b"gone", {"status": 404}, "The feed address was not found (404). The site may have moved it."),
        ("server error", b"oops", {"status": 500}, "The site had a server error (500 Internal Server Error)."),
    ],
)  # fmt: skip
def test_broken_documents_are_readable_errors(server, name, body, options, message):
    url = server.set("/feed.xml", body, **options)
    assert fetch_error(url).startswith(message)


def test_gzip_bomb_is_refused(server):
    url = server.handle("/bomb.xml", gzip_bomb(64 * 1024 * 1024))
    assert fetch_error(url) == "The response was larger than 1 MB."


def test_over_cap_without_content_length_is_refused(server):
    url = server.handle("/big.xml", unbounded(total_bytes=8 * 1024 * 1024))
    assert fetch_error(url) == "The response was larger than 1 MB."


@pytest.mark.timeout(30)
def test_drip_server_hits_the_deadline(server):
    url = server.handle("/drip.xml", drip(rss([{"title": "x"}] * 50), interval_seconds=0.2))
    assert fetch_error(url) == "The server took too long to answer."


@pytest.mark.timeout(30)
def test_silent_server_hits_the_deadline(server):
    url = server.handle("/silent.xml", silent(10))
    assert fetch_error(url) == "The server took too long to answer."


def test_redirect_loop_stops(server):
    server.handle("/a.xml", redirect(server.url("/b.xml"), 302))
    server.handle("/b.xml", redirect(server.url("/a.xml"), 302))
    assert fetch_error(server.url("/a.xml")).startswith("The site redirected more than 5 times")


def test_redirect_to_a_private_address_is_refused(server):
    url = server.handle("/meta.xml", redirect("http://169.254.169.254/latest/meta-data/", 302))
    assert fetch_error(url).startswith("The site redirected to another address, and that address is a link-local")


def test_wrong_and_missing_encodings_still_give_entries(server):
    latin = rss([{"guid": "1", "title": "Café crème"}]).replace(
        b"Caf\xc3\xa9 cr\xc3\xa8me", "Café crème".encode("latin-1")
    )
    feed_wrong = FeedFactory(url=server.set("/wrong.xml", latin, content_type="application/rss+xml; charset=utf-8"))
    undeclared = b'<rss version="2.0"><channel><item><guid>2</guid><title>Plain</title></item></channel></rss>'
    feed_missing = FeedFactory(url=server.set("/missing.xml", undeclared, content_type="application/xml"))

    wrong, missing = feed_fetch(feed_id=feed_wrong.pk), feed_fetch(feed_id=feed_missing.pk)

    assert (wrong.new_entries, missing.new_entries) == (1, 1)
    assert Entry.objects.get(feed=feed_missing).title == "Plain"
    assert Entry.objects.get(feed=feed_wrong).identity == "1"


def test_duplicate_guids_and_missing_ids_links_dates(server):
    body = rss(
        [
            {"guid": "dup", "title": "First"},
            {"guid": "dup", "title": "Second"},
            {"title": "No id, no link, no date", "description": "x"},
            {"link": "https://blog.example.org/only-link", "title": "Only a link"},
        ]
    )
    feed = FeedFactory(url=server.set("/dups.xml", body))
    before = timezone.now()

    outcome = feed_fetch(feed_id=feed.pk)
    again = feed_fetch(feed_id=feed.pk)

    entries = {e.title: e for e in Entry.objects.filter(feed=feed)}
    assert (outcome.new_entries, again.new_entries, again.updated_entries) == (3, 0, 0)
    assert set(entries) == {"First", "No id, no link, no date", "Only a link"}
    assert entries["Only a link"].identity == "https://blog.example.org/only-link"
    assert entries["No id, no link, no date"].identity.startswith("sha256:")
    assert all(before <= e.published_at <= timezone.now() for e in entries.values())


def test_far_future_dates_are_clamped_to_fetch_time(server):
    body = rss([{"guid": "future", "title": "From 2999", "pub_date": "Tue, 01 Jan 2999 00:00:00 GMT"}])
    feed = FeedFactory(url=server.set("/future.xml", body))

    feed_fetch(feed_id=feed.pk)

    entry = Entry.objects.get(feed=feed)
    assert timezone.now() - timedelta(minutes=1) <= entry.published_at <= timezone.now()
    assert Feed.objects.get(pk=feed.pk).last_published_at == entry.published_at


def test_hostile_content_is_stored_clean(server):
    hostile = (
        '<p onclick="steal()">Hello<script>alert(1)</script></p>'
        '<img src="x.png" onerror="alert(2)"><img src="https://t.example/px.gif" width="1" height="1">'
        '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">'
        '<form action="https://evil.example/"><input name="pw"><button>Log in</button></form>'
        '<svg onload="alert(3)"><script>alert(4)</script></svg><math><maction>x</maction></math>'
        '<iframe src="https://evil.example/"></iframe><a href="javascript:alert(5)">click</a>'
        '<a href="https://good.example/read?utm_source=feed">good</a>'
    )
    body = rss([{"guid": "h", "title": "<b>Bold</b> <script>x</script>title", "link": "javascript:alert(6)",
                 "description": hostile, "enclosure": "javascript:alert(7)"}])  # fmt: skip
    body = body.replace(b"</item>", b'<media:thumbnail url="javascript:alert(8)"/></item>').replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
    )
    feed = FeedFactory(url=server.set("/hostile.xml", body))

    feed_fetch(feed_id=feed.pk)

    entry = Entry.objects.get(feed=feed)
    assert UNSAFE.search(entry.summary + entry.content) is None
    assert entry.title == "Bold title"
    assert (entry.link, entry.enclosure_url, entry.image_url) == ("", "", "")
    assert entry.summary == (
        '<p>Hello</p><img src="https://blog.example.org/x.png">'
        '<a rel="noopener noreferrer nofollow">click</a>'
        '<a href="https://good.example/read?utm_source=feed" rel="noopener noreferrer nofollow">good</a>'
    )
    assert list(entry.links.values_list("url", flat=True)) == ["https://good.example/read"]
