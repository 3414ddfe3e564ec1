"""Subscription workflows: add by handle, by URL (feed or site), remove."""

from __future__ import annotations

import pytest

from feeds.models import Feed, Subscription
from feeds.services import (
    SubscriptionRefused,
    subscription_add_by_handle,
    subscription_add_by_url,
    subscription_remove,
)
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>https://example.com/</link>
<description>d</description><item><title>Hello</title><guid>1</guid></item></channel></rss>"""
NO_FEED = "We couldn't find a feed on that page. If the site has an RSS or Atom link, paste it directly."


def page(links: str) -> str:
    return f"<!DOCTYPE html><html><head><title>Blog</title>{links}</head><body><p>Hi</p></body></html>"


@pytest.fixture
def allow_loopback(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]


def test_add_mastodon_handle_registers_feed_without_fetching():
    member = MemberFactory()

    result = subscription_add_by_handle(
        member=member, platform="mastodon", handle="@Ana@Mastodon.example", kind="account"
    )

    sub = result.subscription
    assert result.created is True
    assert sub.feed.url == "https://mastodon.example/@ana.rss"
    assert sub.feed.status == Feed.Status.ACTIVE
    assert sub.feed.platform == "mastodon"
    assert sub.profile_url == "https://mastodon.example/@ana"
    assert sub.is_shared is True  # accounts are shared by default
    assert sub.feed.last_fetched_at is None


def test_same_handle_twice_is_idempotent():
    member = MemberFactory()
    subscription_add_by_handle(member=member, platform="github", handle="octocat", kind="account", topics=["code"])

    again = subscription_add_by_handle(member=member, platform="github", handle="OctoCat", kind="account")

    assert again.created is False
    assert Subscription.objects.filter(member=member).count() == 1
    assert again.subscription.topics == ["code"]  # unchanged by the second call


def test_two_members_share_one_feed_per_normalized_url():
    ana, ben = MemberFactory(), MemberFactory()
    feed = FeedFactory(url="https://example.com/feed.xml")

    subscription_add_by_url(member=ana, url="HTTPS://Example.COM:443/feed.xml#top", kind="source")
    subscription_add_by_url(member=ben, url="https://example.com/feed.xml", kind="source")

    assert Feed.objects.filter(url="https://example.com/feed.xml").count() == 1
    assert sorted(feed.subscriptions.values_list("member_id", flat=True)) == sorted([ana.pk, ben.pk])


def test_source_starts_private_and_explicit_choice_wins():
    member = MemberFactory()
    FeedFactory(url="https://a.example/feed"), FeedFactory(url="https://b.example/feed")

    private = subscription_add_by_url(member=member, url="https://a.example/feed", kind="source").subscription
    shared = subscription_add_by_url(
        member=member, url="https://b.example/feed", kind="source", is_shared=True
    ).subscription

    assert (private.is_shared, shared.is_shared) == (False, True)


def test_link_only_profile_is_stored_but_never_scheduled():
    member = MemberFactory()

    result = subscription_add_by_handle(
        member=member, platform="linkedin", handle="https://www.linkedin.com/in/ana-silva", kind="account"
    )

    feed = result.subscription.feed
    assert feed.status == Feed.Status.LINK_ONLY
    assert feed.url == "https://www.linkedin.com/in/ana-silva/"
    assert result.subscription.profile_url == "https://www.linkedin.com/in/ana-silva/"


def test_profile_link_of_a_platform_follows_its_rule():
    member = MemberFactory()

    result = subscription_add_by_url(member=member, url="https://mastodon.example/@ben", kind="account")

    assert result.subscription.feed.url == "https://mastodon.example/@ben.rss"


@pytest.mark.parametrize(
    ("platform", "handle", "message"),
    [
        ("mastodon", "@ana", "Add the server: @ana@server (for example @ana@mastodon.social)."),
        ("mastodon", "@ana@localhost", '"localhost" is not a server name. A server name looks like mastodon.social.'),
        ("bluesky", "ana@bsky.social", "A Bluesky handle has no @ inside: write ana.bsky.social, not ana@bsky.social."),
        ("github", "", "Enter a GitHub handle or link, for example octocat."),
        ("myspace", "ana", "plnorg does not know the platform 'myspace'."),
    ],
)
def test_wrong_handles_are_refused_with_a_reason_and_nothing_is_lost(platform, handle, message):
    member = MemberFactory()
    kept = SubscriptionFactory(member=member)

    with pytest.raises(SubscriptionRefused) as refused:
        subscription_add_by_handle(member=member, platform=platform, handle=handle, kind="account")

    assert refused.value.message == message
    assert list(Subscription.objects.filter(member=member)) == [kept]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed", "plnorg only fetches addresses that start with http:// or https://."),
        ("javascript:alert(1)", "plnorg only fetches addresses that start with http:// or https://."),
        (
            "http://127.0.0.1:9/feed",
            "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it.",
        ),
        ("http://10.1.2.3/", "That address is inside a private network, so plnorg will not fetch it."),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, message):
    member = MemberFactory()

    with pytest.raises(SubscriptionRefused) as refused:
        subscription_add_by_url(member=member, url=url, kind="source")

    assert refused.value.message == message
    assert not Subscription.objects.filter(member=member).exists()


def test_site_url_with_one_feed_is_discovered_and_registered(serve, allow_loopback):
    site = serve("127.0.0.2")
    site.route("/", page(f'<link rel="alternate" type="application/rss+xml" href="{site.url}/feed.xml">'))
    site.route("/feed.xml", RSS.format(title="Chen's notes"), content_type="application/rss+xml")
    member = MemberFactory()

    result = subscription_add_by_url(member=member, url=f"{site.url}/", kind="source")

    sub = result.subscription
    assert sub.feed.url == f"{site.url}/feed.xml"
    assert sub.feed.title == "Chen's notes"
    assert sub.feed.site_url == f"{site.url}/"
    assert sub.is_shared is False


def test_site_with_several_feeds_returns_candidates_then_registers_the_choice(serve, allow_loopback):
    site = serve("127.0.0.2")
    site.route(
        "/",
        page(
            f'<link rel="alternate" type="application/rss+xml" title="Posts" href="{site.url}/posts.xml">'
            f'<link rel="alternate" type="application/rss+xml" title="Comments" href="{site.url}/comments.xml">'
        ),
    )
    site.route("/posts.xml", RSS.format(title="Posts"), content_type="application/rss+xml")
    site.route("/comments.xml", RSS.format(title="Comments"), content_type="application/rss+xml")
    member = MemberFactory()

    first = subscription_add_by_url(member=member, url=site.url, kind="source")
    assert first.needs_choice
    assert [(c.url, c.title) for c in first.candidates] == [
        (f"{site.url}/posts.xml", "Posts"),
        (f"{site.url}/comments.xml", "Comments"),
    ]
    assert not Subscription.objects.filter(member=member).exists()

    second = subscription_add_by_url(member=member, url=site.url, kind="source", choose=f"{site.url}/comments.xml")

    assert second.subscription.feed.url == f"{site.url}/comments.xml"


def test_page_without_feed_is_refused(serve, allow_loopback):
    site = serve("127.0.0.2")
    site.route("/", page(""))
    member = MemberFactory()

    with pytest.raises(SubscriptionRefused) as refused:
        subscription_add_by_url(member=member, url=site.url, kind="source")

    assert refused.value.message == NO_FEED


def test_known_feed_url_is_subscribed_without_any_request(serve, allow_loopback):
    site = serve("127.0.0.2")
    FeedFactory(url=f"{site.url}/feed.xml")
    member = MemberFactory()

    result = subscription_add_by_url(member=member, url=f"{site.url}/feed.xml", kind="source")

    assert result.created is True
    assert site.requests == []


def test_remove_keeps_a_feed_others_use():
    feed = FeedFactory()
    mine = SubscriptionFactory(feed=feed)
    SubscriptionFactory(feed=feed)

    deleted = subscription_remove(subscription=mine)

    assert deleted is False
    assert Feed.objects.filter(pk=feed.pk).exists()
    assert feed.subscriptions.count() == 1


def test_remove_deletes_a_feed_left_without_subscribers():
    mine = SubscriptionFactory()

    deleted = subscription_remove(subscription=mine)

    assert deleted is True
    assert not Feed.objects.filter(pk=mine.feed_id).exists()
