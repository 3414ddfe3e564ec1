"""Atom out (stream and picks through a secret URL) and the secret's reset."""

import io
from datetime import timedelta

import feedparser
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feeds.curation import feed_token_get
from feeds.models import Entry, FeedToken
from tests.factories import EntryFactory, FeedFactory, MemberFactory, PickFactory, SubscriptionFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def parse(response):
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(io.BytesIO(response.content))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


@pytest.fixture
def topic_feed():
    """A shared feed on a topic nobody else uses, with two entries; and a
    private subscription on another topic that must never filter anything in."""
    feed = FeedFactory(title="Atom topic feed")
    SubscriptionFactory(feed=feed, is_shared=True, topics=["atomtopic"])
    SubscriptionFactory(feed=feed, is_shared=False, topics=["privatetopic"])
    now = timezone.now()
    older = EntryFactory(feed=feed, title="Older post", published_at=now - timedelta(hours=2))
    newer = EntryFactory(feed=feed, title="Newer post", published_at=now - timedelta(hours=1))
    # Stored HTML is sanitized on the way in; the feed sanitizes again on the way out.
    Entry.objects.filter(pk=newer.pk).update(
        summary='<p>Fine</p><script>alert("x")</script><img src=x onerror=alert(1)>'
    )
    return {"feed": feed, "older": older, "newer": newer}


def stream_url(member, query=""):
    return reverse("feeds:atom_stream", kwargs={"token": feed_token_get(member=member).token}) + query


def test_stream_atom_is_valid_filtered_newest_first_and_sanitized(topic_feed):
    member = MemberFactory()

    parsed = parse(Client().get(stream_url(member, "?topic=atomtopic")))

    assert [e.title for e in parsed.entries] == ["Newer post", "Older post"]
    body = parsed.entries[0].summary
    assert "Fine" in body
    assert "<script" not in body and "onerror" not in body
    assert parsed.entries[0].id.startswith("tag:")
    raw = Client().get(stream_url(member, "?topic=atomtopic")).content.decode()
    assert "<script" not in raw and "onerror" not in raw


def test_private_topics_and_unshared_entries_never_go_out(topic_feed):
    member = MemberFactory()
    private_feed = FeedFactory()
    SubscriptionFactory(feed=private_feed, is_shared=False, topics=["atomtopic"])
    EntryFactory(feed=private_feed, title="Private post")

    assert parse(Client().get(stream_url(member, "?topic=privatetopic"))).entries == []
    titles = [e.title for e in parse(Client().get(stream_url(member, "?topic=atomtopic"))).entries]
    assert "Private post" not in titles


def test_picks_atom_carries_the_note(topic_feed):
    PickFactory(
        entry=topic_feed["older"], note="Read this before Friday", created_at=timezone.now() + timedelta(days=1)
    )
    member = MemberFactory()

    parsed = parse(Client().get(reverse("feeds:atom_picks", kwargs={"token": feed_token_get(member=member).token})))

    assert parsed.entries[0].title == "Older post"
    assert "Read this before Friday" in parsed.entries[0].summary
    picks_only = parse(Client().get(stream_url(member, "?topic=atomtopic&picks=1")))
    assert [e.title for e in picks_only.entries] == ["Older post"]


def test_reset_makes_the_old_url_answer_404_and_the_page_shows_the_new_one(topic_feed):
    member = MemberFactory()
    client = Client()
    client.force_login(member.user)
    old_url = stream_url(member)
    assert Client().get(old_url).status_code == 200

    client.post(reverse("feeds:feeds_out_reset"))

    new_token = FeedToken.objects.get(member=member).token
    assert new_token not in old_url
    assert Client().get(old_url).status_code == 404
    assert Client().get(stream_url(member)).status_code == 200
    page = text_of(client.get(reverse("feeds:feeds_out")))
    assert new_token in client.get(reverse("feeds:feeds_out")).content.decode()
    assert "Feeds out" in page


def test_deactivated_member_url_answers_404(topic_feed):
    member = MemberFactory()
    url = stream_url(member)
    picks = reverse("feeds:atom_picks", kwargs={"token": feed_token_get(member=member).token})
    member.user.is_active = False
    member.user.save()

    assert Client().get(url).status_code == 404
    assert Client().get(picks).status_code == 404


def test_unknown_token_answers_404():
    assert Client().get(reverse("feeds:atom_stream", kwargs={"token": "not-a-real-token"})).status_code == 404


def test_feeds_out_page_carries_the_stream_filters_into_the_url():
    member = MemberFactory()
    client = Client()
    client.force_login(member.user)

    html = client.get(reverse("feeds:feeds_out") + "?topic=data&picks=1&evil=1").content.decode()

    token = FeedToken.objects.get(member=member).token
    # Only the stream's filters are carried over (the address ends after them).
    assert f'/out/{token}/stream.atom?picks=1&amp;topic=data"' in html
