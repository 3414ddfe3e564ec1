"""feeds.saxdriver: feedparser reads XML with expat's text buffered, and
what it returns is exactly what the stock driver gives."""

import io
import xml.sax
from xml.sax.handler import ContentHandler

import feedparser
import feedparser.api
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.ingest import feed_document
from feeds import saxdriver
from feeds.parse import ParseError, parse_feed
from tests.feeds.test_parse import ATOM, RDF, RSS

URL = "https://blog.example.org/feed.xml"

XHTML = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>X &amp; Y</title>
<entry><id>tag:x,2024:1</id><title>T</title><updated>2024-05-01T10:00:00Z</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; two &lt; three
&#233;t&#233; <b>bold</b> <![CDATA[<i>cdata</i> & more]]></p></div></content></entry>
</feed>"""

TRUNCATED = RSS[: RSS.index(b"</description>") - 20]  # not well-formed: feedparser's loose parser takes over


def _long_text_feed() -> bytes:
    """One description far over expat's text buffer, made of escaped HTML."""
    body = "&lt;p&gt;word &amp;amp; more&lt;/p&gt;\n" * 8000  # ~300 KB, flushed in several buffers
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title>'
        f"<item><guid>1</guid><title>Long</title><description>{body}</description></item>"
        "</channel></rss>"
    ).encode()


DOCUMENTS = {
    "rss": RSS,
    "atom": ATOM,
    "rdf": RDF,
    "xhtml": XHTML,
    "truncated": TRUNCATED,
    "long text": _long_text_feed(),
    "bench feed": feed_document(7, 20),
}


def _stock(document: bytes):
    """Parsed with Python's own SAX driver, as feedparser does out of the box."""
    with saxdriver.uninstalled():
        return _parsed(document)


def _parsed(document: bytes):
    try:
        return parse_feed(document, url=URL)
    except ParseError as exc:
        return ("ParseError", str(exc))


def test_feedparser_reads_with_the_buffered_driver():
    assert feedparser.api.PREFERRED_XML_PARSERS[0] == saxdriver.NAME
    assert isinstance(xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS), saxdriver.BufferedExpatParser)
    saxdriver.install()  # idempotent
    assert feedparser.api.PREFERRED_XML_PARSERS.count(saxdriver.NAME) == 1


class _Counting(ContentHandler):
    def __init__(self):
        super().__init__()
        self.pieces: list[str] = []

    def characters(self, content):
        self.pieces.append(content)


def _pieces(reader, document: bytes) -> list[str]:
    handler = _Counting()
    reader.setContentHandler(handler)
    reader.parse(io.BytesIO(document))
    return handler.pieces


def test_a_text_node_with_references_arrives_in_one_piece_not_one_per_reference():
    document = b"<d>Read &lt;a href=&quot;/x&quot;&gt;this&lt;/a&gt; &amp; &#233;t&#233;</d>"

    stock_pieces = _pieces(xml.sax.expatreader.create_parser(), document)
    buffered = _pieces(saxdriver.create_parser(), document)

    assert buffered == ['Read <a href="/x">this</a> & été']
    assert "".join(stock_pieces) == buffered[0]
    assert len(stock_pieces) == 17  # "Read ", "<", "a href=", '"', "/x", ... one per reference


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_parses_exactly_as_with_the_stock_driver(name):
    document = DOCUMENTS[name]

    ours = _parsed(document)

    assert ours == _stock(document)
    if name == "long text":
        assert (
            len(ours.entries[0].summary) == 23 * 8000 - 1
        )  # "<p>word &amp; more</p>\n" each, the last newline stripped
    if name == "xhtml":
        body = ours.entries[0].summary
        assert "One &amp; two &lt; three" in body and "été" in body and "&lt;i&gt;cdata&lt;/i&gt; &amp; more" in body


def test_feedparser_itself_returns_the_same_dictionary():
    for document in DOCUMENTS.values():
        ours = feedparser.parse(io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False)
        with saxdriver.uninstalled():
            assert saxdriver.NAME not in feedparser.api.PREFERRED_XML_PARSERS
            theirs = feedparser.parse(io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False)
        assert feedparser.api.PREFERRED_XML_PARSERS[0] == saxdriver.NAME  # put back
        assert ours["entries"] == theirs["entries"]
        assert ours["feed"] == theirs["feed"]
        assert ours["bozo"] == theirs["bozo"]


_TEXT = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(
            lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
        ),
        st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&#233;", "&#x1F600;", "<![CDATA[<b>x</b> & y]]>"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=_TEXT, description=_TEXT)
def test_any_escaped_text_parses_as_with_the_stock_driver(title, description):
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>C</title>'
        f"<item><guid>g</guid><title>{title}</title><description>{description}</description></item>"
        "</channel></rss>"
    ).encode()
    assert _parsed(document) == _stock(document)
