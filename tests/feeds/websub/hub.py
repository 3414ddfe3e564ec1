"""A WebSub hub on 127.0.0.x, for the tests and bench/websub.py.

It speaks the hub's side of the spec (https://www.w3.org/TR/websub/) with the
standard library only, independently of plnorg's code:

- POST / with ``hub.mode=subscribe|unsubscribe``: answers 202 (or
  ``answer_status``), then verifies intent with a GET to ``hub.callback``
  carrying hub.mode, hub.topic, hub.challenge and (subscribe)
  hub.lease_seconds; the subscription counts only when the callback answers
  2xx with exactly the challenge. ``verify_before_answer`` verifies first
  and answers after, as some hubs do.
- `publish(topic, body)` POSTs ``body`` to every verified subscriber of
  ``topic`` with Link headers and ``X-Hub-Signature`` (HMAC of the body with
  the subscriber's ``hub.secret``; the algorithm, a wrong key or no
  signature on request) and returns the callbacks' statuses.
- `deny(callback, topic, reason)` sends ``hub.mode=denied``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass
class Verification:
    mode: str
    topic: str
    callback: str
    challenge: str
    status: int
    body: bytes
    content_type: str

    @property
    def confirmed(self) -> bool:
        return 200 <= self.status < 300 and self.body == self.challenge.encode()


@dataclass
class HubSubscription:
    callback: str
    topic: str
    secret: str
    lease_seconds: int
    verified_at: float


def _request(method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None):
    """(status, body, headers) of one plain HTTP request."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        hub = self.server.hub
        form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
        with hub.lock:
            hub.requests.append(form)
        problem = ""
        if form.get("hub.mode") not in ("subscribe", "unsubscribe") or not form.get("hub.callback"):
            problem = "hub.mode and hub.callback are required"
        if hub.verify_before_answer and not problem:
            hub.verify(form)
        status = 400 if problem else hub.answer_status
        body = (problem or hub.answer_text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if not problem and not hub.verify_before_answer and 200 <= status < 300:
            threading.Thread(target=hub.verify, args=(form,), daemon=True).start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: LocalHub


class LocalHub:
    def __init__(self, host: str = "127.0.0.1", *, lease_seconds: int | None = None) -> None:
        self.lease_seconds = lease_seconds  # None: grant what the subscriber asked for
        self.answer_status = 202
        self.answer_text = ""
        self.verify_before_answer = False
        self.challenge: Callable[[], str] = lambda: secrets.token_urlsafe(24)
        self.lock = threading.Lock()
        self.requests: list[dict[str, str]] = []
        self.verifications: list[Verification] = []
        self.subscriptions: dict[tuple[str, str], HubSubscription] = {}
        self._server = _Server((host, 0), _Handler)
        self._server.hub = self
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def verify(self, form: dict[str, str]) -> Verification:
        mode, topic, callback = form["hub.mode"], form.get("hub.topic", ""), form["hub.callback"]
        lease = self.lease_seconds or int(form.get("hub.lease_seconds") or 864000)
        challenge = self.challenge()
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        separator = "&" if "?" in callback else "?"
        status, body, headers = _request("GET", callback + separator + urlencode(query))
        verification = Verification(mode, topic, callback, challenge, status, body, headers.get("content-type", ""))
        with self.lock:
            self.verifications.append(verification)
            if verification.confirmed and mode == "subscribe":
                self.subscriptions[(callback, topic)] = HubSubscription(
                    callback, topic, form.get("hub.secret", ""), lease, time.time()
                )
            elif verification.confirmed:
                self.subscriptions.pop((callback, topic), None)
        return verification

    def wait_for(self, count: int, *, timeout: float = 20) -> list[Verification]:
        """Wait until ``count`` verifications have been made; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.verifications) >= count:
                    return list(self.verifications)
            time.sleep(0.02)
        raise AssertionError(f"the hub made {len(self.verifications)} verifications, not {count}")

    def publish(
        self,
        topic: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        algorithm: str | None = "sha256",
        secret: str | None = None,
        signature: str | None = None,
    ) -> list[int]:
        """Deliver ``body`` to every subscriber of ``topic``; their statuses.

        ``algorithm`` None sends no signature; ``secret`` signs with another
        key than the subscriber's; ``signature`` sends that header value as is.
        """
        with self.lock:
            targets = [s for s in self.subscriptions.values() if s.topic == topic]
        statuses = []
        for target in targets:
            headers = {
                "Content-Type": content_type,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            }
            if signature is not None:
                headers["X-Hub-Signature"] = signature
            elif algorithm is not None:
                key = (target.secret if secret is None else secret).encode()
                headers["X-Hub-Signature"] = (
                    f"{algorithm}={hmac.new(key, body, getattr(hashlib, algorithm)).hexdigest()}"
                )
            status, _body, _headers = _request("POST", target.callback, body=body, headers=headers)
            statuses.append(status)
        return statuses

    def deny(self, callback: str, topic: str, reason: str = "") -> int:
        query = {"hub.mode": "denied", "hub.topic": topic}
        if reason:
            query["hub.reason"] = reason
        status, _body, _headers = _request("GET", f"{callback}?{urlencode(query)}")
        with self.lock:
            self.subscriptions.pop((callback, topic), None)
        return status

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def feed_document(
    *, hub_url: str | None, self_url: str | None, items: list[tuple[str, str]], title: str = "Pushed blog"
) -> bytes:
    """An RSS 2.0 feed advertising ``hub_url`` and ``self_url`` with
    <atom:link>; ``items`` are (guid, title) pairs, newest first."""
    from xml.sax.saxutils import quoteattr

    links = ""
    if hub_url:
        links += f'<atom:link rel="hub" href={quoteattr(hub_url)}/>'
    if self_url:
        links += f'<atom:link rel="self" type="application/rss+xml" href={quoteattr(self_url)}/>'
    entries = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid><title>{name}</title>'
        f"<link>https://blog.example.org/{guid}</link><description>About {name}.</description>"
        f"<pubDate>Mon, {1 + n:02d} Jan 2024 10:00:00 GMT</pubDate></item>"
        for n, (guid, name) in enumerate(reversed(items))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{title}</title><link>https://blog.example.org/</link><description>Tests</description>"
        f"{links}{entries}</channel></rss>"
    ).encode()
