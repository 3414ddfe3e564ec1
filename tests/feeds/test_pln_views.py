"""My PLN, onboarding and profile pages: what members see and what they can change."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import permissions as perm
from feeds.demo import CANARY_OWNER, CONSENT_CANARY
from feeds.models import Feed, Subscription
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import parse_page, text_of

pytestmark = pytest.mark.django_db

MY_URLS = [
    "feeds:my_pln",
    "feeds:subscription_add",
    "feeds:subscription_edit",
    "feeds:subscription_remove",
    "feeds:sharing_pause",
    "feeds:profile",
    "feeds:onboarding",
    "feeds:opml_import",
    "feeds:opml_export",
    "members:preferences",
    "members:unsubscribe",
    "members:invite",
    "members:import_csv",
    "members:invitation_accept",
    "my_data",
    "my_data_download",
    "account_delete",
    "offboarding",
    "offboard",
]


@pytest.fixture
def me(client):
    member = MemberFactory(display_name="Ana Test")
    client.force_login(member.user)
    return member


@pytest.mark.parametrize("persona", ["anonymous", "new", "employee", "admin"])
def test_my_urls_against_the_permission_map(persona, client_as, persona_user):
    from django.urls import get_resolver

    from tests.core.test_permissions import check_entry

    get_resolver().url_patterns  # noqa: B018 - loading the URLconf registers the entries
    client, user = client_as(persona), persona_user(persona)
    problems = [check_entry(name, perm.PERMISSIONS[name], persona, user, client) for name in MY_URLS]
    assert [p for p in problems if p] == []


def test_my_pln_lists_accounts_and_sources_with_status(client, me):
    waiting = FeedFactory(title="Ana's blog", url="https://ana.example/feed")
    broken = FeedFactory(title="Old podcast", last_error="The server answered 404: the feed is not there.")
    SubscriptionFactory(member=me, feed=waiting, kind="account", is_shared=True)
    SubscriptionFactory(member=me, feed=broken, kind="source", is_shared=False)

    page = text_of(client.get(reverse("feeds:my_pln")))

    assert "Accounts (1)" in page and "Sources (1)" in page
    assert "Ana's blog feed shared with colleagues" not in page
    assert "Waiting for the first fetch (usually within a minute)." in page
    assert "Last problem: The server answered 404: the feed is not there." in page
    assert "shared with colleagues" in page and "private" in page


def test_my_pln_empty_state_tells_what_to_do(client, me):
    page = text_of(client.get(reverse("feeds:my_pln")))

    assert "No accounts yet. Add your blog, your Mastodon or Bluesky handle" in page
    assert "No sources yet." in page


def test_my_pln_query_count_is_the_same_for_one_and_many(client, me):
    SubscriptionFactory(member=me)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("feeds:my_pln"))
    for _ in range(6):
        SubscriptionFactory(member=me, kind="account")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("feeds:my_pln"))

    assert text_of(response).count("Remove") == 7
    assert len(many) == len(one)


def test_add_handle_from_my_pln_lands_on_my_pln(client, me):
    response = client.post(
        reverse("feeds:subscription_add"),
        {"platform": "mastodon", "value": "@ana@social.example", "kind": "account", "share": "default", "topics": ""},
        follow=True,
    )

    sub = Subscription.objects.get(member=me)
    assert (sub.feed.url, sub.is_shared) == ("https://social.example/@ana.rss", True)
    assert "Added social.example. Colleagues can see it." in text_of(response)


def test_add_with_wrong_handle_shows_the_reason_next_to_the_field_and_keeps_input(client, me):
    SubscriptionFactory(member=me)

    response = client.post(
        reverse("feeds:subscription_add"),
        {"platform": "mastodon", "value": "@ana", "kind": "account", "share": "default"},
    )

    page = text_of(response)
    assert "Add the server: @ana@server (for example @ana@mastodon.social)." in page
    assert parse_page(response).forms[-1]["fields"]["value"] == "@ana"
    assert Subscription.objects.filter(member=me).count() == 1


def test_add_from_onboarding_with_private_choice_and_topics(client, me):
    FeedFactory(url="https://blog.example/feed.xml", title="A blog")

    response = client.post(
        reverse("feeds:subscription_add"),
        {
            "origin": "onboarding",
            "value": "https://blog.example/feed.xml",
            "kind": "source",
            "share": "no",
            "topics": "Data, teaching",
        },
        follow=True,
    )

    sub = Subscription.objects.get(member=me)
    me.refresh_from_db()
    assert (sub.is_shared, sub.topics) == (False, ["data", "teaching"])
    assert me.onboarded_at is not None
    assert response.redirect_chain[-1][0] == reverse("feeds:my_pln")
    assert "Added A blog. Only you can see it." in text_of(response)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("origin", "template"), [("", "feeds/pln/my_pln.html"), ("onboarding", "feeds/onboarding.html")]
)
def test_add_a_site_announcing_ten_slow_feeds_answers_within_the_budget_and_saves_nothing(
    client, me, slow_site, origin, template
):
    started = time.monotonic()

    response = client.post(
        reverse("feeds:subscription_add"),
        {"origin": origin, "platform": "", "value": slow_site.url, "kind": "source", "share": "no"},
    )

    elapsed = time.monotonic() - started
    assert elapsed < slow_site.budget_seconds + 2.0, f"the request took {elapsed:.1f} s"
    assert response.status_code == 200
    assert template in [t.name for t in response.templates]
    assert slow_site.message in text_of(response)
    add_form = next(form for form in parse_page(response).forms if "value" in form["fields"])
    assert add_form["fields"]["value"] == slow_site.url
    assert Subscription.objects.filter(member=me).count() == 0
    assert Feed.objects.filter(url__startswith=slow_site.server.url).count() == 0
    me.refresh_from_db()
    assert me.onboarded_at is None


def test_edit_changes_sharing_and_topics(client, me):
    sub = SubscriptionFactory(member=me, is_shared=False, topics=["x"])

    client.post(
        reverse("feeds:subscription_edit", kwargs={"subscription_id": sub.pk}),
        {"kind": "source", "is_shared": "on", "topics": "design, ux"},
    )

    sub.refresh_from_db()
    assert (sub.is_shared, sub.topics) == (True, ["design", "ux"])


def test_someone_elses_subscription_is_404_for_edit_and_remove(client, me):
    other = SubscriptionFactory()

    edit = client.get(reverse("feeds:subscription_edit", kwargs={"subscription_id": other.pk}))
    remove = client.post(reverse("feeds:subscription_remove", kwargs={"subscription_id": other.pk}))

    assert (edit.status_code, remove.status_code) == (404, 404)
    assert Subscription.objects.filter(pk=other.pk).exists()


def test_remove_my_subscription_keeps_the_shared_feed(client, me):
    feed = FeedFactory()
    mine = SubscriptionFactory(member=me, feed=feed)
    SubscriptionFactory(feed=feed)

    response = client.post(reverse("feeds:subscription_remove", kwargs={"subscription_id": mine.pk}), follow=True)

    assert not Subscription.objects.filter(pk=mine.pk).exists()
    assert Feed.objects.filter(pk=feed.pk).exists()
    assert f"Removed {feed.title} from your PLN." in text_of(response)


def test_profile_shows_only_shared_items_and_nothing_when_paused(client, me):
    colleague = MemberFactory(display_name="Ben Colleague")
    SubscriptionFactory(member=colleague, feed=FeedFactory(title="Ben shares this"), is_shared=True)
    SubscriptionFactory(member=colleague, feed=FeedFactory(title="Ben keeps this"), is_shared=False)
    url = reverse("feeds:profile", kwargs={"member_id": colleague.pk})

    before = text_of(client.get(url))
    colleague.sharing_paused = True
    colleague.save()
    after = text_of(client.get(url))

    assert "Ben shares this" in before and "Ben keeps this" not in before
    assert "Ben shares this" not in after and "No shared accounts." in after


def _profile_queries(client, url: str) -> tuple[int, str]:
    client.get(url)  # warm per-process caches (site settings, navigation)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), text_of(response)


def test_profile_query_count_is_the_same_for_1_and_20_shared_items(client, me):
    colleague = MemberFactory(display_name="Ben Colleague")
    url = reverse("feeds:profile", kwargs={"member_id": colleague.pk})
    SubscriptionFactory(member=colleague, feed=FeedFactory(title="Shared 00"), kind="account", topics=["data"])

    one, one_text = _profile_queries(client, url)
    for n in range(1, 20):
        kind = "account" if n % 2 else "source"
        SubscriptionFactory(member=colleague, feed=FeedFactory(title=f"Shared {n:02d}"), kind=kind, topics=["data"])
    many, many_text = _profile_queries(client, url)

    assert [f"Shared {n:02d}" in one_text for n in range(20)] == [True] + [False] * 19
    assert all(f"Shared {n:02d}" in many_text for n in range(20))
    assert many == one


def test_profile_of_the_canary_owner_never_shows_the_canary(client_as):
    from members.models import Member

    owner = Member.objects.get(user__email__startswith=f"{CANARY_OWNER}@")

    page = client_as("employee").get(reverse("feeds:profile", kwargs={"member_id": owner.pk}))

    assert page.status_code == 200
    assert CONSENT_CANARY not in page.content.decode()


def test_profile_of_a_deactivated_member_is_404(client, me):
    gone = MemberFactory()
    gone.user.is_active = False
    gone.user.save()

    assert client.get(reverse("feeds:profile", kwargs={"member_id": gone.pk})).status_code == 404


def test_pause_sharing_hides_everything_from_shared_querysets(client, me):
    SubscriptionFactory(member=me, is_shared=True)

    client.post(reverse("feeds:sharing_pause"), {"paused": "1"})

    me.refresh_from_db()
    assert me.sharing_paused is True
    assert not Subscription.objects.shared().filter(member=me).exists()
    client.post(reverse("feeds:sharing_pause"), {"paused": "0"})
    assert Subscription.objects.shared().filter(member=me).count() == 1


def test_onboarding_explains_and_offers_one_example_per_platform(client, me):
    from feeds.platforms import PLATFORMS

    page = text_of(client.get(reverse("feeds:onboarding")))

    assert "What is a PLN?" in page
    assert "Nobody sees what you keep private." in page
    for platform in PLATFORMS:
        assert f"{platform.label}: {platform.example}" in page
