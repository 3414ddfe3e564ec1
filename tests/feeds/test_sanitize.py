"""feeds.sanitize and feeds.links: third-party HTML and URLs."""

import pytest

from feeds.links import extract_links, normalize_link
from feeds.sanitize import clean_url, plain_text, sanitize_html

BASE = "https://blog.example.org/posts/1"


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>Hello <script>alert(1)</script>world</p>", "<p>Hello world</p>"),
        ("<style>p{color:red}</style><p>x</p>", "<p>x</p>"),
        ('<iframe src="https://evil.example/">inside</iframe><p>x</p>', "<p>x</p>"),
        ("<form action=/steal><input name=pw><button>Go</button>text</form>after", "after"),
        ('<object data="x.swf">o</object><embed src="y.swf">after', "after"),
        ("<svg><script>alert(1)</script><text>s</text></svg>after", "after"),
        ("<math><mi>x</mi></math>after", "after"),
        ('<p onclick="alert(1)" onmouseover="x()" style="color:red" class="c" id="i">x</p>', "<p>x</p>"),
        ('<base href="https://evil.example/"><p>x</p>', "<p>x</p>"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example/"><p>x</p>', "<p>x</p>"),
        ('<a href="javascript:alert(1)">j</a>', '<a rel="noopener noreferrer nofollow">j</a>'),
        ('<a href="data:text/html,x">d</a>', '<a rel="noopener noreferrer nofollow">d</a>'),
        ('<img src="javascript:alert(1)">', ""),
        ('<img src="https://t.example/p.gif" width="1" height="1">', ""),
        ('<img src="https://t.example/p.gif" width="0" height="0" alt="">', ""),
        ("<!-- a comment --><p>x</p>", "<p>x</p>"),
    ],
)
def test_sanitize_drops_dangerous_markup(dirty, clean):
    assert sanitize_html(dirty, BASE) == clean


def test_sanitize_keeps_formatting_and_marks_links():
    assert sanitize_html('<h2>T</h2><p><b>b</b> <a href="https://x.example/" target="_blank">x</a></p>', BASE) == (
        '<h2>T</h2><p><b>b</b> <a href="https://x.example/" rel="noopener noreferrer nofollow">x</a></p>'
    )


def test_sanitize_allows_mailto():
    assert sanitize_html('<a href="mailto:ana@example.org">mail</a>') == (
        '<a href="mailto:ana@example.org" rel="noopener noreferrer nofollow">mail</a>'
    )


def test_relative_urls_become_absolute_against_the_base():
    html = '<a href="/about">a</a><img src="img/p.png" width="600" height="400">'
    assert sanitize_html(html, BASE) == (
        '<a href="https://blog.example.org/about" rel="noopener noreferrer nofollow">a</a>'
        '<img src="https://blog.example.org/posts/img/p.png" width="600" height="400">'
    )


def test_relative_urls_without_base_are_removed():
    assert sanitize_html('<a href="/about">a</a>') == '<a rel="noopener noreferrer nofollow">a</a>'


def test_large_images_are_kept():
    html = '<img src="https://cdn.example/photo.jpg" width="1" height="300">'
    assert sanitize_html(html) == html


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("  http://example.org/a  ", "http://example.org/a"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("file:///etc/passwd", ""),
        ("ftp://example.org/x", ""),
        ("https://", ""),
        ("https://user:pw@example.org/", ""),
        ("https://exa mple.org/", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_url_accepts_only_http_and_https(url, expected):
    assert clean_url(url) == expected


def test_clean_url_resolves_relative_against_base():
    assert clean_url("../x.mp3", "https://pod.example/ep/1/") == "https://pod.example/ep/x.mp3"


def test_plain_text_strips_tags_and_decodes_entities():
    assert plain_text("Caf&eacute; &amp; <b>bar</b> <script>x()</script>  news") == "Café & bar news"
    assert plain_text("a" * 20, max_length=10) == "aaaaaaaaa…"


def test_normalize_link_removes_tracking_and_fragment():
    assert normalize_link("HTTPS://WWW.Example.COM:443/a?utm_source=rss&id=7&fbclid=z#top") == (
        "https://www.example.com/a?id=7"
    )
    assert normalize_link("http://example.com:8080") == "http://example.com:8080/"
    assert normalize_link("mailto:a@b.c") == ""


def test_extract_links_skips_own_site_and_repeats():
    html = (
        '<a href="https://news.example/a?utm_medium=x">1</a>'
        '<a href="https://news.example/a">2</a>'
        '<a href="https://www.blog.example.org/tag/x">own</a>'
        '<a href="https://other.example/b?x=1&amp;utm_campaign=c">3</a>'
    )
    assert extract_links(html, exclude_host="blog.example.org") == [
        "https://news.example/a",
        "https://other.example/b?x=1",
    ]
