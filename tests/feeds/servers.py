"""Local feed servers for the ingestion tests and the benchmark.

`FeedServer` is a real HTTP server on a 127.0.0.x address in a thread. Each
path answers from a `Resource` (body, status, headers, ETag honoured with
304) or a handler function for misbehaving servers (drip, silence, redirect
loops ...). Every request is counted per path, and `ConnectionStats` counts
concurrent connections per Host header, so tests can check the per-host
limit from the server's side.

The server speaks HTTP/1.1 with keep-alive, as real hosts do (``keep_alive=
False`` for HTTP/1.0, one request per connection), and counts connections
accepted and requests served, so tests can check connection reuse.
``close_after`` closes each connection after that many requests without
saying so (a server's keep-alive timeout); ``drop_request`` reads the
request with that number on a connection and closes without answering.
Handler functions always close the connection after them: several of them
send bodies that end when the connection does.
"""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Resource:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # honoured: If-None-Match equal to it answers 304
    delay_seconds: float = 0.0  # sleep before answering (holds the connection)
    content_type: str = "application/rss+xml; charset=utf-8"


class ConnectionStats:
    """Concurrent connections per Host header (current and peak)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total: Counter[str] = Counter()

    def enter(self, host: str) -> None:
        with self._lock:
            self.active[host] += 1
            self.total[host] += 1
            self.peak[host] = max(self.peak[host], self.active[host])

    def leave(self, host: str) -> None:
        with self._lock:
            self.active[host] -= 1

    def peak_by_name(self) -> Counter[str]:
        """Peaks per host name, ports ignored (servers on one name may differ in port)."""
        return Counter({host: count for host, count in self.peak.items()})


Handler = Callable[["_RequestHandler"], None]


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet tests
        pass

    def setup(self):
        super().setup()
        owner = self.server.owner
        self.protocol_version = "HTTP/1.1" if owner.keep_alive else "HTTP/1.0"
        self.requests_on_connection = 0
        with owner.lock:
            owner.connections += 1

    def do_GET(self):  # noqa: N802 - http.server's naming
        owner = self.server.owner
        self.requests_on_connection += 1
        if self.requests_on_connection == owner.drop_request:
            self.close_connection = True
            return
        host = self.headers.get("Host", "")
        owner.stats.enter(host.split(":")[0])
        try:
            with owner.lock:
                owner.hits[self.path] += 1
                owner.requests += 1
                owner.request_headers.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.requests_on_connection == owner.close_after:
                self.close_connection = True
            route = owner.routes.get(self.path)
            if route is None:
                self.answer(Resource(b"not found", status=404, content_type="text/plain"))
            elif isinstance(route, Resource):
                self.answer(route)
            else:
                self.close_connection = True
                route(self)
        except OSError:  # the client hung up (a refused body, a deadline)
            pass
        finally:
            owner.stats.leave(host.split(":")[0])

    def answer(self, resource: Resource) -> None:
        if resource.delay_seconds:
            time.sleep(resource.delay_seconds)
        if resource.etag and self.headers.get("If-None-Match") == resource.etag:
            self.send_response(304)
            self.send_header("ETag", resource.etag)
            self.end_headers()
            return
        self.send_response(resource.status)
        if resource.content_type:
            self.send_header("Content-Type", resource.content_type)
        if resource.etag:
            self.send_header("ETag", resource.etag)
        for name, value in resource.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resource.body)))
        self.end_headers()
        self.wfile.write(resource.body)

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    owner: FeedServer


class FeedServer:
    """A feed server on ``host`` (any 127.0.0.x) and a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        stats: ConnectionStats | None = None,
        port: int = 0,
        keep_alive: bool = True,
        close_after: int | None = None,
        drop_request: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Resource | Handler] = {}
        self.hits: Counter[str] = Counter()
        self.connections = 0  # accepted
        self.requests = 0  # answered (dropped ones not counted)
        self.keep_alive = keep_alive
        self.close_after = close_after
        self.drop_request = drop_request
        self.request_headers: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.stats = stats or ConnectionStats()
        self.stopping = threading.Event()
        self._server = _HTTPServer((host, port), _RequestHandler)
        self._server.owner = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def set(self, path: str, body: bytes | str = b"", **options) -> str:
        """Serve ``body`` at ``path`` (options as in Resource); returns the URL."""
        if isinstance(body, str):
            body = body.encode()
        self.routes[path] = Resource(body, **options)
        return self.url(path)

    def handle(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------
# Misbehaving servers
# --------------------------------------------------------------------------


def redirect(location: str, status: int = 301) -> Handler:
    def handler(request: _RequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def drip(body: bytes, *, interval_seconds: float = 0.5) -> Handler:
    """Sends the body one byte at a time, never finishing in a useful time."""

    def handler(request: _RequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()
        for byte in body:
            if request.stopping.wait(interval_seconds):
                return
            request.wfile.write(bytes([byte]))
            request.wfile.flush()

    return handler


def silent(seconds: float = 30.0) -> Handler:
    """Reads the request and never answers."""

    def handler(request: _RequestHandler) -> None:
        request.stopping.wait(seconds)

    return handler


def unbounded(chunk: bytes = b"<item>" + b"x" * 65536 + b"</item>", total_bytes: int = 60 * 1024 * 1024) -> Handler:
    """A large body without Content-Length (ends when the connection closes)."""

    def handler(request: _RequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()
        sent = 0
        while sent < total_bytes and not request.stopping.is_set():
            request.wfile.write(chunk)
            sent += len(chunk)

    return handler


def gzip_bomb(size_bytes: int = 200 * 1024 * 1024) -> Handler:
    """A small gzip body that inflates to ``size_bytes`` of zeros."""
    compressed = gzip.compress(b"\0" * size_bytes, compresslevel=9)

    def handler(request: _RequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(compressed)))
        request.end_headers()
        request.wfile.write(compressed)

    return handler


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------


def rss(items: list[dict], *, title: str = "A test feed", link: str = "https://blog.example.org/") -> bytes:
    """An RSS 2.0 document; each item may give guid, title, link, description, pub_date."""
    from xml.sax.saxutils import escape

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>Tests</description>",
    ]
    for item in items:
        parts.append("<item>")
        if "guid" in item:
            parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
        for name in ("title", "link", "description", "author"):
            if name in item:
                parts.append(f"<{name}>{escape(item[name])}</{name}>")
        if "pub_date" in item:
            parts.append(f"<pubDate>{item['pub_date']}</pubDate>")
        if "enclosure" in item:
            parts.append(f'<enclosure url="{escape(item["enclosure"])}" type="audio/mpeg" length="1000"/>')
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def numbered_items(count: int, *, prefix: str = "post", start: int = 0) -> list[dict]:
    return [
        {
            "guid": f"urn:{prefix}:{n}",
            "title": f"Post {n}",
            "link": f"https://blog.example.org/{prefix}/{n}",
            "description": f'<p>Body of post {n} with <a href="https://example.com/read/{n}?utm_source=rss">a link</a>.</p>',
            "pub_date": f"Mon, {1 + n % 28:02d} Jan 2024 {n % 24:02d}:00:00 GMT",
        }
        for n in range(start, start + count)
    ]
