"""The demo feeds: bundled documents through the real path, subscriptions, the consent canary."""

import pytest
from django.db.models import Count

from feeds.demo import CANARY_OWNER, CONSENT_CANARY, DEMO_FEEDS, demo_shift, seed_feeds
from feeds.models import Entry, Feed, FetchLog, Subscription
from members.demo import seed_people
from members.models import Member


@pytest.mark.django_db
def test_demo_feeds_are_seeded_and_never_scheduled():
    feeds = Feed.objects.filter(url__in=[spec.url for spec in DEMO_FEEDS.values()])
    assert feeds.count() == len(DEMO_FEEDS) == 22
    assert set(feeds.values_list("is_demo", flat=True)) == {True}
    assert Entry.objects.filter(feed__in=feeds).count() == 370
    assert not FetchLog.objects.filter(feed__in=feeds).exists()


@pytest.mark.django_db
def test_every_member_but_the_newcomer_has_accounts_and_sources():
    counts = {
        m.user.email: (m.accounts, m.sources)
        for m in Member.objects.annotate(
            accounts=Count("subscriptions", filter=models_q("account")),
            sources=Count("subscriptions", filter=models_q("source")),
        ).select_related("user")
    }
    lacking = sorted(email for email, (a, s) in counts.items() if not a or not s)
    assert lacking == ["newcomer@example.com"]


def models_q(kind):
    from django.db.models import Q

    return Q(subscriptions__kind=kind)


@pytest.mark.django_db
def test_consent_canary_feeds_are_private_to_their_owner():
    canary_feeds = Feed.objects.filter(title__contains=CONSENT_CANARY)
    subscriptions = Subscription.objects.filter(feed__in=canary_feeds)
    assert sorted(subscriptions.values_list("member__user__email", "kind", "is_shared")) == [
        (f"{CANARY_OWNER}@example.com", "account", False),
        (f"{CANARY_OWNER}@example.com", "source", False),
    ]
    assert Entry.objects.filter(feed__in=canary_feeds, title__contains=CONSENT_CANARY).count() == 10
    assert not Entry.objects.shared().filter(feed__in=canary_feeds).exists()


@pytest.mark.django_db
def test_demo_entries_are_recent_and_sanitized():
    entries = Entry.objects.filter(feed__is_demo=True)
    newest = entries.order_by("-published_at").first().published_at
    oldest = entries.order_by("published_at").first().published_at
    assert (newest - oldest).days <= 71
    assert not entries.filter(summary__icontains="<script").exists()
    assert not entries.filter(summary__contains='width="1" height="1"').exists()
    assert entries.filter(summary__contains='rel="noopener noreferrer nofollow"').count() > 100
    assert demo_shift().days > 0


@pytest.mark.django_db
def test_seeding_again_changes_nothing():
    before = list(Entry.objects.filter(feed__is_demo=True).order_by("pk").values_list("pk", "updated_at"))
    subscriptions = Subscription.objects.count()

    seed_feeds(seed_people())

    assert list(Entry.objects.filter(feed__is_demo=True).order_by("pk").values_list("pk", "updated_at")) == before
    assert Subscription.objects.count() == subscriptions
