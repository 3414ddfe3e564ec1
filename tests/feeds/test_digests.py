"""Digests: content and order, idempotency, preferences, and unsubscribing
through the links and headers every digest carries."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from feeds.digests import digest_period, digests_send_due
from feeds.models import Subscription
from members.models import Member, OutboundEmail
from members.outbox import email_send
from tests.factories import (
    EntryFactory,
    FeedFactory,
    MemberFactory,
    PickFactory,
    RecommendationFactory,
    SavedEntryFactory,
    SubscriptionFactory,
)
from tests.pages import text_of

pytestmark = pytest.mark.django_db

# A day far from the demo data's dates: its digest period holds only what the tests make.
NOW = datetime(2031, 3, 12, 6, 11, tzinfo=UTC)  # a Wednesday
DAY = datetime(2031, 3, 11, tzinfo=UTC)  # the daily period: 11 March, 00:00 to 24:00 UTC


def at(hour: int, day: datetime = DAY) -> datetime:
    return day + timedelta(hours=hour)


@pytest.fixture
def world():
    me = MemberFactory(display_name="Mona", digest=Member.Digest.DAILY, interests="digesttopic")
    mate = MemberFactory(display_name="Nico", team=me.team)
    other = MemberFactory(display_name="Omar")
    stranger = MemberFactory(display_name="Pia")
    team_feed = FeedFactory(title="Team feed")
    topic_feed = FeedFactory(title="Topic feed")
    far_feed = FeedFactory(title="Far feed")
    SubscriptionFactory(member=mate, feed=team_feed, kind=Subscription.Kind.ACCOUNT, is_shared=True)
    SubscriptionFactory(member=other, feed=topic_feed, is_shared=True, topics=["digesttopic"])
    SubscriptionFactory(member=stranger, feed=far_feed, is_shared=True, topics=["elsewhere"])
    e = {
        "t1": EntryFactory(feed=team_feed, title="Team one", published_at=at(10)),
        "t2": EntryFactory(feed=team_feed, title="Team two", published_at=at(12)),
        "t3": EntryFactory(feed=team_feed, title="Team three", published_at=at(13)),
        "s1": EntryFactory(feed=topic_feed, title="Topic one", published_at=at(9)),
        "x1": EntryFactory(feed=far_feed, title="Far one", published_at=at(11)),
        "x2": EntryFactory(feed=far_feed, title="Far two", published_at=at(11)),
        "old": EntryFactory(feed=team_feed, title="Team old", published_at=at(10, DAY - timedelta(days=1))),
    }
    # Scores: s1 = 2 saves + 1 recommendation = 3; t3 = 1 save; t1 = 1 save (older than t3); t2 = 0.
    SavedEntryFactory(entry=e["s1"])
    SavedEntryFactory(entry=e["s1"])
    RecommendationFactory(entry=e["s1"])
    SavedEntryFactory(entry=e["t3"])
    SavedEntryFactory(entry=e["t1"])
    # A pick made during the period (of an entry outside my team and topics).
    PickFactory(entry=e["x1"], note="Matters because of X", created_at=at(15))
    # A recommendation to me during the period; its entry is not repeated below.
    RecommendationFactory(sender=mate, recipient=me, entry=e["t2"], note="For your talk", created_at=at(16))
    # Dismissed, and outside the period: neither appears.
    RecommendationFactory(recipient=me, entry=e["x2"], created_at=at(8), dismissed_at=at(9))
    RecommendationFactory(recipient=me, entry=e["old"], created_at=at(8, DAY - timedelta(days=1)))
    return {"me": me, "mate": mate, "entries": e}


def my_email(member) -> OutboundEmail:
    return OutboundEmail.objects.get(user=member.user, kind="digest")


def test_daily_digest_content_in_order(world):
    me = world["me"]

    digests_send_due(now=NOW)

    email = my_email(me)
    assert email.idempotency_key == f"digest:{me.pk}:daily:2031-03-11"
    assert email.to == me.user.email
    assert email.subject == "Your daily plnorg digest: 1 pick, 1 recommendation, 3 new entries"
    text = email.body_text
    order = ["PICKS", "Far one", "Matters because of X", "RECOMMENDED TO YOU", "Team two", "from Nico: \"For your talk\"",
             "FROM YOUR TEAM AND TOPICS", "Topic one", "Team three", "Team one"]  # fmt: skip
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    for absent in ("Far two", "Team old"):
        assert absent not in text
    html = text_of(email.body_html)
    assert html.index("Topic one") < html.index("Team three") < html.index("Team one")


def test_a_retry_never_sends_the_same_digest_twice(world):
    me = world["me"]
    mail.outbox = []

    digests_send_due(now=NOW)
    digests_send_due(now=NOW + timedelta(hours=3))  # the task run again, same period
    email = my_email(me)
    email_send(email_id=email.pk)
    email_send(email_id=email.pk)

    assert OutboundEmail.objects.filter(user=me.user, kind="digest").count() == 1
    assert [m.to for m in mail.outbox].count([me.user.email]) == 1


def test_weekly_digest_covers_the_last_iso_week(world):
    me = world["me"]
    me.digest = Member.Digest.WEEKLY
    me.save()

    period = digest_period(frequency=Member.Digest.WEEKLY, now=NOW)
    digests_send_due(now=NOW)

    assert (period.start, period.end, period.label) == (
        datetime(2031, 3, 3, tzinfo=UTC),
        datetime(2031, 3, 10, tzinfo=UTC),
        "2031-W10",
    )
    # 11 March is in the current week: last week's digest is empty, so none is sent.
    assert not OutboundEmail.objects.filter(user=me.user, kind="digest").exists()
    digests_send_due(now=NOW + timedelta(days=6))  # the next Tuesday: week 11 closed
    assert my_email(me).idempotency_key == f"digest:{me.pk}:weekly:2031-W11"
    assert "Topic one" in my_email(me).body_text


@pytest.mark.parametrize("change", [{"digest": Member.Digest.OFF}, {"email_opt_outs": ["digest"]}])
def test_nothing_is_sent_to_those_who_chose_off(world, change):
    Member.objects.filter(pk=world["me"].pk).update(**change)

    digests_send_due(now=NOW)

    assert not OutboundEmail.objects.filter(user=world["me"].user, kind="digest").exists()


def unsubscribe_path(email) -> str:
    header = email.headers["List-Unsubscribe"]
    assert header.startswith(f"<{settings.SITE_URL}/") and header.endswith(">")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in email.body_text
    assert url in email.body_html
    return url[len(settings.SITE_URL) :]


def test_unsubscribe_link_get_then_post_turns_the_digest_off(world):
    me = world["me"]
    digests_send_due(now=NOW)
    path = unsubscribe_path(my_email(me))
    client = Client()

    confirm = client.get(path)
    me.refresh_from_db()
    assert me.digest == Member.Digest.DAILY  # a GET (a mail scanner) changes nothing
    assert confirm.status_code == 200
    done = client.post(path)

    me.refresh_from_db()
    assert done.status_code == 200
    assert (me.digest, "digest" in me.email_opt_outs) == (Member.Digest.OFF, True)
    digests_send_due(now=NOW + timedelta(days=1))
    assert OutboundEmail.objects.filter(user=me.user, kind="digest").count() == 1


def test_one_click_post_from_the_mail_client(world):
    me = world["me"]
    digests_send_due(now=NOW)
    path = unsubscribe_path(my_email(me))

    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    me.refresh_from_db()
    assert response.status_code == 200
    assert me.digest == Member.Digest.OFF


def test_a_tampered_unsubscribe_link_changes_nothing(world):
    me = world["me"]
    digests_send_due(now=NOW)
    path = unsubscribe_path(my_email(me))
    token = path.rstrip("/").rsplit("/", 1)[-1]
    tampered = path.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))

    for response in (Client().get(tampered), Client().post(tampered, "List-Unsubscribe=One-Click",
                                                            content_type="application/x-www-form-urlencoded")):  # fmt: skip
        assert response.status_code == 400
        assert "not valid" in text_of(response)
    me.refresh_from_db()
    assert me.digest == Member.Digest.DAILY


def test_an_expired_unsubscribe_link_changes_nothing(world, monkeypatch):
    me = world["me"]
    real_time = time.time
    # The digest was written 61 days ago (links work for 60).
    monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() - 61 * 86400)
    digests_send_due(now=NOW)
    monkeypatch.setattr("django.core.signing.time.time", real_time)
    path = unsubscribe_path(my_email(me))

    response = Client().post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    me.refresh_from_db()
    assert response.status_code == 400
    assert "expired" in text_of(response)
    assert me.digest == Member.Digest.DAILY


def test_header_and_footer_carry_the_same_link_when_the_clock_ticks_between_them(world, monkeypatch):
    """Signed tokens embed a timestamp: a digest written across a second boundary
    once had different tokens in its header and its footer."""
    ticks = iter(range(10_000))
    start = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: start + next(ticks))  # a second per call

    digests_send_due(now=NOW)

    email = my_email(world["me"])
    url = email.headers["List-Unsubscribe"][1:-1]
    assert url in email.body_text
    assert url in email.body_html
