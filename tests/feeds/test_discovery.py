"""Feed discovery against local servers serving real-shaped pages and feeds."""

from __future__ import annotations

import json
import time

import pytest

from feeds.discovery import Candidate, DiscoveryTimedOut, NoFeedFound, discover
from feeds.fetch import FetchError, FetchTimeout, ForbiddenAddress
from tests.feeds.servers import silent

ALLOW = ["127.0.0.0/8"]
NO_FEED = "We couldn't find a feed on that page. If the site has an RSS or Atom link, paste it directly."


def rss(title: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>{title}</title>
  <link>https://example.com/</link>
  <description>Posts</description>
  <item><title>Hello</title><link>https://example.com/hello</link><guid>1</guid></item>
</channel>
</rss>"""


def atom(title: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{title}</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-01-01T00:00:00Z</updated>
  <entry><title>Hello</title><id>urn:1</id><updated>2024-01-01T00:00:00Z</updated></entry>
</feed>"""


def json_feed(title: str) -> str:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": title, "items": []})


def page(head: str, body: str = "<p>Hello</p>") -> str:
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n{head}\n</head>\n<body>{body}</body>\n</html>'


@pytest.fixture
def site(serve):
    return serve("127.0.0.2")


def test_discover_wordpress_blog_feed_and_comments_feed(site):
    base = site.url
    site.route(
        "/",
        page(
            f"""<title>Ana&#039;s Blog</title>
<link rel='dns-prefetch' href='//s.w.org' />
<link rel="alternate" type="application/rss+xml" title="Ana&#039;s Blog &raquo; Feed" href="{base}/feed/" />
<link rel="alternate" type="application/rss+xml" title="Ana&#039;s Blog &raquo; Comments Feed" href="{base}/comments/feed/" />
<link rel="https://api.w.org/" href="{base}/wp-json/" />
<link rel="alternate" title="JSON" type="application/json" href="{base}/wp-json/wp/v2/pages/2" />
<link rel="alternate" type="application/json+oembed" href="{base}/wp-json/oembed/1.0/embed?url=x" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{base}/xmlrpc.php?rsd" />"""
        ),
        content_type="text/html; charset=UTF-8",
    )
    site.route("/feed/", rss("Ana's Blog"), content_type="application/rss+xml; charset=UTF-8")
    site.route("/comments/feed/", rss("Comments for Ana's Blog"), content_type="application/rss+xml; charset=UTF-8")
    site.route("/wp-json/wp/v2/pages/2", json.dumps({"id": 2, "title": {"rendered": "About"}}))

    candidates = discover(base + "/", allowed_networks=ALLOW)

    assert candidates == [
        Candidate(url=f"{base}/feed/", title="Ana's Blog » Feed", kind="rss"),
        Candidate(url=f"{base}/comments/feed/", title="Ana's Blog » Comments Feed", kind="rss"),
    ]
    assert "/wp-json/oembed/1.0/embed?url=x" not in [request.path for request in site.requests]


def test_discover_ghost_blog(site):
    site.route(
        "/",
        page(f'<link rel="alternate" type="application/rss+xml" title="Ghost Notes" href="{site.url}/rss/">'),
    )
    site.route("/rss/", rss("Ghost Notes"), content_type="text/xml; charset=utf-8")

    assert discover(site.url + "/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/rss/", title="Ghost Notes", kind="rss")
    ]


def test_discover_hugo_site_with_relative_href(site):
    site.route(
        "/posts/",
        page('<link rel="alternate" type="application/rss+xml" href="/posts/index.xml" title="Posts on My Site" />'),
    )
    site.route("/posts/index.xml", rss("Posts on My Site"), content_type="application/rss+xml")

    assert discover(site.url + "/posts/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/posts/index.xml", title="Posts on My Site", kind="rss")
    ]


def test_discover_substack_publication(site):
    site.route(
        "/",
        page(
            f'<link rel="alternate" type="application/rss+xml" href="{site.url}/feed" title="Ana&#39;s Newsletter"/>'
            '<meta property="og:type" content="website"/>'
        ),
    )
    site.route("/feed", rss("Ana's Newsletter"), content_type="application/xml; charset=utf-8")

    assert discover(site.url, allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/feed", title="Ana's Newsletter", kind="rss")
    ]


