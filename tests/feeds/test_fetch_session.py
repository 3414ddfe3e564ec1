"""Connection reuse in the safe fetcher (`FetchSession`): one kept connection
per host, counted from the server's side, with every fetch still checked
(DNS answers, redirects, the connect-time pin) as without a session."""

from __future__ import annotations

import threading

import pytest

from feeds.fetch import FetchSession, ForbiddenAddress, InvalidResponse, ResponseTooLarge, fetch
from feeds.ingest import feeds_fetch_batch
from tests.factories import FeedFactory
from tests.feeds.servers import FeedServer, numbered_items, rss

LOOPBACK_AFTER_REDIRECT = (
    "The site redirected to another address, and that address points back to the server plnorg runs on "
    "(a loopback address), so plnorg will not fetch it."
)
LOOPBACK = "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."


def test_fetches_of_one_host_in_a_session_share_one_connection(servers):
    server = servers("127.0.0.71")
    urls = [server.set(f"/{n}.xml", f"<rss>{n}</rss>") for n in range(5)]

    with FetchSession() as session:
        contents = [fetch(url, session=session).content for url in urls]

    assert contents == [f"<rss>{n}</rss>".encode() for n in range(5)]
    assert (server.connections, server.requests, session.connections_opened) == (1, 5, 1)


def test_without_a_session_every_fetch_opens_its_own_connection(servers):
    server = servers("127.0.0.71")
    url = server.set("/feed.xml", "<rss/>")

    for _ in range(3):
        assert fetch(url).status == 200

    assert (server.connections, server.requests) == (3, 3)


def test_a_session_keeps_one_connection_per_host(servers):
    first, second = servers("127.0.0.72"), servers("127.0.0.73")
    urls = [first.set("/a.xml", "a"), second.set("/b.xml", "b")] * 3

    with FetchSession() as session:
        assert [fetch(url, session=session).content for url in urls] == [b"a", b"b"] * 3

    assert (first.connections, first.requests) == (1, 3)
    assert (second.connections, second.requests) == (1, 3)
    assert session.connections_opened == 2


def test_a_redirect_to_another_host_opens_a_new_checked_connection(servers):
    first, second = servers("127.0.0.74"), servers("127.0.0.75")
    target = second.set("/feed.xml", "<rss>moved</rss>")
    first.set("/feed.xml", "<rss>first</rss>")
    first.set("/moved.xml", b"", status=301, headers={"Location": target})

    with FetchSession() as session:
        assert fetch(first.url("/feed.xml"), session=session).content == b"<rss>first</rss>"
        result = fetch(first.url("/moved.xml"), session=session)

    assert (result.content, result.redirects) == (b"<rss>moved</rss>", [(301, target)])
    assert (first.connections, first.requests) == (1, 2)  # the redirect came on the kept connection
    assert (second.connections, second.requests) == (1, 1)
    assert session.connections_opened == 2


def test_a_forbidden_redirect_target_is_refused_while_the_first_host_is_kept(servers):
    first, second = servers("127.0.0.76"), servers("127.0.0.77")
    first.set("/feed.xml", "<rss/>")
    first.set("/moved.xml", b"", status=302, headers={"Location": second.set("/feed.xml", "<rss/>")})

    with FetchSession() as session:
        fetch(first.url("/feed.xml"), session=session, allowed_networks=["127.0.0.76/32"])
        with pytest.raises(ForbiddenAddress) as caught:
            fetch(first.url("/moved.xml"), session=session, allowed_networks=["127.0.0.76/32"])

    assert (str(caught.value), caught.value.address) == (LOOPBACK_AFTER_REDIRECT, "127.0.0.77")
    assert (first.connections, first.requests) == (1, 2)
    assert (second.connections, second.requests) == (0, 0)


def test_a_host_now_resolving_to_a_forbidden_address_is_refused_despite_a_kept_connection(servers, fake_dns):
    server = servers("127.0.0.78")
    server.set("/feed.xml", "<rss/>")
    url = f"http://feeds.test:{server.port}/feed.xml"
    fake_dns["feeds.test"] = ["127.0.0.78"]

    with FetchSession() as session:
        assert fetch(url, session=session, allowed_networks=["127.0.0.78/32"]).status == 200
        fake_dns["feeds.test"] = ["127.0.0.79"]
        with pytest.raises(ForbiddenAddress) as caught:
            fetch(url, session=session, allowed_networks=["127.0.0.78/32"])

    assert (str(caught.value), caught.value.address) == (LOOPBACK, "127.0.0.79")
    assert (server.connections, server.requests) == (1, 1)
    assert fake_dns.calls == ["feeds.test", "feeds.test"]


def test_a_kept_connection_to_an_address_the_host_no_longer_has_is_not_reused(servers, fake_dns):
    old = servers("127.0.0.80")
    new = servers("127.0.0.81", port=old.port)
    old.set("/feed.xml", "<rss>old</rss>")
    new.set("/feed.xml", "<rss>new</rss>")
    url = f"http://feeds.test:{old.port}/feed.xml"
    fake_dns["feeds.test"] = ["127.0.0.80"]

    with FetchSession() as session:
        assert fetch(url, session=session).content == b"<rss>old</rss>"
        fake_dns["feeds.test"] = ["127.0.0.81"]
        assert fetch(url, session=session).content == b"<rss>new</rss>"

    assert (old.connections, old.requests) == (1, 1)
    assert (new.connections, new.requests) == (1, 1)


