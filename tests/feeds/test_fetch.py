"""The safe fetcher against real local servers: what it refuses, what it returns.

Servers run on 127.0.0.2 (allowed through ``allowed_networks``) and 127.0.0.3
(a trap that must never be reached). Only the system resolver's answers are
replaced, and only in the DNS tests.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.test import override_settings

from feeds.fetch import (
    DEFAULT_ACCEPT,
    DEFAULT_MAX_BYTES,
    DEFAULT_USER_AGENT,
    BadURL,
    ConnectionFailed,
    FetchTimeout,
    ForbiddenAddress,
    HostNotFound,
    InvalidResponse,
    ResponseTooLarge,
    TLSError,
    TooManyRedirects,
    UnsupportedScheme,
    check_url,
    fetch,
    is_forbidden_address,
    normalize_url,
)

from .conftest import Reply

ALLOW_SERVER = ["127.0.0.2/32"]  # the trap on 127.0.0.3 stays forbidden

LOOPBACK = "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
PRIVATE = "That address is inside a private network, so plnorg will not fetch it."
LINK_LOCAL = (
    "That address is a link-local address, used only inside a local network or for cloud server settings, "
    "so plnorg will not fetch it."
)
SHARED = "That address belongs to an internet provider's internal network (100.64.0.0/10), so plnorg will not fetch it."
MULTICAST = "That address is a multicast address, not a single website, so plnorg will not fetch it."
RESERVED = "That address is reserved and not used on the public internet, so plnorg will not fetch it."
UNSPECIFIED = "That address (0.0.0.0 or ::) does not point to any website, so plnorg will not fetch it."
THIS_NETWORK = 'That address is in the 0.0.0.0/8 "this network" range, so plnorg will not fetch it.'
BROADCAST = "That address is a broadcast address, so plnorg will not fetch it."
NOT_PUBLIC = "That address is not a public internet address, so plnorg will not fetch it."
NUMERIC = "Numeric host forms other than a.b.c.d (like 127.1 or 0x7f000001) are not accepted."
USERINFO = "Addresses that include a user name or password (user@...) are not accepted."
CONTROL = "That address contains spaces or invisible control characters."
PORT = "That address has an invalid port number."
NO_HOST = "That address has no site name in it."
NO_SCHEME = "That address is missing http:// or https:// at the start."
BAD_HOST = "The site name in that address is not valid."
NOT_URL = "That doesn't look like a web address."
TOO_LONG = "That address is too long (over 2,000 characters)."
SCHEME = "plnorg only fetches addresses that start with http:// or https://."
REDIRECTED = "The site redirected to another address, and "
TIMEOUT = "The server took too long to answer."
CERTIFICATE = "The site's security certificate could not be verified, so plnorg did not connect."


@pytest.fixture
def django_settings():
    """Django settings usable with override_settings, with or without pytest-django."""
    if not settings.configured:
        settings.configure()
    return settings


def lower_first(message: str) -> str:
    return message[0].lower() + message[1:]


# --------------------------------------------------------------------------
# Refusals that need no network at all
# --------------------------------------------------------------------------

FORBIDDEN_URLS = [
    ("http://127.0.0.1/", LOOPBACK, "127.0.0.1"),
    ("https://127.0.0.1:8443/feed", LOOPBACK, "127.0.0.1"),
    ("http://127.255.255.254/", LOOPBACK, "127.255.255.254"),
    ("http://0.0.0.0/", UNSPECIFIED, "0.0.0.0"),
    ("http://0.1.2.3/", THIS_NETWORK, "0.1.2.3"),
    ("http://10.0.0.1/", PRIVATE, "10.0.0.1"),
    ("http://172.16.0.1/", PRIVATE, "172.16.0.1"),
    ("http://172.31.255.254/", PRIVATE, "172.31.255.254"),
    ("http://192.168.1.1/", PRIVATE, "192.168.1.1"),
    ("http://169.254.169.254/latest/meta-data/", LINK_LOCAL, "169.254.169.254"),
    ("http://100.64.0.1/", SHARED, "100.64.0.1"),
    ("http://224.0.0.1/", MULTICAST, "224.0.0.1"),
    ("http://240.0.0.1/", RESERVED, "240.0.0.1"),
    ("http://255.255.255.255/", BROADCAST, "255.255.255.255"),
    ("http://192.0.2.10/", NOT_PUBLIC, "192.0.2.10"),
    ("http://[::1]/", LOOPBACK, "::1"),
    ("http://[::ffff:127.0.0.1]/", LOOPBACK, "::ffff:7f00:1"),
    ("http://[::ffff:7f00:1]/", LOOPBACK, "::ffff:7f00:1"),
    ("http://[::ffff:10.0.0.1]/", PRIVATE, "::ffff:a00:1"),
    ("http://[64:ff9b::7f00:1]/", LOOPBACK, "64:ff9b::7f00:1"),
    ("http://[64:ff9b::a9fe:a9fe]/", LINK_LOCAL, "64:ff9b::a9fe:a9fe"),
    ("http://[64:ff9b:1::a00:1]/", PRIVATE, "64:ff9b:1::a00:1"),
    ("http://[2002:7f00:1::]/", LOOPBACK, "2002:7f00:1::"),
    ("http://[2002:c0a8:101::1]/", PRIVATE, "2002:c0a8:101::1"),
    # Teredo: the client address 127.0.0.1 is stored inverted (80ff:fffe).
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", LOOPBACK, "2001:0:4136:e378:8000:63bf:80ff:fffe"),
    ("http://[fe80::1]/", LINK_LOCAL, "fe80::1"),
    ("http://[fc00::1]/", PRIVATE, "fc00::1"),
    ("http://[fd12:3456:789a::1]/", PRIVATE, "fd12:3456:789a::1"),
    ("http://[ff02::1]/", MULTICAST, "ff02::1"),
    ("http://[::]/", UNSPECIFIED, "::"),
]


@pytest.mark.parametrize(("url", "message", "address"), FORBIDDEN_URLS)
def test_fetch_refuses_forbidden_address(url, message, address, fake_dns):
    with pytest.raises(ForbiddenAddress) as caught:
        fetch(url, allowed_networks=[])

    assert str(caught.value) == message
    assert caught.value.address == address
    assert fake_dns.calls == []  # IP literals are never sent to a resolver


BAD_URLS = [
    ("http://2130706433/", BadURL, NUMERIC),
    ("http://0x7f000001/", BadURL, NUMERIC),
    ("http://0x7f.0.0.1/", BadURL, NUMERIC),
    ("http://0177.0.0.1/", BadURL, NUMERIC),
    ("http://127.1/", BadURL, NUMERIC),
    ("http://127.0.1/", BadURL, NUMERIC),
    ("http://1.2.3.4.5/", BadURL, NUMERIC),
    ("http://256.0.0.1/", BadURL, NUMERIC),
    ("http://example.0x10/", BadURL, NUMERIC),
    ("http://user@example.com/", BadURL, USERINFO),
    ("http://user:secret@example.com/", BadURL, USERINFO),
    ("http://a@127.0.0.1@evil.example/", BadURL, USERINFO),
    ("http://evil.example\\@127.0.0.1/", BadURL, USERINFO),
    ("http://example.com/feed\r\nX-Injected: 1", BadURL, CONTROL),
    ("http://example.com/\nfeed", BadURL, CONTROL),
    ("http://exam\tple.com/", BadURL, CONTROL),
    ("http://example.com/my feed", BadURL, CONTROL),
    (" http://example.com/", BadURL, CONTROL),
    ("http://example.com/\x00", BadURL, CONTROL),
    ("http://example.com/\u202e", BadURL, CONTROL),
    ("http://example.com:0/", BadURL, PORT),
    ("http://example.com:65536/", BadURL, PORT),
    ("http://example.com:99999999/", BadURL, PORT),
    ("http://example.com:http/", BadURL, PORT),
    ("http://example.com:-1/", BadURL, PORT),
    ("http://example.com:+80/", BadURL, PORT),
    ("http://example.com:\u0668\u0660/", BadURL, PORT),
    ("http:///feed", BadURL, NO_HOST),
    ("http:example.com", BadURL, NO_HOST),
    ("https:/example.com/", BadURL, NO_HOST),
    ("example.com/feed", BadURL, NO_SCHEME),
    ("example.com:8080/feed", BadURL, NO_SCHEME),
    ("//example.com/feed", BadURL, NO_SCHEME),
    ("", BadURL, NOT_URL),
    ("http://[::1/", BadURL, BAD_HOST),
    ("http://exa%6dple.com/", BadURL, BAD_HOST),
    ("http://example..com/", BadURL, BAD_HOST),
    ("http://-example.com/", BadURL, BAD_HOST),
    ("http://" + "a" * 64 + ".com/", BadURL, BAD_HOST),
    ("http://[fe80::1%25eth0]/", BadURL, BAD_HOST),
    ("http://[127.0.0.1]/", BadURL, BAD_HOST),
    ("http://::1/", BadURL, BAD_HOST),
    ("http://example.com/" + "a" * 2100, BadURL, TOO_LONG),
    ("file:///etc/passwd", UnsupportedScheme, SCHEME),
    ("ftp://example.com/feed.xml", UnsupportedScheme, SCHEME),
    ("gopher://example.com:70/", UnsupportedScheme, SCHEME),
    ("javascript:alert(1)", UnsupportedScheme, SCHEME),
    ("data:text/html,hello", UnsupportedScheme, SCHEME),
    ("HTTPX://example.com/", UnsupportedScheme, SCHEME),
]


@pytest.mark.parametrize(("url", "error", "message"), BAD_URLS)
def test_fetch_refuses_bad_url(url, error, message, fake_dns):
    with pytest.raises(error) as caught:
        fetch(url, allowed_networks=[])

    assert type(caught.value) is error
    assert str(caught.value) == message
    assert fake_dns.calls == []


@pytest.mark.parametrize(("url", "error", "message"), BAD_URLS)
def test_check_url_refuses_bad_url(url, error, message):
    with pytest.raises(error) as caught:
        check_url(url)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/feed.xml",
        "HTTP://Example.COM",
        "https://example.com:8443/a?b=c#d",
        "https://bücher.example/",
        "http://127.0.0.1/",  # syntax only: the address policy applies when fetching
        "http://[2001:db8::1]:8080/",
        "https://sub_domain.example.com/",
    ],
)
def test_check_url_accepts_and_returns_url_unchanged_without_dns(url, fake_dns):
    assert check_url(url) == url
    assert fake_dns.calls == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM", "http://example.com/"),
        ("https://example.com:443/feed?x=1#top", "https://example.com/feed?x=1"),
        ("http://example.com:80/Feed.XML", "http://example.com/Feed.XML"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("https://example.com:80/", "https://example.com:80/"),
        ("http://example.com?q=1", "http://example.com/?q=1"),
        ("https://Bücher.Example/Path", "https://xn--bcher-kva.example/Path"),
        ("http://[0:0:0:0:0:0:0:1]:80/", "http://[::1]/"),
        ("http://example.com:/", "http://example.com/"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("ip", "allowed", "forbidden"),
    [
        ("93.184.215.14", [], False),
        ("2606:4700::1111", [], False),
        ("64:ff9b::808:808", [], False),  # NAT64 of the public 8.8.8.8
        ("2002:808:808::", [], False),  # 6to4 of the public 8.8.8.8
        ("127.0.0.1", [], True),
        ("127.0.0.1", ["127.0.0.0/8"], False),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], False),
        ("::1", ["127.0.0.0/8"], True),
        ("10.1.2.3", ["10.0.0.0/8"], False),
        ("10.1.2.3", ["127.0.0.0/8"], True),
        ("169.254.169.254", [], True),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", [], True),  # Teredo, even with a public client
    ],
)
def test_is_forbidden_address(ip, allowed, forbidden):
    assert is_forbidden_address(ip, allowed) is forbidden


# --------------------------------------------------------------------------
# Fetching from local servers
# --------------------------------------------------------------------------


def test_fetch_returns_status_body_headers_and_timing(serve):
    server = serve("127.0.0.2")
    server.route("/feed.xml", b"<rss version='2.0'/>", content_type="application/rss+xml", etag='"v1"', x_custom="1")

    result = fetch(server.url + "/feed.xml", allowed_networks=ALLOW_SERVER)

    assert result.status == 200
    assert result.content == b"<rss version='2.0'/>"
    assert result.size_bytes == 20
    assert result.url == server.url + "/feed.xml"
    assert result.requested_url == server.url + "/feed.xml"
    assert result.permanent_url == server.url + "/feed.xml"
    assert result.redirects == []
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.headers["x-custom"] == "1"
    assert result.content_type == "application/rss+xml"
    assert result.etag == '"v1"'
    assert 0 < result.elapsed_seconds < 5
    [request] = server.requests
    assert request.path == "/feed.xml"
    assert request.headers["host"] == f"127.0.0.2:{server.port}"
    assert request.headers["accept"] == DEFAULT_ACCEPT
    assert request.headers["accept-encoding"] == "gzip, deflate, br"
    assert "if-none-match" not in request.headers


def test_fetch_sends_validators_and_returns_304(serve):
    server = serve("127.0.0.2")

    def conditional(handler):
        if handler.headers["If-None-Match"] == '"v1"':
            handler.send_reply(Reply(304, b"", {"ETag": '"v1"'}, content_length=False))
        else:
            handler.send_reply(Reply(200, b"<rss/>", {"ETag": '"v1"'}))

    server.routes["/feed.xml"] = conditional

    result = fetch(
        server.url + "/feed.xml",
        etag='"v1"',
        last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
        allowed_networks=ALLOW_SERVER,
    )

    assert result.status == 304
    assert result.content == b""
    assert result.etag == '"v1"'
    [request] = server.requests
    assert request.headers["if-none-match"] == '"v1"'
    assert request.headers["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize(
    ("status", "headers"),
    [(404, {}), (410, {}), (429, {"Retry-After": "120"}), (500, {}), (503, {"Retry-After": "30"})],
)
def test_fetch_returns_error_statuses_instead_of_raising(serve, status, headers):
    server = serve("127.0.0.2")
    server.routes["/feed"] = Reply(status, b"nope", headers)

    result = fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert result.status == status
    assert result.content == b"nope"
    assert result.headers.get("retry-after") == headers.get("Retry-After")


def test_fetch_connection_refused(serve):
    server = serve("127.0.0.2")
    url = server.url + "/"
    server.stop()

    with pytest.raises(ConnectionFailed) as caught:
        fetch(url, allowed_networks=ALLOW_SERVER)

    assert type(caught.value) is ConnectionFailed
    assert str(caught.value) == "plnorg could not connect to that site."


def test_fetch_with_allowed_networks_from_settings(serve, django_settings):
    server = serve("127.0.0.2")
    server.route("/feed", "ok")

    with override_settings(FETCH_ALLOWED_PRIVATE_NETWORKS=ALLOW_SERVER):
        result = fetch(server.url + "/feed")
        with pytest.raises(ForbiddenAddress):
            fetch(server.url + "/feed", allowed_networks=[])  # the argument wins

    assert result.content == b"ok"
    with override_settings(FETCH_ALLOWED_PRIVATE_NETWORKS=[]), pytest.raises(ForbiddenAddress):
        fetch(server.url + "/feed")


def test_fetch_user_agent_from_settings(serve, django_settings):
    server = serve("127.0.0.2")
    server.route("/feed", "ok")

    with override_settings(FETCH_USER_AGENT="plnorg-test/2.0 (+https://plnorg.example)"):
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert server.requests[0].headers["user-agent"] == "plnorg-test/2.0 (+https://plnorg.example)"


@pytest.mark.timeout(30)
def test_fetch_works_without_django_settings(serve):
    """Outside Django (no settings module): no allowlist, the default User-Agent."""
    server = serve("127.0.0.2")
    server.route("/feed", "ok")
    script = (
        "import sys\n"
        "from feeds.fetch import fetch, ForbiddenAddress\n"
        "try:\n"
        "    fetch(sys.argv[1])\n"
        "except ForbiddenAddress as exc:\n"
        "    print('refused:', exc.address)\n"
        "print(fetch(sys.argv[1], allowed_networks=['127.0.0.2/32']).content.decode())\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    completed = subprocess.run(
        [sys.executable, "-c", script, server.url + "/feed"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )

    assert completed.stdout == "refused: 127.0.0.2\nok\n"
    assert server.requests[0].headers["user-agent"] == DEFAULT_USER_AGENT


def test_fetch_rejects_disabling_certificate_checks():
    with pytest.raises(ValueError, match="certificate checks cannot be turned off"):
        fetch("https://example.com/", verify=False)


# --------------------------------------------------------------------------
# Redirects
# --------------------------------------------------------------------------


def test_fetch_follows_redirects_and_reports_the_chain(serve):
    server = serve("127.0.0.2")
    server.redirect("/old", "/moved", status=301)
    server.redirect("/moved", f"{server.url}/temporary", status=308)
    server.redirect("/temporary", "final", status=302)
    server.route("/final", "<feed/>")

    result = fetch(server.url + "/old", allowed_networks=ALLOW_SERVER)

    assert result.status == 200
    assert result.content == b"<feed/>"
    assert result.url == server.url + "/final"
    assert result.redirects == [
        (301, server.url + "/moved"),
        (308, server.url + "/temporary"),
        (302, server.url + "/final"),
    ]
    assert result.permanent_url == server.url + "/temporary"  # the 302 is not a permanent move
    assert [request.path for request in server.requests] == ["/old", "/moved", "/temporary", "/final"]


def test_fetch_redirect_without_location_is_returned(serve):
    server = serve("127.0.0.2")
    server.routes["/odd"] = Reply(302, b"no location")

    result = fetch(server.url + "/odd", allowed_networks=ALLOW_SERVER)

    assert (result.status, result.content, result.redirects) == (302, b"no location", [])


def test_fetch_follows_five_redirects(serve):
    server = serve("127.0.0.2")
    for hop in range(5):
        server.redirect(f"/{hop}", f"/{hop + 1}", status=307)
    server.route("/5", "done")

    result = fetch(server.url + "/0", allowed_networks=ALLOW_SERVER)

    assert result.content == b"done"
    assert result.redirects == [(307, f"{server.url}/{hop}") for hop in range(1, 6)]


def test_fetch_refuses_a_sixth_redirect(serve):
    server = serve("127.0.0.2")
    for hop in range(6):
        server.redirect(f"/{hop}", f"/{hop + 1}")
    server.route("/6", "never")

    with pytest.raises(TooManyRedirects) as caught:
        fetch(server.url + "/0", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == "The site redirected more than 5 times, so plnorg stopped following it."
    assert [request.path for request in server.requests] == ["/0", "/1", "/2", "/3", "/4", "/5"]


@pytest.mark.parametrize("hops", [1, 2])
def test_fetch_refuses_redirect_to_forbidden_address(serve, hops):
    server = serve("127.0.0.2")
    trap = serve("127.0.0.3")
    trap.route("/secret", "credentials")
    server.redirect("/feed", "/hop" if hops == 2 else trap.url + "/secret", status=301)
    server.redirect("/hop", trap.url + "/secret", status=302)

    with pytest.raises(ForbiddenAddress) as caught:
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == REDIRECTED + lower_first(LOOPBACK)
    assert caught.value.address == "127.0.0.3"
    assert len(server.requests) == hops
    assert trap.requests == []


def test_fetch_refuses_redirect_to_name_resolving_to_private_address(serve, fake_dns):
    fake_dns["intranet.test"] = ["10.20.30.40"]
    server = serve("127.0.0.2")
    server.redirect("/feed", "http://intranet.test/admin")

    with pytest.raises(ForbiddenAddress) as caught:
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == REDIRECTED + lower_first(PRIVATE)
    assert caught.value.address == "10.20.30.40"
    assert fake_dns.calls == ["intranet.test"]


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://127.0.0.2/feed.xml", "gopher://127.0.0.2:70/_GET", "dict://127.0.0.2:11211/stat"],
)
def test_fetch_refuses_redirect_to_other_scheme(serve, location):
    server = serve("127.0.0.2")
    server.redirect("/feed", location)

    with pytest.raises(UnsupportedScheme) as caught:
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == REDIRECTED + SCHEME
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://2130706433/", NUMERIC),
        ("http://user@127.0.0.2/", USERINFO),
        ("http://127.0.0.2:0/", PORT),
    ],
)
def test_fetch_refuses_redirect_to_bad_url(serve, location, message):
    server = serve("127.0.0.2")
    server.redirect("/feed", location)

    with pytest.raises(BadURL) as caught:
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == REDIRECTED + lower_first(message)


# --------------------------------------------------------------------------
# POST (a WebSub hub's subscription requests)
# --------------------------------------------------------------------------


def test_fetch_posts_a_form_as_utf8_urlencoded(serve):
    server = serve("127.0.0.2")
    server.route("/hub", "", status=202)

    result = fetch(
        server.url + "/hub",
        form={"hub.mode": "subscribe", "hub.topic": "https://example.org/feed?a=1&b=é"},
        allowed_networks=ALLOW_SERVER,
    )

    [request] = server.requests
    assert result.status == 202
    assert (request.method, request.headers["content-type"]) == ("POST", "application/x-www-form-urlencoded")
    assert request.body == b"hub.mode=subscribe&hub.topic=https%3A%2F%2Fexample.org%2Ffeed%3Fa%3D1%26b%3D%C3%A9"


def test_fetch_post_follows_307_and_308_with_the_same_body(serve):
    server = serve("127.0.0.2")
    server.redirect("/hub", "/hub2", status=307)
    server.redirect("/hub2", "/hub3", status=308)
    server.route("/hub3", "", status=202)

    result = fetch(server.url + "/hub", form={"hub.mode": "subscribe"}, allowed_networks=ALLOW_SERVER)

    assert result.status == 202
    assert [(r.method, r.path, r.body) for r in server.requests] == [
        ("POST", "/hub", b"hub.mode=subscribe"),
        ("POST", "/hub2", b"hub.mode=subscribe"),
        ("POST", "/hub3", b"hub.mode=subscribe"),
    ]


@pytest.mark.parametrize("status", [301, 302, 303])
def test_fetch_post_returns_other_redirects_instead_of_turning_them_into_a_get(serve, status):
    server = serve("127.0.0.2")
    server.redirect("/hub", "/elsewhere", status=status)
    server.route("/elsewhere", "a page")

    result = fetch(server.url + "/hub", form={"hub.mode": "subscribe"}, allowed_networks=ALLOW_SERVER)

    assert (result.status, result.headers["location"], result.redirects) == (status, "/elsewhere", [])
    assert [request.path for request in server.requests] == ["/hub"]


def test_fetch_post_refuses_a_private_address_and_a_redirect_to_one(serve):
    trap = serve("127.0.0.3")
    server = serve("127.0.0.2")
    server.redirect("/hub", f"{trap.url}/hub", status=307)

    with pytest.raises(ForbiddenAddress) as direct:
        fetch(trap.url + "/hub", form={"hub.mode": "subscribe"}, allowed_networks=ALLOW_SERVER)
    with pytest.raises(ForbiddenAddress) as redirected:
        fetch(server.url + "/hub", form={"hub.mode": "subscribe"}, allowed_networks=ALLOW_SERVER)

    assert str(direct.value) == LOOPBACK
    assert str(redirected.value) == REDIRECTED + lower_first(LOOPBACK)
    assert trap.requests == []


# --------------------------------------------------------------------------
# Name resolution: every address checked, one lookup, connection pinned
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addresses", "message", "address"),
    [
        (["93.184.215.14", "10.0.0.5"], PRIVATE, "10.0.0.5"),
        (["10.0.0.5", "93.184.215.14"], PRIVATE, "10.0.0.5"),
        (["2606:4700::6810:84e5", "::1"], LOOPBACK, "::1"),
        (["93.184.215.14", "169.254.169.254"], LINK_LOCAL, "169.254.169.254"),
        (["::ffff:192.168.0.1"], PRIVATE, "::ffff:c0a8:1"),
    ],
)
def test_fetch_refuses_name_with_any_forbidden_address(fake_dns, addresses, message, address):
    fake_dns["mixed.test"] = addresses

    with pytest.raises(ForbiddenAddress) as caught:
        fetch("https://mixed.test/feed", allowed_networks=[])

    assert str(caught.value) == message
    assert caught.value.address == address


def test_fetch_connects_to_the_checked_address_and_sends_the_real_host(serve, fake_dns):
    fake_dns["feeds.test"] = ["127.0.0.2"]
    server = serve("127.0.0.2")
    server.route("/feed", "pinned")

    result = fetch(f"http://feeds.test:{server.port}/feed", allowed_networks=ALLOW_SERVER)

    assert result.content == b"pinned"
    assert result.url == f"http://feeds.test:{server.port}/feed"
    assert server.requests[0].headers["host"] == f"feeds.test:{server.port}"
    assert fake_dns.calls == ["feeds.test"]


def test_fetch_is_not_fooled_by_dns_rebinding(serve, monkeypatch):
    """The first answer is checked and used; a later, different answer is never asked for."""
    import socket

    server = serve("127.0.0.2")
    server.route("/feed", "safe")
    trap = serve("127.0.0.3")
    trap.route("/feed", "internal")
    answers = iter(["127.0.0.2", "127.0.0.3", "127.0.0.3"])
    calls = []

    def rebinding_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)

    result = fetch(f"http://rebind.test:{server.port}/feed", allowed_networks=ALLOW_SERVER)

    assert result.content == b"safe"
    assert calls == ["rebind.test"]
    assert trap.requests == []


def test_fetch_unknown_name(fake_dns):
    with pytest.raises(HostNotFound) as caught:
        fetch("https://does-not-exist.test/feed", allowed_networks=[])

    assert str(caught.value) == "That site name could not be found. Check the address for typos."


def test_fetch_international_name_is_looked_up_in_idna_form(fake_dns):
    fake_dns["xn--bcher-kva.test"] = ["10.0.0.1"]

    with pytest.raises(ForbiddenAddress):
        fetch("http://Bücher.test/", allowed_networks=[])

    assert fake_dns.calls == ["xn--bcher-kva.test"]


# --------------------------------------------------------------------------
# Time limits
# --------------------------------------------------------------------------


def drip_body(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    while not handler.stopping.wait(1.0):
        handler.wfile.write(b"x")


def drip_headers(handler):
    for byte in b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n":
        handler.wfile.write(bytes([byte]))
        if handler.stopping.wait(1.0):
            return


@pytest.mark.timeout(30)
@pytest.mark.parametrize("drip", [drip_body, drip_headers])
def test_fetch_stops_a_dripping_server_at_the_deadline(serve, drip):
    server = serve("127.0.0.2")
    server.routes["/feed"] = drip
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as caught:
        fetch(server.url + "/feed", deadline_seconds=2.0, allowed_networks=ALLOW_SERVER)

    elapsed = time.monotonic() - started
    assert str(caught.value) == TIMEOUT
    assert 1.9 < elapsed < 2.0 + 1.5


@pytest.mark.timeout(30)
def test_fetch_stops_waiting_for_a_server_that_never_answers(silent_server):
    host, port = silent_server
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as caught:
        fetch(f"http://{host}:{port}/feed", deadline_seconds=1.0, allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == TIMEOUT
    assert time.monotonic() - started < 1.0 + 1.5


@pytest.mark.timeout(30)
def test_fetch_ends_by_a_shared_deadline_before_its_own(silent_server):
    host, port = silent_server
    started = time.monotonic()

    with pytest.raises(FetchTimeout) as caught:
        fetch(f"http://{host}:{port}/feed", deadline_at=started + 1.0, allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == TIMEOUT
    assert 0.9 < time.monotonic() - started < 1.0 + 1.0


def test_fetch_with_a_shared_deadline_already_passed_sends_nothing(serve):
    server = serve("127.0.0.2")
    server.route("/feed", b"<rss/>")

    with pytest.raises(FetchTimeout) as caught:
        fetch(server.url + "/feed", deadline_at=time.monotonic(), allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == TIMEOUT
    assert server.requests == []


def test_fetch_with_a_later_shared_deadline_keeps_its_own(serve):
    server = serve("127.0.0.2")
    server.route("/feed", b"<rss/>")

    result = fetch(server.url + "/feed", deadline_at=time.monotonic() + 60, allowed_networks=ALLOW_SERVER)

    assert (result.status, result.content) == (200, b"<rss/>")


@pytest.mark.timeout(30)
def test_fetch_deadline_covers_a_slow_resolver(monkeypatch):
    import socket

    def slow_getaddrinfo(*args, **kwargs):
        time.sleep(3)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    started = time.monotonic()

    with pytest.raises(FetchTimeout):
        fetch("https://slow-dns.test/", deadline_seconds=0.5, allowed_networks=[])

    assert time.monotonic() - started < 0.5 + 1.0


# --------------------------------------------------------------------------
# Size cap, counted after decompression
# --------------------------------------------------------------------------


@pytest.mark.parametrize("content_length", [True, False])
def test_fetch_refuses_body_over_the_cap(serve, content_length):
    server = serve("127.0.0.2")
    server.routes["/big"] = Reply(200, b"x" * 1001, content_length=content_length)

    with pytest.raises(ResponseTooLarge) as caught:
        fetch(server.url + "/big", max_bytes=1000, allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == "The response was larger than 1000 bytes."
    assert caught.value.limit_bytes == 1000


@pytest.mark.parametrize("content_length", [True, False])
def test_fetch_accepts_body_exactly_at_the_cap(serve, content_length):
    server = serve("127.0.0.2")
    server.routes["/exact"] = Reply(200, b"x" * 1000, content_length=content_length)

    result = fetch(server.url + "/exact", max_bytes=1000, allowed_networks=ALLOW_SERVER)

    assert result.content == b"x" * 1000


def test_fetch_default_cap_is_5_mb(serve):
    server = serve("127.0.0.2")
    server.routes["/huge"] = Reply(200, b"x" * (DEFAULT_MAX_BYTES + 1), content_length=False)

    with pytest.raises(ResponseTooLarge) as caught:
        fetch(server.url + "/huge", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == "The response was larger than 5 MB."
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """1 GiB of zeros as gzip, about 1 MB, built without holding the 1 GiB.

    After a full flush the compressor starts afresh, so every 1 MiB block of
    zeros compresses to the same bytes: compress one, repeat it. The trailer
    is left off; the fetcher must give up long before it would read it.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert repeated == compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + repeated * 1023