def test_discover_youtube_channel_page(site):
    channel_id = "UCBR8-60-B28hp2BmDPdntcQ"
    feed_path = f"/feeds/videos.xml?channel_id={channel_id}"
    site.route(
        "/@YouTube",
        page(
            '<link rel="canonical" href="https://www.youtube.com/channel/UCBR8-60-B28hp2BmDPdntcQ">'
            f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{site.url}{feed_path}">'
            '<link rel="alternate" media="handheld" href="https://m.youtube.com/@YouTube">'
        ),
    )
    site.route(
        feed_path,
        """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=UCBR8-60-B28hp2BmDPdntcQ"/>
 <id>yt:channel:BR8-60-B28hp2BmDPdntcQ</id>
 <yt:channelId>BR8-60-B28hp2BmDPdntcQ</yt:channelId>
 <title>YouTube</title>
 <published>2005-09-20T00:00:00+00:00</published>
</feed>""",
        content_type="text/xml; charset=UTF-8",
    )

    assert discover(site.url + "/@YouTube", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}{feed_path}", title="RSS", kind="atom")
    ]


def test_discover_page_with_several_feeds_keeps_page_order_and_drops_duplicates_and_broken_links(site):
    site.route(
        "/",
        page(
            '<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">'
            f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{site.url}/rss.xml">'
            '<link rel="alternate" type="application/feed+json" title="JSON" href="feed.json">'
            '<link rel="alternate" type="application/rss+xml" title="RSS again" href="/rss.xml#dup">'
            '<link rel="alternate" type="application/rss+xml" title="Gone" href="/gone.xml">'
            '<link rel="alternate" type="application/rss+xml" title="Not a feed" href="/page.html">'
            '<link rel="alternate" type="application/rss+xml" title="Intranet" href="http://10.1.2.3/feed">'
            '<link rel="alternate" type="application/rss+xml" title="Script" href="javascript:alert(1)">'
            '<LINK REL="Alternate Feed" TYPE="Application/Atom+XML; charset=utf-8" HREF="/upper.xml" TITLE=" Upper  case ">'
        ),
    )
    site.route("/atom.xml", atom("Atom feed"), content_type="application/atom+xml")
    site.route("/rss.xml", rss("RSS feed"), content_type="application/rss+xml")
    site.route("/feed.json", json_feed("JSON feed"), content_type="application/feed+json")
    site.route("/page.html", page(""), content_type="text/html")
    site.route("/upper.xml", atom("Upper"), content_type="application/atom+xml")

    candidates = discover(site.url + "/", allowed_networks=ALLOW)

    assert candidates == [
        Candidate(url=f"{site.url}/atom.xml", title="Atom", kind="atom"),
        Candidate(url=f"{site.url}/rss.xml", title="RSS", kind="rss"),
        Candidate(url=f"{site.url}/feed.json", title="JSON", kind="json"),
        Candidate(url=f"{site.url}/upper.xml", title="Upper case", kind="atom"),
    ]
    assert [request.path for request in site.requests].count("/rss.xml") == 1


def test_discover_resolves_hrefs_against_base_href(site):
    site.route(
        "/articles/2024/post.html",
        page(
            f'<base href="{site.url}/blog/">'
            '<link rel="alternate" type="application/rss+xml" title="Blog" href="feed.xml">'
            '<link rel="alternate" type="application/atom+xml" title="Other" href="../other/atom.xml">'
        ),
    )
    site.route("/blog/feed.xml", rss("Blog"))
    site.route("/other/atom.xml", atom("Other"))

    assert discover(site.url + "/articles/2024/post.html", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/blog/feed.xml", title="Blog", kind="rss"),
        Candidate(url=f"{site.url}/other/atom.xml", title="Other", kind="atom"),
    ]


def test_discover_relative_href_without_base_and_protocol_relative_href(site):
    site.route(
        "/blog/post",
        page(
            '<link rel="alternate" type="application/rss+xml" title="Relative" href="feed.xml">'
            f'<link rel="alternate" type="application/atom+xml" title="Scheme-relative" href="//127.0.0.2:{site.port}/atom">'
        ),
    )
    site.route("/blog/feed.xml", rss("Relative"))
    site.route("/atom", atom("Scheme-relative"))

    assert discover(site.url + "/blog/post", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/blog/feed.xml", title="Relative", kind="rss"),
        Candidate(url=f"{site.url}/atom", title="Scheme-relative", kind="atom"),
    ]


def test_discover_link_without_title_uses_the_feed_title(site):
    site.route("/", page('<link rel="alternate" type="application/rss+xml" href="/rss">'))
    site.route("/rss", rss("The Feed's Own Title"))

    assert discover(site.url + "/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/rss", title="The Feed's Own Title", kind="rss")
    ]


