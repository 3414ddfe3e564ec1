"""Parser fuzzing through the full fetch -> parse -> store path.

Real-shaped RSS, Atom and JSON Feed documents (with hostile markup inside)
are mutated: byte flips, truncation, duplicated tags, injected entities and
DOCTYPEs, lies about the encoding. Each mutant is served by a local server
and fetched with `feeds.ingest.feed_fetch` (the service a worker runs), in
process for speed; a smaller set goes through a real Celery worker. Nothing
may crash, no worker may die, and everything stored is inert.

The seed is fixed (the "ci" Hypothesis profile derandomizes); `make fuzz`
runs many more cases with random seeds.
"""

from __future__ import annotations

import json
import os
import random
import time

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feeds.ingest import feed_fetch, feed_ingest_document
from feeds.models import Entry, Feed, FetchLog
from feeds.parse import ParseError
from feeds.sanitize import clean_url
from feeds.scheduler import _redis
from feeds.tasks import fetch_feed
from tests.factories import FeedFactory
from tests.faults.conftest import FUZZ
from tests.faults.test_sanitizer_properties import assert_safe
from tests.feeds.servers import FeedServer

HOST = "127.0.0.2"
IN_PROCESS_CASES = int(os.environ.get("PLNORG_FUZZ_CASES", 20000 if FUZZ else 1800))
FETCH_CASES = 2000 if FUZZ else 150
WORKER_CASES = 40

EVIL = (
    '<p onclick="alert(1)">Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a>'
    '<img src="data:image/svg+xml,<svg onload=alert(1)>"><div style="position:fixed;inset:0">over</div>'
    '<iframe src="https://evil.example/"></iframe><a href="jav&#x09;ascript:alert(2)">y</a></p>'
)
RSS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
    "<channel><title>Fuzz &amp; co</title><link>https://blog.example.org/</link><description>d</description>"
    + "".join(
        f"<item><guid>urn:fuzz:{n}</guid><title>Post {n} &lt;b&gt;</title><link>https://blog.example.org/{n}</link>"
        f"<description><![CDATA[{EVIL}]]></description><content:encoded>{EVIL.replace('&', '&amp;').replace('<', '&lt;')}"
        f"</content:encoded><pubDate>Mon, 0{n + 1} Jan 2024 10:00:00 GMT</pubDate>"
        f'<enclosure url="javascript:alert({n})" type="audio/mpeg" length="1"/></item>'
        for n in range(3)
    )
    + "</channel></rss>"
).encode()
ATOM = (
    '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom fuzz</title>'
    '<link href="https://atom.example.org/"/><id>urn:atom</id><updated>2024-01-02T00:00:00Z</updated>'
    + "".join(
        f'<entry><id>urn:atom:{n}</id><title type="html">A &lt;script&gt;{n}</title>'
        f'<link rel="alternate" href="https://atom.example.org/{n}"/><updated>2024-01-0{n + 1}T00:00:00Z</updated>'
        f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p onmouseover="x()">t</p>'
        f'<a href="vbscript:msgbox">v</a><svg><script>alert(1)</script></svg></div></content>'
        f'<summary type="html">{EVIL.replace("&", "&amp;").replace("<", "&lt;")}</summary></entry>'
        for n in range(3)
    )
    + "</feed>"
).encode()
JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON fuzz",
        "home_page_url": "https://json.example.org/",
        "items": [
            {
                "id": f"urn:json:{n}",
                "url": f"https://json.example.org/{n}" if n else "javascript:alert(1)",
                "title": f"<b>J{n}</b>",
                "content_html": EVIL,
                "summary": "<script>alert(1)</script>",
                "image": "data:image/png;base64,AAAA",
                "date_published": f"2024-01-0{n + 1}T00:00:00Z",
                "attachments": [{"url": "file:///etc/passwd", "mime_type": "audio/mpeg"}],
            }
            for n in range(3)
        ],
    }
).encode()
SEEDS = [RSS, ATOM, JSON_FEED]
CONTENT_TYPES = [
    "application/rss+xml; charset=utf-8",
    "application/atom+xml",
    "application/feed+json",
    "text/xml; charset=utf-16",
    "text/html; charset=iso-8859-1",
    "application/xml; charset=shift_jis",
    "application/octet-stream",
    "",
]
INJECTIONS = [
    b"&xxe;",
    b"&#0;",
    b"&#x110000;",
    b"&#xD800;",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
    b"<![CDATA[",
    b"]]>",
    b"<script>alert(1)</script>",
    b"&lt;script&gt;alert(1)&lt;/script&gt;",
    b'<?xml version="1.0" encoding="utf-16"?>',
    b'<?xml version="1.0" encoding="ebcdic-cp-us"?>',
    b"\xc3\x28",
    b"\xf0\x28\x8c\xbc",
    b'"},{"id":1,"content_html":"<img src=x onerror=alert(1)>"',
]


