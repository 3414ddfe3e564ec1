"""A local SMTP server for the drills: records every message it receives and
can stall in the middle of one.

It speaks just enough ESMTP for Django's SMTP backend (EHLO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT) on 127.0.0.1. ``stall_on=n`` makes it take the n-th
message's DATA in full and then never answer it: the moment where the client
cannot know whether the message went out. That message counts as received
(a real server may already have queued it for delivery), which is what makes
a resend a duplicate. ``refuse=True`` answers every message's DATA with a
refusal (554) instead: nothing is received.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, *, stall_on: int | None = None, refuse: bool = False, host: str = "127.0.0.1", pause: float = 0.0
    ) -> None:
        """``pause``: seconds between taking a message and answering it (a
        busy server; the window in which a killed client leaves it unanswered)."""
        super().__init__((host, 0), _Session)
        self.host = host
        self.stall_on, self.refuse, self.pause = stall_on, refuse, pause
        self.lock = threading.Lock()
        self.messages: list[bytes] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def receive(self, data: bytes) -> bool:
        """Record a message; True when the server should stall on it."""
        with self.lock:
            self.messages.append(data)
            return self.stall_on is not None and len(self.messages) == self.stall_on

    def message_ids(self) -> list[str]:
        with self.lock:
            messages = list(self.messages)
        return [str(message_from_bytes(raw, policy=default_policy)["Message-ID"]) for raw in messages]

    def deliveries(self) -> Counter[str]:
        """How many times each Message-ID was received."""
        return Counter(self.message_ids())

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _Session(socketserver.StreamRequestHandler):
    server: SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 drill.smtp ESMTP")
        while line := self.rfile.readline():
            verb = line.decode("latin-1").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-drill.smtp")
                self.reply("250-8BITMIME")
                self.reply("250 SMTPUTF8")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if data is None:
                    return
                if self.server.refuse:
                    self.reply("554 Transaction failed: refused by the drill")
                elif self.server.receive(data):
                    # Everything arrived; the answer never does (until released).
                    self.server.stalled.set()
                    self.server.release.wait(300)
                    return
                else:
                    time.sleep(self.server.pause)
                    self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes | None:
        lines = []
        while line := self.rfile.readline():
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)
        return None  # the client went away mid-message: nothing was received