def test_discover_decodes_the_page_in_its_declared_charset(site):
    html = page('<link rel="alternate" type="application/rss+xml" title="Café crème" href="/feed">')
    site.route("/", html.replace('<meta charset="utf-8">', '<meta charset="windows-1252">').encode("cp1252"))
    site.route("/feed", rss("Cafe"))

    assert discover(site.url + "/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/feed", title="Café crème", kind="rss")
    ]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "expected_title", "kind"),
    [
        ("/feed.xml", rss("An RSS Feed"), "application/rss+xml", "An RSS Feed", "rss"),
        ("/atom", atom("An Atom Feed"), "application/atom+xml", "An Atom Feed", "atom"),
        ("/feed.json", json_feed("A JSON Feed"), "application/feed+json", "A JSON Feed", "json"),
        ("/misconfigured", rss("Served as HTML"), "text/html", "Served as HTML", "rss"),
    ],
)
def test_discover_url_that_is_itself_a_feed(site, path, body, content_type, expected_title, kind):
    site.route(path, body, content_type=content_type)

    assert discover(site.url + path, allowed_networks=ALLOW) == [
        Candidate(url=site.url + path, title=expected_title, kind=kind)
    ]
    assert len(site.requests) == 1


def test_discover_feed_behind_a_permanent_redirect_reports_the_new_address(site):
    site.redirect("/old-feed", "/new-feed", status=301)
    site.route("/new-feed", rss("Moved"))

    assert discover(site.url + "/old-feed", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/new-feed", title="Moved", kind="rss")
    ]


@pytest.mark.parametrize("feed_path", ["/feed", "/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml"])
def test_discover_falls_back_to_the_usual_paths(site, feed_path):
    site.route("/", page("<title>No links here</title>"))
    site.route(feed_path, atom("Found by guessing") if "atom" in feed_path else rss("Found by guessing"))

    assert discover(site.url + "/", allowed_networks=ALLOW) == [
        Candidate(url=site.url + feed_path, title="Found by guessing", kind="atom" if "atom" in feed_path else "rss")
    ]


def test_discover_fallback_tries_the_section_before_the_root(site):
    site.route("/blog/", page("<title>Blog</title>"))
    site.route("/blog/index.xml", rss("Blog section"))
    site.route("/index.xml", rss("Whole site"))

    assert discover(site.url + "/blog/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/blog/index.xml", title="Blog section", kind="rss")
    ]


def test_discover_wordpress_fallback_follows_feed_redirect(site):
    site.route("/", page("<title>Old theme without feed links</title>"))
    site.redirect("/feed", "/feed/", status=301)
    site.route("/feed/", rss("Old WordPress"))

    assert discover(site.url + "/", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/feed/", title="Old WordPress", kind="rss")
    ]


def test_discover_page_without_feed(site):
    site.route("/", page("<title>Plain page</title>"))
    site.route("/feed", page("<title>Not a feed either</title>"), content_type="text/html")

    with pytest.raises(NoFeedFound) as caught:
        discover(site.url + "/", allowed_networks=ALLOW)

    assert str(caught.value) == NO_FEED
    assert isinstance(caught.value, FetchError)
    assert [request.path for request in site.requests] == [
        "/",
        "/feed",
        "/feed/",
        "/rss.xml",
        "/atom.xml",
        "/index.xml",
        "/feed.xml",
    ]


def test_discover_page_whose_links_are_all_broken_falls_back_then_gives_up(site):
    site.route(
        "/",
        page(
            '<link rel="alternate" type="application/rss+xml" title="Gone" href="/gone.xml">'
            '<link rel="alternate" type="application/json" title="API" href="/wp-json/">'
        ),
    )
    site.route("/wp-json/", json.dumps({"name": "Site", "namespaces": []}), content_type="application/json")

    with pytest.raises(NoFeedFound) as caught:
        discover(site.url + "/", allowed_networks=ALLOW)

    assert str(caught.value) == NO_FEED


def test_discover_page_answering_404(site):
    with pytest.raises(NoFeedFound) as caught:
        discover(site.url + "/missing", allowed_networks=ALLOW)

    assert str(caught.value) == (
        "The site answered with an error (HTTP 404), and we couldn't find a feed there. "
        "Check the address, or paste the feed's address directly."
    )


def test_discover_page_answering_404_still_finds_a_feed_at_the_usual_path(site):
    site.route("/feed", rss("Still here"))

    assert discover(site.url + "/missing", allowed_networks=ALLOW) == [
        Candidate(url=f"{site.url}/feed", title="Still here", kind="rss")
    ]


