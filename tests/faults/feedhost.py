"""The feed host of the multi-host test, run inside its own namespace:

    python -m tests.faults.feedhost STATS_FILE FEEDS ITEMS DELAY HOST [HOST ...]

serves FEEDS feeds spread over the HOST addresses (port 8000), each answer
held DELAY seconds, and as every request starts and ends writes to
STATS_FILE (JSON) the requests per path, the requests per client address
(which worker machine asked) and the peak of requests in flight per host
(arrived, not yet answered): the per-host limit seen from the sites' side,
across every machine fetching.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from tests.feeds.servers import ConnectionStats, FeedServer, Resource, numbered_items, rss

PORT = 8000


def feed_path(n: int) -> str:
    return f"/multihost/{n}.xml"


def feed_url(hosts: list[str], n: int) -> str:
    return f"http://{hosts[n % len(hosts)]}:{PORT}{feed_path(n)}"


def main(stats_file: str, feeds: str, items: str, delay: str, *hosts: str) -> None:
    stats = ConnectionStats()
    # In flight: from the request's arrival until its answer starts. A fetch
    # holds its host slot at least that long (the connection itself outlives
    # the slot by a moment: the client has the body before the server closes).
    held = ConnectionStats()
    lock = threading.Lock()
    clients: Counter[str] = Counter()
    servers = {host: FeedServer(host, stats=stats, port=PORT) for host in hosts}
    target = Path(stats_file)

    def write() -> None:
        hits = Counter()
        for server in servers.values():
            hits.update(server.hits)
        report = {"hits": hits, "clients": clients, "peak": held.peak, "total": stats.total}
        partial = target.with_suffix(".part")
        partial.write_text(json.dumps(report))
        os.replace(partial, target)

    def route(resource: Resource, delay_seconds: float):
        def answer(request) -> None:
            host = request.headers.get("Host", "").split(":")[0]
            with lock:
                clients[request.client_address[0]] += 1
                write()
            held.enter(host)
            time.sleep(delay_seconds)
            held.leave(host)
            with lock:
                write()
            request.answer(resource)

        return answer

    for n in range(int(feeds)):
        body = rss(numbered_items(int(items), prefix=f"mh{n}"))
        servers[hosts[n % len(hosts)]].routes[feed_path(n)] = route(Resource(body), float(delay))
    with lock:
        write()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(*sys.argv[1:])
