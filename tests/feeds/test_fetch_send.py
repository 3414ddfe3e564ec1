"""The safe fetcher's ``send`` (POST/PUT for chat webhooks) and
``check_address`` (the check made when such an address is saved): the same
address policy as ``fetch``, pinned after DNS, no redirects followed, a
capped reply that never turns a delivered message into an error."""

from __future__ import annotations

import pytest

from feeds.fetch import BadURL, ForbiddenAddress, HostNotFound, check_address, send
from tests.plnorg.chat.servers import Receiver, Reply

ALLOW = ["127.0.0.0/8"]


@pytest.fixture
def hook():
    server = Receiver("127.0.0.3")
    yield server
    server.stop()


def test_a_post_arrives_with_its_body_and_headers(hook):
    hook.then(Reply(200, b"ok", {"Content-Type": "text/plain"}))

    result = send(
        hook.url,
        content=b'{"text":"hi"}',
        content_type="application/json",
        headers={"X-Plnorg-Event": "test"},
        allowed_networks=ALLOW,
    )

    [request] = hook.received
    assert (result.status, result.content, result.url) == (200, b"ok", hook.url)
    assert (request.method, request.path, request.body) == ("POST", hook.path, b'{"text":"hi"}')
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-plnorg-event"] == "test"
    assert request.headers["content-length"] == "13"


def test_a_put_is_sent_as_a_put(hook):
    send(hook.url, method="PUT", content=b"{}", content_type="application/json", allowed_networks=ALLOW)

    assert [r.method for r in hook.received] == ["PUT"]


def test_only_post_and_put():
    with pytest.raises(ValueError, match="send\\(\\) is for POST and PUT"):
        send("https://example.com/", method="GET", content=b"", content_type="text/plain")


def test_a_redirect_comes_back_as_its_status_and_is_not_followed(hook):
    elsewhere = Receiver("127.0.0.4")
    try:
        hook.then(Reply(308, b"", {"Location": elsewhere.url}))

        result = send(hook.url, content=b"{}", content_type="application/json", allowed_networks=ALLOW)

        assert (result.status, result.headers["location"], result.redirects) == (308, elsewhere.url, [])
        assert elsewhere.received == []
    finally:
        elsewhere.stop()


def test_loopback_is_refused_before_connecting(hook):
    with pytest.raises(ForbiddenAddress) as refused:
        send(hook.url, content=b"{}", content_type="application/json", allowed_networks=[])

    assert refused.value.reason == "loopback"
    assert hook.received == []


def test_a_long_reply_to_a_delivered_message_is_not_an_error(hook):
    hook.then(Reply(200, b"x" * 100_000))

    result = send(hook.url, content=b"{}", content_type="application/json", max_bytes=1024, allowed_networks=ALLOW)

    assert (result.status, result.content) == (200, b"")


def test_check_address_resolves_and_applies_the_policy(fake_dns):
    fake_dns["hooks.public.example"] = ["93.184.215.14"]
    fake_dns["hooks.mixed.example"] = ["93.184.215.14", "10.0.0.7"]

    assert check_address("https://hooks.public.example/x", allowed_networks=[]) == ["93.184.215.14"]
    with pytest.raises(ForbiddenAddress) as mixed:
        check_address("https://hooks.mixed.example/x", allowed_networks=[])
    assert (mixed.value.reason, mixed.value.address) == ("private", "10.0.0.7")
    with pytest.raises(HostNotFound):
        check_address("https://nowhere.example/x", allowed_networks=[])
    with pytest.raises(BadURL):
        check_address("https://user:pw@hooks.public.example/x", allowed_networks=[])
    assert check_address("http://127.0.0.1:9/x", allowed_networks=ALLOW) == ["127.0.0.1"]