def test_discover_refuses_a_forbidden_page(site):
    site.route("/", page(""))

    with pytest.raises(ForbiddenAddress) as caught:
        discover(site.url + "/", allowed_networks=[])

    assert str(caught.value) == (
        "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    )
    assert site.requests == []


# --------------------------------------------------------------------------
# One time budget for everything discovery fetches
# --------------------------------------------------------------------------


def announce(site, paths: list[str]) -> None:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="Feed {n}" href="{path}">'
        for n, path in enumerate(paths)
    )
    site.route("/", page(links), content_type="text/html; charset=utf-8")


@pytest.mark.timeout(30)
def test_discover_stops_at_the_budget_and_lists_what_it_found_and_what_it_did_not_check(site):
    paths = [f"/feed-{n}.xml" for n in range(10)]
    announce(site, paths)
    for path in paths[:2]:
        site.route(path, rss(f"Fast {path}"), content_type="application/rss+xml")
    for path in paths[2:]:
        site.routes[path] = silent(60)
    started = time.monotonic()

    with pytest.raises(DiscoveryTimedOut) as caught:
        discover(site.url + "/", allowed_networks=ALLOW, deadline_seconds=2)

    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2.0 + 1.5
    assert isinstance(caught.value, FetchTimeout)
    assert str(caught.value) == (
        "The site answers slowly: plnorg stopped looking for its feeds after 2 seconds and saved nothing. "
        f"Feeds found: Feed 0 ({site.url}/feed-0.xml); Feed 1 ({site.url}/feed-1.xml). "
        "Not checked in time: " + ", ".join(site.url + path for path in paths[2:]) + ". "
        "To add one of them, paste its address."
    )
    assert caught.value.found == [
        Candidate(url=f"{site.url}/feed-0.xml", title="Feed 0", kind="rss"),
        Candidate(url=f"{site.url}/feed-1.xml", title="Feed 1", kind="rss"),
    ]
    assert caught.value.unchecked == [site.url + path for path in paths[2:]]
    # Four checks at a time: the two fast feeds, then four slow ones held
    # until the deadline; the last four were never requested, and no usual
    # path was guessed.
    assert sorted(request.path for request in site.requests) == sorted(["/", *paths[:6]])


@pytest.mark.timeout(30)
def test_discover_page_announcing_ten_slow_feeds_found_none_in_time(site):
    paths = [f"/slow/{n}.xml" for n in range(10)]
    announce(site, paths)
    for path in paths:
        site.routes[path] = silent(60)
    started = time.monotonic()

    with pytest.raises(DiscoveryTimedOut) as caught:
        discover(site.url + "/", allowed_networks=ALLOW, deadline_seconds=1.5)

    assert time.monotonic() - started < 1.5 + 1.5
    assert str(caught.value) == (
        "The site answers slowly: plnorg stopped looking for its feeds after 1.5 seconds and saved nothing. "
        "Feeds found: none. Not checked in time: " + ", ".join(site.url + path for path in paths) + ". "
        "To add one of them, paste its address."
    )


@pytest.mark.timeout(30)
def test_discover_page_that_does_not_answer_within_the_budget(site):
    site.routes["/"] = silent(60)
    started = time.monotonic()

    with pytest.raises(DiscoveryTimedOut) as caught:
        discover(site.url + "/", allowed_networks=ALLOW, deadline_seconds=1)

    assert 1.0 <= time.monotonic() - started < 1.0 + 1.5
    assert str(caught.value) == (
        "The site took longer than 1 second to answer, so plnorg stopped waiting and saved nothing. "
        "Try again later, or paste the address of the feed itself."
    )
    assert (caught.value.found, caught.value.unchecked) == ([], [])


@pytest.mark.timeout(30)
def test_discover_budget_covers_the_usual_paths_too(site):
    site.route("/blog/", page("<title>No links</title>"))
    site.routes["/blog/feed/"] = silent(60)

    with pytest.raises(DiscoveryTimedOut) as caught:
        discover(site.url + "/blog/", allowed_networks=ALLOW, deadline_seconds=1)

    unchecked = [f"{site.url}/blog{path}" for path in ("/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml")]
    unchecked += [
        f"{site.url}{path}" for path in ("/feed", "/feed/", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml")
    ]
    assert caught.value.unchecked == unchecked
    assert [request.path for request in site.requests] == ["/blog/", "/blog/feed", "/blog/feed/"]


def test_discover_default_budget_comes_from_the_setting(site, settings):
    settings.DISCOVERY_DEADLINE_SECONDS = 1
    site.routes["/"] = silent(60)

    with pytest.raises(DiscoveryTimedOut) as caught:
        discover(site.url + "/", allowed_networks=ALLOW)

    assert str(caught.value).startswith("The site took longer than 1 second to answer")
