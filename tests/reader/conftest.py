"""The reader's tests: a small stream of its own (the demo's feeds hidden).

``world``: two teams; Ana (Research) publishes a Mastodon account with the
topic "data", Ben (Research) and Chen (Support) share a blog with the topic
"reliability"; Dora (Support) is the member who reads. Entries are dated
relative to now (the unread window is): five recent ones, newest first
``toot1`` (1 h) ... and one ``old`` post 40 days ago (outside the window).
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feeds.models import Feed, Subscription
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.feeds.conftest import serve  # noqa: F401 - local HTTP servers, for subscribing from an app


@pytest.fixture
def world(db):
    now = timezone.now()
    Feed.objects.update(hidden_at=now)
    research, support = TeamFactory(name="Reader research"), TeamFactory(name="Reader support")
    ana = MemberFactory(display_name="Ana", team=research)
    ben = MemberFactory(display_name="Ben", team=research)
    chen = MemberFactory(display_name="Chen", team=support)
    dora = MemberFactory(display_name="Dora", team=support, user__email="dora@example.org")
    account = FeedFactory(title="Ana on Mastodon", platform="mastodon", url="https://social.example.net/@ana.rss")
    blog = FeedFactory(title="Reliability Weekly", platform="blog", url="https://reliability.example.net/feed.xml")
    SubscriptionFactory(member=ana, feed=account, kind=Subscription.Kind.ACCOUNT, topics=["data"])
    SubscriptionFactory(member=ben, feed=blog, kind=Subscription.Kind.SOURCE, topics=["reliability"])
    SubscriptionFactory(member=chen, feed=blog, kind=Subscription.Kind.SOURCE, topics=["reliability"])
    entries = {
        "old": EntryFactory(feed=blog, title="An old post", published_at=now - timedelta(days=40)),
        "post2": EntryFactory(feed=blog, title="Error budgets", published_at=now - timedelta(hours=5)),
        "toot2": EntryFactory(feed=account, title="Data meetup notes", published_at=now - timedelta(hours=4)),
        "post1": EntryFactory(feed=blog, title="On-call without tears", published_at=now - timedelta(hours=3)),
        "toot3": EntryFactory(feed=account, title="A chart I like", published_at=now - timedelta(hours=2)),
        "toot1": EntryFactory(feed=account, title="Hello from the meetup", published_at=now - timedelta(hours=1)),
    }
    return {
        "now": now,
        "research": research,
        "support": support,
        "ana": ana,
        "ben": ben,
        "chen": chen,
        "dora": dora,
        "account": account,
        "blog": blog,
        **entries,
    }


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client
