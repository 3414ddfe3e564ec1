"""factory_boy factories, one per model (members and feeds). Other apps keep
theirs in tests/<app>/factories.py."""

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from feeds.models import Entry, Feed, Subscription
from members.models import Member, Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.get_or_create(user=obj, email=obj.email, defaults={"verified": True, "primary": True})


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Person {n}")
    team = factory.SubFactory(TeamFactory)


class FeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feed

    url = factory.Sequence(lambda n: f"https://feeds{n}.example.net/feed.xml")
    title = factory.Sequence(lambda n: f"Feed {n}")
    site_url = factory.Sequence(lambda n: f"https://feeds{n}.example.net/")
    platform = "blog"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    member = factory.SubFactory(MemberFactory)
    feed = factory.SubFactory(FeedFactory)
    kind = Subscription.Kind.SOURCE
    is_shared = True


class EntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entry

    feed = factory.SubFactory(FeedFactory)
    identity = factory.Sequence(lambda n: f"urn:entry:{n}")
    title = factory.Sequence(lambda n: f"Entry {n}")
    link = factory.Sequence(lambda n: f"https://feeds.example.net/posts/{n}")
    published_at = factory.LazyFunction(timezone.now)
    summary = "<p>A summary.</p>"


# --- Curation (feeds/curation.py) ---


class PickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feeds.Pick"

    entry = factory.SubFactory(EntryFactory)
    note = "Why this matters for us."


class SavedEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feeds.SavedEntry"

    member = factory.SubFactory(MemberFactory)
    entry = factory.SubFactory(EntryFactory)


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feeds.Recommendation"

    sender = factory.SubFactory(MemberFactory)
    recipient = factory.SubFactory(MemberFactory)
    entry = factory.SubFactory(EntryFactory)
    note = "Thought of you."


class StarterPackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feeds.StarterPack"

    title = factory.Sequence(lambda n: f"Starter pack {n}")
    topic = "data"


def shared_entry(**kwargs):
    """An entry the organization can see: its feed is shared by someone."""
    feed = FeedFactory()
    SubscriptionFactory(feed=feed, is_shared=True)
    return EntryFactory(feed=feed, **kwargs)
