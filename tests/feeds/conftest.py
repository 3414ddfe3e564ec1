"""Local HTTP(S) servers and a controllable resolver for the feeds tests.

Every server here is a real socket server on a 127.0.0.x address in a thread
of the test process; nothing reaches the internet. Loopback is forbidden by
the safe fetcher, so tests pass ``allowed_networks=`` for the addresses they
mean to reach.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from tests.feeds.servers import ConnectionStats, FeedServer, silent


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-case names
    method: str = "GET"
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: the body ends when the connection closes


Route = Reply | Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, body: bytes) -> None:
        self.server.owner.requests.append(
            RecordedRequest(
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                method=self.command,
                body=body,
            )
        )
        routes = self.server.owner.routes
        route = routes.get(self.path) or routes.get(self.path.split("?")[0])
        if route is None:
            route = Reply(404, b"not found", {"Content-Type": "text/plain"})
        try:
            if isinstance(route, Reply):
                self.send_reply(route)
            else:
                route(self)
        except OSError:  # the client hung up, as the fetcher does on refusals
            pass

    def send_reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer


class LocalServer:
    """An HTTP server on ``host`` answering from ``routes`` and recording requests."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.host = host
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def route(self, path: str, body: bytes | str = b"", *, status: int = 200, **headers: str) -> None:
        if isinstance(body, str):
            body = body.encode()
        names = {name.replace("_", "-").title(): value for name, value in headers.items()}
        self.routes[path] = Reply(status, body, names)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Reply(status, b"", {"Location": location})

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., LocalServer]]:
    """Start local servers: ``serve("127.0.0.2")``; all are stopped after the test."""
    servers: list[LocalServer] = []

    def start(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> LocalServer:
        server = LocalServer(host, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """A socket on 127.0.0.2 that accepts connections (via the kernel backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.listen(8)
    yield sock.getsockname()
    sock.close()


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[str]]:
    """Answer getaddrinfo() for test names: ``fake_dns["feeds.test"] = ["127.0.0.2"]``.

    The safe fetcher's own resolution code runs unchanged; only the answer of
    the system resolver is replaced. Unknown names do not resolve. Each call
    is recorded in ``fake_dns.calls`` (a list of host names).
    """

    class Answers(dict):
        calls: list[str]

    answers = Answers()
    answers.calls = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        answers.calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        results = []
        for address in answers[host]:
            if ":" in address:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return results

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(tls_ca) -> ssl.SSLContext:
    """A client context that trusts only the test CA, with full verification."""
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
def server_tls(tls_ca) -> Callable[[str], ssl.SSLContext]:
    """``server_tls("feeds.test")``: a server context with a test-CA certificate for that name."""

    def make(hostname: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ca.issue_cert(hostname).configure_cert(context)
        return context

    return make


@pytest.fixture
def servers(settings) -> Iterator[Callable[..., FeedServer]]:
    """Start FeedServers (tests/feeds/servers.py) on 127.0.0.x names, allowed
    to the fetcher, sharing one ConnectionStats (``servers.stats``) that
    counts concurrent connections per host name."""
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    started: list[FeedServer] = []
    stats = ConnectionStats()

    def start(host: str = "127.0.0.1", **options) -> FeedServer:
        server = FeedServer(host, stats=stats, **options)
        started.append(server)
        return server

    start.stats = stats  # type: ignore[attr-defined]
    yield start
    for server in started:
        server.stop()


@dataclass
class SlowSite:
    """A blog whose page answers at once and announces feeds that never answer."""

    server: LocalServer
    feeds: list[str]  # the announced feed URLs, in page order
    budget_seconds: int

    @property
    def url(self) -> str:
        return self.server.url + "/"

    @property
    def message(self) -> str:
        """What a member is told: nothing could be checked in time, nothing saved."""
        return (
            f"The site answers slowly: plnorg stopped looking for its feeds after {self.budget_seconds} seconds "
            f"and saved nothing. Feeds found: none. Not checked in time: {', '.join(self.feeds)}. "
            "To add one of them, paste its address."
        )


@pytest.fixture
def slow_site(serve, settings) -> SlowSite:
    """A blog on 127.0.0.2 announcing 10 feeds that never answer; discovery's budget is 2 seconds."""
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    settings.DISCOVERY_DEADLINE_SECONDS = 2
    server = serve("127.0.0.2")
    feeds = [f"{server.url}/feeds/{n}.xml" for n in range(10)]
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="Feed {n}" href="{url}">'
        for n, url in enumerate(feeds)
    )
    server.route(
        "/",
        f"<!DOCTYPE html><html><head><title>Slow blog</title>{links}</head><body><p>Hi</p></body></html>",
        content_type="text/html; charset=utf-8",
    )
    for url in feeds:
        server.routes[url.removeprefix(server.url)] = silent(60)
    return SlowSite(server=server, feeds=feeds, budget_seconds=2)