def test_a_connection_the_server_closed_after_its_answer_is_replaced(servers):
    server = servers("127.0.0.82", close_after=1)
    url = server.set("/feed.xml", "<rss/>")

    with FetchSession() as session:
        assert [fetch(url, session=session).status for _ in range(3)] == [200, 200, 200]

    assert (server.connections, server.requests, session.connections_opened) == (3, 3, 3)


def test_a_kept_connection_dropped_by_the_server_costs_one_retry_on_a_new_one(servers):
    server = servers("127.0.0.83", drop_request=2)  # the 2nd request on any connection is dropped
    url = server.set("/feed.xml", "<rss/>")

    with FetchSession() as session:
        assert fetch(url, session=session).status == 200
        assert fetch(url, session=session).content == b"<rss/>"

    assert (server.connections, server.requests, session.connections_opened) == (2, 2, 2)


def test_a_new_connection_dropped_by_the_server_is_not_retried(servers):
    server = servers("127.0.0.84", drop_request=1)
    url = server.set("/feed.xml", "<rss/>")

    with FetchSession() as session, pytest.raises(InvalidResponse) as caught:
        fetch(url, session=session)

    assert str(caught.value) == "The site sent a reply plnorg could not understand."
    assert (server.connections, server.requests, session.connections_opened) == (1, 0, 1)


def test_a_response_over_the_size_limit_closes_its_connection(servers):
    server = servers("127.0.0.85")
    large = server.set("/large.xml", b"x" * 2000)
    small = server.set("/small.xml", b"<rss/>")

    with FetchSession() as session:
        with pytest.raises(ResponseTooLarge):
            fetch(large, session=session, max_bytes=1000)
        assert fetch(small, session=session, max_bytes=1000).content == b"<rss/>"
        assert fetch(small, session=session, max_bytes=1000).content == b"<rss/>"

    assert (server.connections, server.requests) == (2, 3)


def test_a_304_comes_back_through_a_session_on_the_same_connection(servers):
    server = servers("127.0.0.86")
    url = server.set("/feed.xml", "<rss/>", etag='"v1"')

    with FetchSession() as session:
        first = fetch(url, session=session)
        again = fetch(url, session=session, etag=first.etag)

    assert (first.status, first.etag, first.content) == (200, '"v1"', b"<rss/>")
    assert (again.status, again.etag, again.content) == (304, '"v1"', b"")
    assert server.request_headers[1][1]["if-none-match"] == '"v1"'
    assert (server.connections, server.requests) == (1, 2)


def test_an_https_session_reuses_its_verified_connection(servers, fake_dns, server_tls, client_tls):
    server = servers("127.0.0.87", tls=server_tls("feeds.test"))
    server.set("/feed.xml", "<rss/>")
    fake_dns["feeds.test"] = ["127.0.0.87"]

    with FetchSession(verify=client_tls) as session:
        results = [fetch(f"https://feeds.test:{server.port}/feed.xml", session=session) for _ in range(3)]

    assert [(result.status, result.content) for result in results] == [(200, b"<rss/>")] * 3
    assert server.request_headers[0][1]["host"] == f"feeds.test:{server.port}"
    assert (server.connections, server.requests) == (1, 3)


def test_verify_belongs_to_the_session(client_tls):
    with FetchSession() as session, pytest.raises(ValueError, match="A session has its own verify"):
        fetch("https://feeds.test/feed.xml", session=session, verify=client_tls)


def test_threads_sharing_a_session_fetch_one_at_a_time_over_one_connection(servers):
    server = servers("127.0.0.88")
    urls = [server.set(f"/{n}.xml", f"<rss>{n}</rss>") for n in range(20)]
    contents: dict[str, bytes] = {}

    with FetchSession() as session:

        def work(part: list[str]) -> None:
            for url in part:
                contents[url] = fetch(url, session=session).content

        threads = [threading.Thread(target=work, args=(urls[n::4],)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert contents == {url: f"<rss>{n}</rss>".encode() for n, url in enumerate(urls)}
    assert (server.connections, server.requests) == (1, 20)


@pytest.mark.django_db
def test_a_batch_fetches_each_hosts_feeds_over_one_connection(servers, settings):
    settings.FETCH_PER_HOST_LIMIT = 1
    first, second = servers("127.0.0.89"), servers("127.0.0.90")
    feeds = [
        FeedFactory(url=server.set(f"/{n}.xml", rss(numbered_items(2, prefix=f"{server.host}-{n}"))))
        for server in (first, second)
        for n in range(4)
    ]

    batch = feeds_fetch_batch(feed_ids=[feed.pk for feed in feeds], threads=2)

    assert sorted((o.feed_id, o.new_entries) for o in batch.outcomes) == sorted((feed.pk, 2) for feed in feeds)
    assert (first.connections, first.requests) == (1, 4)
    assert (second.connections, second.requests) == (1, 4)


def test_a_server_without_keep_alive_answers_one_request_per_connection():
    server = FeedServer("127.0.0.91", keep_alive=False)
    try:
        url = server.set("/feed.xml", "<rss/>")
        with FetchSession() as session:
            assert [fetch(url, session=session, allowed_networks=["127.0.0.0/8"]).status for _ in range(3)] == [200] * 3
        assert (server.connections, server.requests, session.connections_opened) == (3, 3, 3)
    finally:
        server.stop()
