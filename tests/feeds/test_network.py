"""The network view's figures on a hand-made organization.

Every test starts by removing the demo subscriptions (rolled back at the
end), so only the data set below is shared. Expected values are worked out
in the comments from the definitions in feeds/network.py.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feeds.models import EntryLink, Subscription
from feeds.network import (
    NETWORK_CACHE_KEY,
    NETWORK_FIGURES_KEY,
    discover_follow,
    discover_for,
    network_figures,
    network_figures_compute,
    network_figures_refresh,
)
from members.models import OrganizationSettings
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db

ACCOUNT, SOURCE = Subscription.Kind.ACCOUNT, Subscription.Kind.SOURCE


def entry(feed, *, days_ago: float, links=()):
    e = EntryFactory(feed=feed, published_at=timezone.now() - timedelta(days=days_ago))
    for url in links:
        EntryLink.objects.create(entry=e, url=url, domain=url.split("/")[2])
    return e


@pytest.fixture
def org():
    Subscription.objects.all().delete()  # only the data set below is shared
    ana = MemberFactory(display_name="Ana")
    ben = MemberFactory(display_name="Ben", team=ana.team)
    cat = MemberFactory(display_name="Cat")
    dan = MemberFactory(display_name="Dan", team=cat.team)
    erin = MemberFactory(display_name="Erin", sharing_paused=True)
    eve = MemberFactory(display_name="Eve")

    podcast = FeedFactory(title="Podcast P", platform="podcast")
    blog = FeedFactory(title="Blog B")
    secret = FeedFactory(title="Secret S")
    ana_account = FeedFactory(title="Ana writes")
    ben_account = FeedFactory(title="Ben writes")

    # Podcast P: shared by Ana, Ben, Cat; Dan keeps it private; Erin paused her sharing.
    SubscriptionFactory(member=ana, feed=podcast, kind=SOURCE, is_shared=True, topics=["data"])
    SubscriptionFactory(member=ben, feed=podcast, kind=SOURCE, is_shared=True, topics=["data"])
    SubscriptionFactory(member=cat, feed=podcast, kind=SOURCE, is_shared=True, topics=["data", "ml"])
    SubscriptionFactory(member=dan, feed=podcast, kind=SOURCE, is_shared=False, topics=["data"])
    SubscriptionFactory(member=erin, feed=podcast, kind=SOURCE, is_shared=True, topics=["data"])
    # Blog B: only Ana shares it; Ben follows it privately.
    SubscriptionFactory(member=ana, feed=blog, kind=SOURCE, is_shared=True, topics=["design"])
    SubscriptionFactory(member=ben, feed=blog, kind=SOURCE, is_shared=False, topics=["design"])
    # Secret S: private to Ana and Ben: it must appear nowhere.
    SubscriptionFactory(member=ana, feed=secret, kind=SOURCE, is_shared=False, topics=["secret"])
    SubscriptionFactory(member=ben, feed=secret, kind=SOURCE, is_shared=False, topics=["secret"])
    # What Ana and Ben publish.
    SubscriptionFactory(member=ana, feed=ana_account, kind=ACCOUNT, is_shared=True, topics=["data"])
    SubscriptionFactory(member=ben, feed=ben_account, kind=ACCOUNT, is_shared=True, topics=["data"])

    x, y, z = "https://x.example/a", "https://y.example/b", "https://z.example/c"
    # This week on "data": Podcast 3 + Ana 2 + Ben 2 = 7 entries.
    for d in (1, 2, 3):
        entry(podcast, days_ago=d)
    entry(ana_account, days_ago=1, links=[x])
    entry(ana_account, days_ago=2)
    entry(ben_account, days_ago=2, links=[x])
    entry(ben_account, days_ago=3, links=[z])
    # The four weeks before on "data": Podcast 4 + Ana 1 = 5 (weekly average 1.25; 7 >= 2.5 and >= 5: rising).
    for d in (10, 17, 24, 31):
        entry(podcast, days_ago=d)
    entry(ana_account, days_ago=10, links=[z])  # Z: the old entry is out of the week, so only Ben reaches it
    # "ml" (Podcast only): 3 this week < 5: not rising.
    # "design" (Blog B): 5 this week, 12 the four weeks before (average 3, needs 6): not rising.
    entry(blog, days_ago=1, links=[y])
    for d in (2, 3, 4, 5):
        entry(blog, days_ago=d)
    for week in range(1, 5):
        for d in (1, 2, 3):
            entry(blog, days_ago=7 * week + d)
    # "secret": 10 private entries this week, linking to Y: never counted.
    for d in range(10):
        entry(secret, days_ago=1 + d / 10, links=[y])
    # An older entry of Ana's account, still within 90 days.
    entry(ana_account, days_ago=80)
    # And one beyond 90 days (not counted for people by topic).
    entry(ana_account, days_ago=95)
    return {"ana": ana, "ben": ben, "cat": cat, "dan": dan, "erin": erin, "eve": eve, "podcast": podcast, "blog": blog}


def names(people):
    return [p.name for p in people]


def test_shared_sources_count_only_shared_subscriptions(org):
    figures = network_figures_compute()

    assert [(s.title, names(s.people)) for s in figures.shared_sources] == [("Podcast P", ["Ana", "Ben", "Cat"])]
    assert [(s.title, names(s.people)) for s in figures.single_sources] == [("Blog B", ["Ana"])]


def test_what_we_are_all_reading_needs_two_members_this_week(org):
    figures = network_figures_compute()

    # X: Ana's and Ben's entries this week. Y: Blog B reaches only Ana (Secret S is private).
    # Z: this week only Ben's entry points to it.
    assert [(link.url, names(link.people), link.entries) for link in figures.links] == [
        ("https://x.example/a", ["Ana", "Ben"], 2)
    ]


def test_rising_topics(org):
    figures = network_figures_compute()

    assert [(r.topic, r.this_week, r.weekly_average) for r in figures.rising] == [("data", 7, 1.25)]


def test_people_by_topic(org):
    figures = network_figures_compute()

    # data: Ana 3 entries (1, 2 and 10 days ago) + 1 (80 days) = 4, 1 source; Ben 2 entries, 1 source;
    # Cat 0 entries, 1 source; Dan (private) and Erin (paused) absent.
    data = [(r.person.name, r.entries, r.sources) for r in figures.people_by_topic["data"]]
    assert data == [("Ana", 4, 1), ("Ben", 2, 1), ("Cat", 0, 1)]
    assert [(r.person.name, r.entries, r.sources) for r in figures.people_by_topic["ml"]] == [("Cat", 0, 1)]
    assert sorted(figures.people_by_topic) == ["data", "design", "ml"]


def test_discover_lists_what_colleagues_share_and_i_do_not_follow(org):
    eve_finds = discover_for(member=org["eve"])
    assert [(d.feed.title, d.count, d.topics) for d in eve_finds] == [("Podcast P", 3, ["data", "ml"])]
    # Dan follows the podcast privately: nothing to discover. Blog B has only one sharer.
    assert discover_for(member=org["dan"]) == []


def test_one_click_follow_adds_a_private_source_unless_shared(org):
    result = discover_follow(member=org["eve"], feed_id=org["podcast"].pk)

    sub = result.subscription
    assert (sub.member, sub.kind, sub.is_shared, sub.topics) == (org["eve"], SOURCE, False, ["data", "ml"])
    shared = discover_follow(member=MemberFactory(), feed_id=org["podcast"].pk, share=True).subscription
    assert shared.is_shared is True


def test_follow_of_a_feed_nobody_shares_answers_404(org):
    client = Client()
    client.force_login(org["eve"].user)
    secret = Subscription.objects.filter(feed__title="Secret S").first().feed

    response = client.post(reverse("feeds:network_follow", kwargs={"feed_id": secret.pk}))

    assert response.status_code == 404
    assert not Subscription.objects.filter(member=org["eve"]).exists()


def test_network_page_shows_the_figures_and_never_private_sources(org):
    client = Client()
    client.force_login(org["eve"].user)

    # text_of puts a space where a link ends: "<a>Ana</a>, " reads "Ana ,".
    page = text_of(client.get(reverse("feeds:network"))).replace(" ,", ",").replace(" :", ":")

    assert "Podcast P 3 — Ana, Ben, Cat" in page
    assert "3 colleagues share a podcast you don't follow: Podcast P" in page
    assert "https://x.example/a 2 Ana, Ben" in page
    assert "data: 7 entries this week" in page
    assert "Secret S" not in page
    assert "Dan" not in page
    people = text_of(client.get(reverse("feeds:network") + "?topic=data"))
    assert "Ana — 4 entries, 1 sources Ben — 2 entries, 1 sources Cat — 0 entries, 1 sources" in people


def test_the_page_made_from_cached_html_follows_a_refresh_of_the_figures(org):
    """The figures' HTML is cached by the computation's token: a second view
    is made from it, and a refresh (the beat task's) shows new shares at once."""
    client = Client()
    client.force_login(org["eve"].user)
    network = reverse("feeds:network")

    def page():
        return text_of(client.get(network)).replace(" ,", ",")

    first = page()
    assert "Podcast P 3 — Ana, Ben, Cat" in first
    assert page() == first  # from the cached HTML: the same page
    token = cache.get(NETWORK_CACHE_KEY)
    assert cache.get(make_template_fragment_key("network_figures", [token, "en"])) is not None

    SubscriptionFactory(member=org["dan"], feed=org["blog"], kind=SOURCE, is_shared=True, topics=["design"])
    assert "Blog B 2 — Ana, Dan" not in page()  # figures are computed every 15 minutes, not per request
    network_figures_refresh()

    assert "Blog B 2 — Ana, Dan" in page()
    assert cache.get(NETWORK_CACHE_KEY) != token


def test_a_process_takes_the_figures_another_process_computed(org):
    """Each process keeps its own copy of the current figures; a refresh by
    another process (new token in the cache) replaces it on the next read."""
    mine = network_figures()
    assert network_figures() is mine  # this process's copy, not unpickled again

    SubscriptionFactory(member=org["dan"], feed=org["blog"], kind=SOURCE, is_shared=True, topics=["design"])
    theirs = network_figures_compute()  # what a worker's refresh writes
    cache.set(NETWORK_FIGURES_KEY % theirs.token, theirs)
    cache.set(NETWORK_CACHE_KEY, theirs.token)

    now = network_figures()
    assert now.token == theirs.token
    assert [(s.title, [p.name for p in s.people]) for s in now.shared_sources] == [
        ("Podcast P", ["Ana", "Ben", "Cat"]),
        ("Blog B", ["Ana", "Dan"]),
    ]


def test_switched_off_the_page_explains_and_the_task_computes_nothing(org):
    settings_row = OrganizationSettings.get()
    settings_row.network_figures_enabled = False
    settings_row.save()
    client = Client()
    client.force_login(org["eve"].user)

    page = text_of(client.get(reverse("feeds:network")))

    assert "switched network figures off" in page
    assert "Podcast P" not in page
    assert network_figures_refresh() is False


def test_network_page_query_count_is_the_same_for_small_and_large_networks(org):
    client = Client()
    client.force_login(org["eve"].user)

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("feeds:network")).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for n in range(4):
        feed = FeedFactory(title=f"More {n}")
        for _ in range(3):
            SubscriptionFactory(feed=feed, is_shared=True, topics=[f"t{n}"])
        entry(feed, days_ago=1, links=["https://x.example/a"])
    assert count() == small


def test_org_opml_lists_shared_sources_only(org):
    client = Client()
    client.force_login(org["eve"].user)

    body = client.get(reverse("feeds:network_opml")).content.decode()

    assert 'title="Podcast P"' in body
    assert 'title="Blog B"' in body
    assert "Secret S" not in body
    assert "Ana writes" not in body  # accounts are not sources
