"""feeds.parse: RSS, Atom, RDF and JSON Feed to clean entries; identity; refusals."""

import json
from datetime import UTC, datetime

import pytest

from feeds.parse import ParseError, declares_entities, entry_identity, parse_feed

URL = "https://blog.example.org/feed.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Ana &amp; friends</title><link>https://blog.example.org/</link>
<item>
  <guid>urn:ana:1</guid><title>First &lt;em&gt;post&lt;/em&gt;</title><link>/posts/1</link>
  <author>ana@example.org (Ana Silva)</author>
  <pubDate>Tue, 04 Jun 2024 09:30:00 +0200</pubDate>
  <description>&lt;p&gt;Read &lt;a href="/about"&gt;about&lt;/a&gt; and
  &lt;a href="https://news.example/x?utm_source=rss"&gt;this&lt;/a&gt;&lt;/p&gt;</description>
  <enclosure url="https://cdn.example/ep1.mp3" type="audio/mpeg" length="123"/>
  <media:thumbnail url="https://cdn.example/ep1.jpg"/>
</item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom blog</title>
<link rel="alternate" href="https://atom.example/"/>
<entry><id>tag:atom.example,2024:1</id><title type="text">A &amp; B</title>
<link rel="alternate" href="https://atom.example/1"/><updated>2024-05-01T10:00:00Z</updated>
<author><name>Ben</name></author>
<summary type="text">Short &lt;b&gt;text&lt;/b&gt;</summary>
<content type="html">&lt;p&gt;Full&lt;/p&gt;</content></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF</title><link>https://rdf.example/</link></channel>
<item rdf:about="https://rdf.example/1"><title>One</title><link>https://rdf.example/1</link>
<dc:date>2024-02-03T04:05:06Z</dc:date><description>Hello</description></item>
</rdf:RDF>"""


def test_rss_entry_is_clean_and_complete():
    feed = parse_feed(RSS, url=URL)
    [entry] = feed.entries
    assert (feed.title, feed.site_url, feed.format) == ("Ana & friends", "https://blog.example.org/", "rss20")
    assert entry.identity == "urn:ana:1"
    assert entry.title == "First post"
    assert entry.link == "https://blog.example.org/posts/1"
    assert entry.published_at == datetime(2024, 6, 4, 7, 30, tzinfo=UTC)
    assert entry.summary == (
        '<p>Read <a href="https://blog.example.org/about" rel="noopener noreferrer nofollow">about</a> and\n  '
        '<a href="https://news.example/x?utm_source=rss" rel="noopener noreferrer nofollow">this</a></p>'
    )
    assert (entry.enclosure_url, entry.enclosure_type) == ("https://cdn.example/ep1.mp3", "audio/mpeg")
    assert entry.image_url == "https://cdn.example/ep1.jpg"
    assert entry.links == ["https://news.example/x"]
    assert feed.warning == ""


def test_atom_plain_text_summary_is_escaped_and_content_kept():
    [entry] = parse_feed(ATOM, url="https://atom.example/feed").entries
    assert (entry.identity, entry.title, entry.author) == ("tag:atom.example,2024:1", "A & B", "Ben")
    assert entry.summary == "Short &lt;b&gt;text&lt;/b&gt;"
    assert entry.content == "<p>Full</p>"
    assert entry.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_rdf_is_read():
    feed = parse_feed(RDF, url="https://rdf.example/rss")
    assert feed.format == "rss10"
    assert [(e.identity, e.title, e.published_at) for e in feed.entries] == [
        ("https://rdf.example/1", "One", datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC))
    ]


def test_json_feed_is_read():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON blog",
        "home_page_url": "https://json.example/",
        "items": [
            {
                "id": 7,
                "url": "https://json.example/7",
                "title": "Seven",
                "content_html": "<p>Seven <script>x</script></p>",
                "date_published": "2024-03-01T12:00:00+01:00",
                "authors": [{"name": "Chen"}],
                "image": "javascript:alert(1)",
                "attachments": [{"url": "https://json.example/7.mp3", "mime_type": "audio/mpeg"}],
            },
            {"id": "8", "content_text": "Plain <text>\nline two"},
        ],
    }
    feed = parse_feed(json.dumps(document).encode(), url="https://json.example/feed.json")
    first, second = feed.entries
    assert (feed.title, feed.format) == ("JSON blog", "json11")
    assert (first.identity, first.title, first.author, first.summary) == ("7", "Seven", "Chen", "<p>Seven </p>")
    assert first.published_at == datetime(2024, 3, 1, 11, tzinfo=UTC)
    assert (first.image_url, first.enclosure_url) == ("", "https://json.example/7.mp3")
    assert second.summary == "Plain &lt;text&gt;<br>line two"


def test_identity_falls_back_to_link_then_hash():
    when = datetime(2024, 1, 1, tzinfo=UTC)
    assert entry_identity(entry_id=" id-1 ", link="https://x/1", title="T", published_at=when) == "id-1"
    assert entry_identity(entry_id="", link="https://x/1", title="T", published_at=when) == "https://x/1"
    hashed = entry_identity(entry_id=None, link="", title="T", published_at=when)
    assert hashed.startswith("sha256:") and len(hashed) == 71
    assert hashed == entry_identity(entry_id=None, link=None, title="T", published_at=when)
    assert hashed != entry_identity(entry_id=None, link=None, title="T2", published_at=when)


def test_identity_ignores_content_so_edits_are_updates():
    before = parse_feed(
        b'<rss version="2.0"><channel><item><title>T</title><description>v1</description>'
        b"<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item></channel></rss>",
        url=URL,
    )
    after = parse_feed(
        b'<rss version="2.0"><channel><item><title>T</title><description>v2</description>'
        b"<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item></channel></rss>",
        url=URL,
    )
    assert before.entries[0].identity == after.entries[0].identity
    assert before.entries[0].content_hash != after.entries[0].content_hash


def test_duplicate_guids_keep_the_first():
    doc = (
        b'<rss version="2.0"><channel><item><guid>same</guid><title>A</title></item>'
        b"<item><guid>same</guid><title>B</title></item></channel></rss>"
    )
    assert [e.title for e in parse_feed(doc, url=URL).entries] == ["A"]


def test_entry_without_date_has_none():
    doc = b'<rss version="2.0"><channel><item><title>Undated</title></item></channel></rss>'
    assert parse_feed(doc, url=URL).entries[0].published_at is None


def test_plain_doctype_is_fine():
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>Old</title>'
        b"<item><title>x</title><link>https://old.example/1</link></item></channel></rss>"
    )
    assert [e.identity for e in parse_feed(doc, url=URL).entries] == ["https://old.example/1"]


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><rss/>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!entity xxe SYSTEM "file:///etc/passwd">]><rss>&xxe;</rss>',
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY a "b">]><rss/>'.encode("utf-16"),
    ],
)
def test_entity_declarations_are_refused(document):
    assert declares_entities(document)
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(document, url=URL)


def test_bozo_with_entries_is_kept_with_a_warning():
    doc = b'<rss version="2.0"><channel><item><title>Kept</title><link>https://x.example/1</link></item>'
    feed = parse_feed(doc, url=URL)
    assert [e.title for e in feed.entries] == ["Kept"]
    assert feed.warning.startswith("The feed has errors (")
    assert feed.warning.endswith("but 1 entry could be read.")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "The feed address returned an empty page."),
        (b"  \n ", "The feed address returned an empty page."),
        (b"<!DOCTYPE html><html><body>Hi</body></html>", "The address returned a web page (HTML), not a feed."),
        (b"/etc/passwd", "The address did not return a feed plnorg could read"),
        (b'{"hello": "world"}', "The address returned JSON that is not a JSON Feed."),
        (b"{not json", "The feed looks like JSON but could not be read."),
    ],
)
def test_unusable_documents_raise_readable_errors(document, message):
    with pytest.raises(ParseError) as error:
        parse_feed(document, url=URL)
    assert str(error.value).startswith(message)


def test_javascript_urls_are_dropped_from_every_url_field():
    doc = (
        b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item><guid>g</guid>'
        b"<title>x</title><link>javascript:alert(1)</link>"
        b'<enclosure url="javascript:alert(2)" type="audio/mpeg" length="1"/>'
        b'<media:thumbnail url="javascript:alert(3)"/></item></channel></rss>'
    )
    [entry] = parse_feed(doc, url=URL).entries
    assert (entry.link, entry.enclosure_url, entry.enclosure_type, entry.image_url) == ("", "", "", "")


def test_wrong_declared_encoding_still_reads():
    doc = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item><guid>g</guid><title>Café</title></item></channel></rss>'
    feed = parse_feed(doc.encode("latin-1"), url=URL)
    assert len(feed.entries) == 1
    assert feed.entries[0].identity == "g"


def test_str_input_is_refused():
    with pytest.raises(TypeError):
        parse_feed("/etc/passwd", url=URL)  # type: ignore[arg-type]


# --- Very long documents: the newest MAX_ENTRIES are kept, and members are told ---


def _dated_rss(count: int, *, undated: set[int] = frozenset()) -> bytes:
    """RSS with items oldest first (item n published n hours after 2020-01-01)."""
    from datetime import timedelta
    from email.utils import format_datetime

    start = datetime(2020, 1, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        date = "" if n in undated else f"<pubDate>{format_datetime(start + timedelta(hours=n))}</pubDate>"
        items.append(f"<item><guid>urn:long:{n}</guid><title>Post {n}</title>{date}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Long</title>'
        "<link>https://long.example/</link>" + "".join(items) + "</channel></rss>"
    ).encode()


def test_a_10000_entry_feed_keeps_the_newest_500_and_says_so():
    parsed = parse_feed(_dated_rss(10_000), url=URL)

    assert [entry.identity for entry in parsed.entries] == [f"urn:long:{n}" for n in range(9_500, 10_000)]
    assert parsed.notice == "The feed lists 10,000 entries: plnorg kept the newest 500."
    assert parsed.warning == ""


def test_undated_entries_of_a_long_feed_rank_after_the_dated_ones_in_document_order():
    parsed = parse_feed(_dated_rss(600, undated=set(range(200))), url=URL)

    # The 400 dated ones, then the first 100 undated ones; in the document's order.
    kept = [entry.identity for entry in parsed.entries]
    assert kept == [f"urn:long:{n}" for n in [*range(100), *range(200, 600)]]
    assert parsed.notice == "The feed lists 600 entries: plnorg kept the newest 500."


def test_a_feed_of_500_entries_is_kept_whole_without_a_notice():
    parsed = parse_feed(_dated_rss(500), url=URL)

    assert (len(parsed.entries), parsed.notice) == (500, "")


def test_a_long_json_feed_keeps_the_newest_500_and_says_so():
    items = [
        {"id": str(n), "title": f"Item {n}", "date_published": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"}
        for n in range(1_200)
    ]
    items.reverse()  # newest first, as most feeds list them; items 0-3599 s in
    document = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}).encode()

    parsed = parse_feed(document, url=URL)

    assert [entry.identity for entry in parsed.entries] == [str(n) for n in range(1_199, 699, -1)]
    assert parsed.notice == "The feed lists 1,200 entries: plnorg kept the newest 500."
