"""Properties of `feeds.sanitize.sanitize_html` over generated hostile HTML.

Whatever goes in, what comes out (and what comes out of sanitizing that
again) has no script or other active element, no event-handler attribute, no
`style` attribute at all (so nothing can be positioned over the page), and
only http, https or mailto URLs as a browser would read them (entities
decoded, tabs/newlines removed, leading control characters stripped).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from feeds.sanitize import ALLOWED_TAGS, sanitize_html

URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "background", "poster", "srcset", "xlink:href", "data"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")

DANGEROUS_TAGS = [
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "button", "base", "meta",
    "link", "frame", "frameset", "applet", "template", "noscript", "textarea", "video", "audio", "source",
    "foreignObject", "animate", "set", "marquee", "isindex", "plaintext", "xmp", "title",
]  # fmt: skip
SCHEMES = [
    "javascript:", "JaVaScRiPt:", "vbscript:", "data:", "data:text/html;base64,", "livescript:", "file:",
    "java\tscript:", "java\nscript:", " javascript:", "\x01javascript:", "jav&#x09;ascript:", "&#106;avascript:",
    "&#x6A;avascript:", "javascript&colon;", "jav&#x0A;ascript:", "&#0000106avascript:", "feed:javascript:",
    "http:", "https:", "mailto:", "//", "/", "", "ftp:",
]  # fmt: skip
PAYLOADS = ["alert(1)", "//evil.example/x", "evil.example", "%0aalert(1)", "PHNjcmlwdD4=", "a@b.example"]
EVENT_ATTRIBUTES = ["onclick", "onerror", "onload", "ONMOUSEOVER", "onfocus", "formaction", "srcdoc"]
STYLES = [
    "position:fixed;top:0;left:0;width:100%;height:100%",
    "position: absolute; z-index: 9999",
    "background:url(javascript:alert(1))",
    "behavior:url(x.htc)",
    "expression(alert(1))",
]
QUOTES = ['"', "'", ""]

names = st.sampled_from(sorted(ALLOWED_TAGS) + DANGEROUS_TAGS + ["SCRIPT", "ScRiPt", "scr<script>ipt", "a/", "img/"])
urls = st.builds(lambda scheme, payload: scheme + payload, st.sampled_from(SCHEMES), st.sampled_from(PAYLOADS))
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["&lt;script&gt;", "&amp;", "<!-- <script>x</script> -->", "<![CDATA[<script>]]>", "]]>", "<", ">"]
    ),
)


@st.composite
def attributes(draw) -> str:
    quote = draw(st.sampled_from(QUOTES))
    kind = draw(st.sampled_from(["url", "event", "style", "plain"]))
    if kind == "url":
        name, value = draw(st.sampled_from(sorted(URL_ATTRIBUTES))), draw(urls)
    elif kind == "event":
        name, value = draw(st.sampled_from(EVENT_ATTRIBUTES)), "alert(1)"
    elif kind == "style":
        name, value = draw(st.sampled_from(["style", "STYLE", "class"])), draw(st.sampled_from(STYLES))
    else:
        name, value = draw(st.sampled_from(["title", "alt", "width", "height", "id", "rel", "target"])), draw(texts)
    if not quote:
        value = value.replace(" ", "")
    separator = draw(st.sampled_from([" ", "\n", "/", "\t"]))
    return f"{separator}{name}={quote}{value}{quote}"


def html_fragments() -> st.SearchStrategy[str]:
    def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            lambda name, attrs, inner, closed: (
                f"<{name}{''.join(attrs)}>{''.join(inner)}" + (f"</{name}>" if closed else "")
            ),
            names,
            st.lists(attributes(), max_size=3),
            st.lists(children, max_size=3),
            st.booleans(),
        )

    return st.recursive(texts, element, max_leaves=12)


documents = st.lists(html_fragments(), min_size=1, max_size=4).map("".join)
bases = st.sampled_from([None, "https://blog.example.org/posts/1", "javascript:alert(1)", "data:text/html,x"])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def _as_browser_reads(url: str) -> str:
    """The URL after a browser's clean-up: leading/trailing C0 controls and
    spaces stripped, tabs and newlines removed anywhere."""
    url = url.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"
                    "\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")  # fmt: skip
    return re.sub(r"[\t\n\r]", "", url).lower()


def assert_safe(cleaned: str) -> None:
    collector = _Collector()
    collector.feed(cleaned)
    collector.close()
    assert set(collector.tags) <= ALLOWED_TAGS, collector.tags
    for tag, name, value in collector.attributes:
        assert not name.startswith("on"), (tag, name)
        assert name not in {"style", "srcdoc", "formaction", "srcset"}, (tag, name)
        if name in URL_ATTRIBUTES:
            assert _as_browser_reads(value).startswith(SAFE_SCHEMES), (tag, name, value)
    assert "<script" not in cleaned.lower()


@given(documents, bases)
def test_sanitized_html_is_inert_and_stays_inert(document, base):
    once = sanitize_html(document, base_url=base)
    assert_safe(once)
    twice = sanitize_html(once, base_url=base)
    assert_safe(twice)


def test_known_vectors_are_neutralized():
    vectors = {
        '<a href="jav&#x09;ascript:alert(1)">x</a>': '<a rel="noopener noreferrer nofollow">x</a>',
        "<img src=x onerror=alert(1)>": "",
        '<div style="position:fixed;top:0">over</div>': "<div>over</div>",
        "<svg><script>alert(1)</script></svg>after": "after",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>': '<a rel="noopener noreferrer nofollow">d</a>',
        '<a href=" mailto:a@b.example">m</a>': '<a href=" mailto:a@b.example" rel="noopener noreferrer nofollow">m</a>',
    }
    for document, expected in vectors.items():
        assert sanitize_html(document) == expected, document
