"""Local stand-ins for the chat platforms, on 127.0.0.x sockets in threads of
the test process (nothing reaches the internet):

- ``Receiver``: an incoming webhook (Slack, Teams, Mattermost, generic). It
  records every request (method, path, headers, body) and answers from a
  script of replies, then with its default (200 "ok").
- ``MatrixHomeserver``: the client-server API's send endpoint,
  PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}: bearer
  token checked (401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN), rooms the bot has
  joined only (403 M_FORBIDDEN), and transaction ids remembered per access
  token as the spec says: the same txnId again returns the first event's id
  and stores nothing new. ``lose_replies`` stores the event but answers 500,
  as when a reply is lost on the way back.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = self.server.owner.answer(received)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass

    do_POST = do_PUT = do_GET = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: _Base


class _Base:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answer(self, received: Received) -> Reply:
        with self.lock:
            self.received.append(received)
            return self.reply(received)

    def reply(self, received: Received) -> Reply:
        raise NotImplementedError

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Receiver(_Base):
    """An incoming webhook at ``url``."""

    path = "/hooks/T123/B456/s3cr3t-webhook-token"

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.script: deque[Reply] = deque()
        self.default = Reply()

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def then(self, *replies: Reply) -> Receiver:
        self.script.extend(replies)
        return self

    def reply(self, received: Received) -> Reply:
        return self.script.popleft() if self.script else self.default


def _json(status: int, data: dict) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


class MatrixHomeserver(_Base):
    """A homeserver that speaks just enough of the client-server API."""

    prefix = "/_matrix/client/v3/rooms/"

    def __init__(self, host: str = "127.0.0.1", *, token: str, rooms: list[str]) -> None:
        super().__init__(host)
        self.token = token
        self.events: dict[str, list[dict]] = {room: [] for room in rooms}
        self.transactions: dict[tuple[str, str, str], str] = {}
        self.lose_replies = 0

    def reply(self, received: Received) -> Reply:
        if received.method != "PUT" or not received.path.startswith(self.prefix):
            return _json(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        parts = received.path[len(self.prefix) :].split("/")
        if len(parts) != 4 or parts[1:3] != ["send", "m.room.message"]:
            return _json(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        room, txn = unquote(parts[0]), unquote(parts[3])
        auth = received.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return _json(401, {"errcode": "M_MISSING_TOKEN", "error": "Missing access token"})
        if auth.removeprefix("Bearer ") != self.token:
            return _json(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})
        if room not in self.events:
            return _json(403, {"errcode": "M_FORBIDDEN", "error": "User not in room"})
        key = (self.token, room, txn)
        if key not in self.transactions:
            event_id = f"${len(self.transactions) + 1}:{self.host}"
            self.transactions[key] = event_id
            self.events[room].append(json.loads(received.body))
        if self.lose_replies:
            self.lose_replies -= 1
            return _json(500, {"errcode": "M_UNKNOWN", "error": "Internal server error"})
        return _json(200, {"event_id": self.transactions[key]})
