"""Which hub and topic a feed advertises: Link header first, then the
document (RSS atom:link, Atom link, JSON Feed hubs)."""

from __future__ import annotations

import json

import pytest

from feeds.parse import parse_feed
from feeds.websub.discovery import Advertised, advertised_hub, header_links

FEED = "https://blog.example.org/feed.xml"

RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>T</title><link>https://blog.example.org/</link>
<atom:link rel="hub" href="http://hub.example.org/plain"/>
<atom:link rel="hub" href="https://hub.example.org/secure"/>
<atom:link rel="self" type="application/rss+xml" href="https://blog.example.org/canonical.xml"/>
<item><guid>1</guid><title>a</title></item></channel></rss>"""

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<link rel="hub" href="/hub/"/><link rel="self" href="/atom.xml"/><link href="https://blog.example.org/"/>
<entry><id>1</id><title>a</title><updated>2024-01-01T00:00:00Z</updated></entry></feed>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "feed_url": "https://blog.example.org/feed.json",
        "hubs": [
            {"type": "rssCloud", "url": "https://cloud.example.org/"},
            {"type": "WebSub", "url": "https://hub.example.org/json"},
        ],
        "items": [{"id": "1", "content_text": "a"}],
    }
).encode()


def test_rss_atom_links_give_hubs_and_self():
    parsed = parse_feed(RSS, url=FEED)

    assert parsed.hub_urls == ["http://hub.example.org/plain", "https://hub.example.org/secure"]
    assert parsed.self_url == "https://blog.example.org/canonical.xml"
    assert advertised_hub(parsed=parsed, headers={}, feed_url=FEED) == Advertised(
        "https://hub.example.org/secure", "https://blog.example.org/canonical.xml"
    )  # the https hub is preferred


def test_atom_relative_links_are_made_absolute():
    parsed = parse_feed(ATOM, url="https://blog.example.org/feeds/atom")

    assert (parsed.hub_urls, parsed.self_url) == (
        ["https://blog.example.org/hub/"],
        "https://blog.example.org/atom.xml",
    )


def test_json_feed_websub_hubs_only():
    parsed = parse_feed(JSON_FEED, url=FEED)

    assert (parsed.hub_urls, parsed.self_url) == (
        ["https://hub.example.org/json"],
        "https://blog.example.org/feed.json",
    )


def test_the_link_header_wins_over_the_document():
    parsed = parse_feed(RSS, url=FEED)
    headers = {"link": '<https://push.example.net/>; rel="hub", <https://blog.example.org/topic>; rel="self"'}

    assert advertised_hub(parsed=parsed, headers=headers, feed_url=FEED) == Advertised(
        "https://push.example.net/", "https://blog.example.org/topic"
    )


def test_without_a_self_link_the_topic_is_the_feed_address():
    parsed = parse_feed(ATOM.replace(b'<link rel="self" href="/atom.xml"/>', b""), url=FEED)

    assert advertised_hub(parsed=parsed, headers={}, feed_url=FEED) == Advertised("https://blog.example.org/hub/", FEED)


def test_no_hub_anywhere_means_no_subscription():
    parsed = parse_feed(ATOM.replace(b'<link rel="hub" href="/hub/"/>', b""), url=FEED)

    assert advertised_hub(parsed=parsed, headers={"link": '<https://x.example/>; rel="next"'}, feed_url=FEED) is None


def test_unusable_hub_addresses_are_skipped():
    body = RSS.replace(b"http://hub.example.org/plain", b"javascript:alert(1)").replace(
        b"https://hub.example.org/secure", b"https://hub.example.org/" + b"x" * 1000
    )

    assert advertised_hub(parsed=parse_feed(body, url=FEED), headers={}, feed_url=FEED) is None


@pytest.mark.parametrize(
    ("value", "links"),
    [
        (
            '<https://hub.example/>; rel="hub", <https://ex.org/feed>; rel="self"',
            [("https://hub.example/", {"hub"}), ("https://ex.org/feed", {"self"})],
        ),
        ('<https://hub.example/>; rel="hub self"', [("https://hub.example/", {"hub", "self"})]),
        ("<https://hub.example/>;rel=hub", [("https://hub.example/", {"hub"})]),
        ('<https://hub.example/>; title="a, b; c"; REL="Hub"', [("https://hub.example/", {"hub"})]),
        ('</hub>; rel="hub"', [("https://blog.example.org/hub", {"hub"})]),
        ('<ftp://hub.example/>; rel="hub"', []),
        ("garbage", []),
    ],
)
def test_link_header_parsing(value, links):
    assert [(url, set(rels)) for url, rels in header_links(value, base=FEED)] == links
