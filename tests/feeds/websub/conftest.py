"""Fixtures for instant updates: a local hub, a feed that advertises it, and
plnorg's callback served by pytest-django's live server so the hub can reach
it. These tests commit (the live server is another thread with its own
database connection), so they build their own data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings

from feeds.models import Feed
from feeds.scheduler import _redis
from tests.factories import FeedFactory, SubscriptionFactory
from tests.feeds.servers import FeedServer

from .hub import LocalHub, feed_document


@pytest.fixture
def clean_queue() -> Iterator[None]:
    """Tasks these tests queue (and leave for no worker) go with the test."""
    _redis().delete(django_settings.CELERY_TASK_DEFAULT_QUEUE)
    yield
    _redis().delete(django_settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def hubs() -> Iterator[Callable[..., LocalHub]]:
    started: list[LocalHub] = []

    def start(host: str = "127.0.0.4", **options) -> LocalHub:
        hub = LocalHub(host, **options)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


@pytest.fixture
def callback_site(live_server, settings, clean_queue) -> str:
    """plnorg served where the hub can call it back: SITE_URL is the live server."""
    settings.SITE_URL = live_server.url
    return live_server.url


@dataclass
class PushedFeed:
    feed: Feed
    server: FeedServer
    hub: LocalHub
    path: str
    topic: str

    def serve(self, items: list[tuple[str, str]], **options) -> bytes:
        """Serve the feed with ``items``; returns the document."""
        document = feed_document(hub_url=self.hub.url, self_url=self.topic, items=items)
        self.server.set(self.path, document, **options)
        return document

    def document(self, items: list[tuple[str, str]]) -> bytes:
        return feed_document(hub_url=self.hub.url, self_url=self.topic, items=items)


@pytest.fixture
def pushed_feed(servers, hubs, callback_site) -> PushedFeed:
    """A feed one member reads, served on 127.0.0.2, advertising the hub on
    127.0.0.4 and its self URL; not fetched yet."""
    server = servers("127.0.0.2")
    hub = hubs()
    path = "/blog/feed.xml"
    feed = FeedFactory(url=server.url(path), title="Pushed blog")
    SubscriptionFactory(feed=feed)
    pushed = PushedFeed(feed=feed, server=server, hub=hub, path=path, topic=server.url(path))
    pushed.serve([("p1", "First post")])
    return pushed