@st.composite
def mutants(draw) -> tuple[bytes, str]:
    document = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        operation = draw(st.sampled_from(["flip", "truncate", "duplicate", "inject", "delete"]))
        if not document:
            break
        at = draw(st.integers(0, len(document) - 1))
        if operation == "flip":
            document[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "truncate":
            del document[at:]
        elif operation == "duplicate":
            start = document.find(b"<", at)
            end = document.find(b">", start + 1) if start >= 0 else -1
            close = document.find(b"</", end + 1) if end >= 0 else -1
            close_end = document.find(b">", close) if close >= 0 else -1
            if close_end > start >= 0:
                span = document[start : close_end + 1]
                document[close_end + 1 : close_end + 1] = span * draw(st.integers(1, 3))
        elif operation == "inject":
            document[at:at] = draw(st.sampled_from(INJECTIONS))
        else:
            del document[at : at + draw(st.integers(1, 40))]
    return bytes(document), draw(st.sampled_from(CONTENT_TYPES))


def assert_stored_entries_inert(feed_ids) -> int:
    entries = Entry.objects.filter(feed_id__in=feed_ids)
    for entry in entries.iterator():
        assert_safe(entry.summary)
        assert_safe(entry.content)
        for url in (entry.link, entry.enclosure_url, entry.image_url):
            assert url == "" or clean_url(url) == url, url
        assert "<" not in entry.title or "&lt;" in entry.title or "<script" not in entry.title.lower()
    return entries.count()


@pytest.fixture
def fuzz_server(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = [f"{HOST}/32"]
    server = FeedServer(HOST)
    yield server
    server.stop()


@pytest.mark.django_db
@pytest.mark.timeout(1200 if FUZZ else 200)
def test_mutated_feeds_parse_and_store_inert():
    """Most cases: the parse -> sanitize -> store path in process (the
    document handed over as the fetcher would)."""
    feed = FeedFactory(url="https://fuzz.example.org/feed.xml", title="Fuzz")
    counts = {"stored": 0, "refused": 0}
    started = time.monotonic()

    @hypothesis_settings(max_examples=IN_PROCESS_CASES, database=None)
    @given(mutants())
    def case(mutant):
        body, content_type = mutant
        try:
            feed_ingest_document(feed=feed, content=body, content_type=content_type)
        except ParseError:
            counts["refused"] += 1
        else:
            counts["stored"] += 1

    case()

    stored = assert_stored_entries_inert([feed.pk])
    assert counts["stored"] > 0 and counts["refused"] > 0
    print(
        f"parser fuzz (in process): {sum(counts.values())} cases in {time.monotonic() - started:.1f}s, "
        f"{counts}, {stored} entries stored, all inert"
    )


@pytest.mark.django_db
@pytest.mark.timeout(600 if FUZZ else 120)
def test_mutated_feeds_through_fetch_parse_store(fuzz_server):
    """Cases served over HTTP and fetched with feed_fetch (what a worker runs)."""
    feed = FeedFactory(url=fuzz_server.url("/fuzz.xml"), title="Fuzz")
    outcomes: dict[str, int] = {}
    started = time.monotonic()

    @hypothesis_settings(max_examples=FETCH_CASES, database=None)
    @given(mutants())
    def case(mutant):
        body, content_type = mutant
        fuzz_server.set("/fuzz.xml", body, content_type=content_type)
        Feed.objects.filter(pk=feed.pk).update(status=Feed.Status.ACTIVE, error_count=0, etag="", last_modified="")
        outcome = feed_fetch(feed_id=feed.pk)
        assert outcome is not None
        outcomes[str(outcome.outcome)] = outcomes.get(str(outcome.outcome), 0) + 1

    case()

    stored = assert_stored_entries_inert([feed.pk])
    assert set(outcomes) <= {"ok", "error", "not_modified"}
    assert FetchLog.objects.filter(feed=feed).count() == sum(outcomes.values())
    print(
        f"parser fuzz (fetched): {sum(outcomes.values())} cases in {time.monotonic() - started:.1f}s, "
        f"outcomes {dict(sorted(outcomes.items()))}, {stored} entries stored, all inert"
    )


def _mutate(document: bytes, rng: random.Random) -> bytes:
    """The same mutations, driven by a seeded generator (for the worker cases)."""
    data = bytearray(document)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at = rng.randrange(len(data))
        operation = rng.choice(["flip", "truncate", "inject", "delete"])
        if operation == "flip":
            data[at] ^= 1 << rng.randrange(8)
        elif operation == "truncate":
            del data[at:]
        elif operation == "inject":
            data[at:at] = rng.choice(INJECTIONS)
        else:
            del data[at : at + rng.randint(1, 40)]
    return bytes(data)


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_mutated_feeds_through_a_real_worker(settings):
    """A smaller set through a real Celery worker: it never dies, every
    fetch is recorded, everything stored is inert."""
    from tests.feeds.test_workers import Worker, wait_for

    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = [f"{HOST}/32"]
    rng = random.Random(15)
    server = FeedServer(HOST)
    worker = None
    try:
        feeds = []
        for n in range(WORKER_CASES):
            body = _mutate(SEEDS[n % len(SEEDS)], rng)
            url = server.set(f"/w{n}.xml", body, content_type=rng.choice(CONTENT_TYPES))
            feeds.append(FeedFactory(url=url, title=f"W{n}"))
        _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
        worker = Worker("fuzz", concurrency=2, FETCH_ALLOWED_PRIVATE_NETWORKS=f"{HOST}/32").wait_ready()
        for feed in feeds:
            fetch_feed.apply_async(kwargs={"feed_id": feed.pk})
        wait_for(
            lambda: FetchLog.objects.filter(feed__in=feeds).count() == WORKER_CASES, timeout=120, what="every case"
        )
        assert worker.process.poll() is None
        assert "Traceback" not in worker.log.read_text(errors="replace")
        stored = assert_stored_entries_inert([feed.pk for feed in feeds])
        print(f"parser fuzz (worker): {WORKER_CASES} feeds fetched, {stored} entries stored, worker alive")
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