def streamed(body: bytes, **headers: str):
    def send(handler):
        handler.send_response(200)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        for start in range(0, len(body), 64 * 1024):
            handler.wfile.write(body[start : start + 64 * 1024])

    return send


@pytest.mark.timeout(30)
def test_fetch_stops_a_gzip_bomb_while_streaming(serve, gzip_bomb):
    assert len(gzip_bomb) < 1_100_000
    server = serve("127.0.0.2")
    server.routes["/bomb"] = streamed(gzip_bomb, Content_Encoding="gzip")
    started = time.monotonic()
    tracemalloc.start()

    try:
        with pytest.raises(ResponseTooLarge) as caught:
            fetch(server.url + "/bomb", allowed_networks=ALLOW_SERVER)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(caught.value) == "The response was larger than 5 MB."
    assert peak_bytes < 24 * 1024 * 1024  # the 1 GiB never existed in memory
    assert time.monotonic() - started < 5


@pytest.mark.timeout(30)
@pytest.mark.parametrize("encoding", ["br", "deflate", "gzip, br"])
def test_fetch_stops_other_compression_bombs(serve, encoding):
    zeros = bytes(64 * 1024 * 1024)
    if encoding == "br":
        body = brotli.compress(zeros, quality=1)
    elif encoding == "deflate":
        body = zlib.compress(zeros, 9)
    else:  # gzip applied first, then br: a bomb inside a bomb
        body = brotli.compress(gzip.compress(zeros, 9), quality=1)
    server = serve("127.0.0.2")
    server.routes["/bomb"] = streamed(body, Content_Encoding=encoding)
    tracemalloc.start()

    try:
        with pytest.raises(ResponseTooLarge) as caught:
            fetch(server.url + "/bomb", max_bytes=1024 * 1024, allowed_networks=ALLOW_SERVER)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(caught.value) == "The response was larger than 1 MB."
    assert peak_bytes < 16 * 1024 * 1024


FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>' * 50


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(FEED)),
        ("x-gzip", gzip.compress(FEED)),
        ("deflate", zlib.compress(FEED)),
        ("deflate", zlib.compress(FEED)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress(FEED)),
        ("gzip, br", brotli.compress(gzip.compress(FEED))),
        ("identity", FEED),
        ("utf-8", FEED),  # a misconfigured server: unknown codings are ignored
    ],
)
def test_fetch_decompresses(serve, encoding, body):
    server = serve("127.0.0.2")
    server.routes["/feed"] = Reply(200, body, {"Content-Encoding": encoding})

    result = fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert result.content == FEED
    assert result.headers["content-encoding"] == encoding


def test_fetch_compressed_body_under_the_cap_is_checked_after_decompression(serve):
    server = serve("127.0.0.2")
    server.routes["/feed"] = Reply(200, gzip.compress(b"y" * 5000), {"Content-Encoding": "gzip"})

    with pytest.raises(ResponseTooLarge):
        fetch(server.url + "/feed", max_bytes=4096, allowed_networks=ALLOW_SERVER)


def test_fetch_damaged_compressed_body(serve):
    server = serve("127.0.0.2")
    server.routes["/feed"] = Reply(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"})

    with pytest.raises(InvalidResponse) as caught:
        fetch(server.url + "/feed", allowed_networks=ALLOW_SERVER)

    assert str(caught.value) == "The site sent a damaged compressed reply."


# --------------------------------------------------------------------------
# TLS through the pinned address
# --------------------------------------------------------------------------


def test_fetch_https_verifies_the_real_name_on_the_pinned_address(serve, fake_dns, server_tls, client_tls):
    fake_dns["feeds.test"] = ["127.0.0.1"]
    server = serve("127.0.0.1", tls=server_tls("feeds.test"))
    server.route("/feed.xml", "<rss/>")

    result = fetch(f"https://feeds.test:{server.port}/feed.xml", allowed_networks=["127.0.0.0/8"], verify=client_tls)

    assert result.status == 200
    assert result.content == b"<rss/>"
    assert server.requests[0].headers["host"] == f"feeds.test:{server.port}"
    assert fake_dns.calls == ["feeds.test"]


def test_fetch_https_refuses_a_certificate_for_another_name(serve, fake_dns, server_tls, client_tls):
    fake_dns["feeds.test"] = ["127.0.0.1"]
    server = serve("127.0.0.1", tls=server_tls("other.test"))
    server.route("/feed.xml", "<rss/>")

    with pytest.raises(TLSError) as caught:
        fetch(f"https://feeds.test:{server.port}/feed.xml", allowed_networks=["127.0.0.0/8"], verify=client_tls)

    assert str(caught.value) == CERTIFICATE
    assert server.requests == []


def test_fetch_https_refuses_an_untrusted_certificate_by_default(serve, fake_dns, server_tls):
    fake_dns["feeds.test"] = ["127.0.0.1"]
    server = serve("127.0.0.1", tls=server_tls("feeds.test"))

    with pytest.raises(TLSError) as caught:
        fetch(f"https://feeds.test:{server.port}/feed.xml", allowed_networks=["127.0.0.0/8"])

    assert str(caught.value) == CERTIFICATE
    assert server.requests == []


def test_fetch_https_trusts_the_ca_bundle_from_settings(serve, fake_dns, server_tls, tls_ca, tmp_path, django_settings):
    bundle = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(bundle))
    fake_dns["feeds.test"] = ["127.0.0.1"]
    server = serve("127.0.0.1", tls=server_tls("feeds.test"))
    server.route("/feed.xml", "<rss/>")

    with override_settings(FETCH_CA_BUNDLE=str(bundle)):
        result = fetch(f"https://feeds.test:{server.port}/feed.xml", allowed_networks=["127.0.0.0/8"])

    assert result.content == b"<rss/>"
