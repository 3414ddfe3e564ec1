"""Every optional email kind, sent through its real service: it carries the
List-Unsubscribe headers, the same signed link in its body and the link to the
preferences page; a one-click POST of that link turns exactly that kind off;
and members who turned a kind off get none of it. Mail a member cannot turn
off (sign-up verification, password reset, invitations, workshop
confirmations) carries none of these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from feeds.curation import recommendation_send
from feeds.digests import digest_send
from feeds.ingest import feed_fetch
from members.models import Member, OutboundEmail
from members.notifications import OPTIONAL_EMAIL_KINDS, email_wanted
from members.outbox import email_send
from members.services import invitation_send
from members.tokens import unsubscribe_token_read
from plnorg.introductions.services.introduction import introduction_send
from tests.factories import EntryFactory, FeedFactory, MemberFactory, PickFactory, SubscriptionFactory
from tests.feeds.servers import FeedServer
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.services.registration import workshop_register
from workshops.services.reminders import reminders_send, workshops_close_finished

pytestmark = pytest.mark.django_db

# A day far from the demo data: its digest period holds only what a test makes.
DIGEST_NOW = datetime(2031, 3, 12, 6, 11, tzinfo=UTC)
DIGEST_DAY = datetime(2031, 3, 11, 15, tzinfo=UTC)


@pytest.fixture
def feed_server(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    server = FeedServer("127.0.0.1")
    yield server
    server.stop()


def _shared_entry(title: str):
    feed = FeedFactory()
    SubscriptionFactory(feed=feed, is_shared=True)
    return EntryFactory(feed=feed, title=title)


def send_digest(members: list[Member], server) -> None:
    PickFactory(entry=_shared_entry("Picked for the digest"), created_at=DIGEST_DAY)
    for member in members:
        digest_send(member_id=member.pk, now=DIGEST_NOW)


def send_recommendations(members: list[Member], server) -> None:
    sender = MemberFactory(display_name="Rita Recommender")
    entry = _shared_entry("Runbooks people read")
    for member in members:
        recommendation_send(sender=sender, recipient=member, entry=entry, note="For the on-call rota")


def send_workshop_reminders(members: list[Member], server) -> None:
    workshop = WorkshopFactory(sessions__starts_in=timedelta(hours=5))
    for member in members:
        RegistrationFactory(workshop=workshop, member=member)
    reminders_send()


def send_workshop_feedback(members: list[Member], server) -> None:
    workshop = WorkshopFactory(sessions__starts_in=timedelta(days=-2))
    for member in members:
        RegistrationFactory(workshop=workshop, member=member, status="attended")
    workshops_close_finished()


def send_introductions(members: list[Member], server) -> None:
    Member.objects.filter(pk__in=[m.pk for m in members]).update(introductions_opt_in=True)
    pair = list(Member.objects.filter(pk__in=[m.pk for m in members]).select_related("user"))
    if len(pair) == 1:
        pair.append(MemberFactory(introductions_opt_in=True))
    introduction_send(sender=MemberFactory().user, member_1=pair[0], member_2=pair[1], note="You both run retros.")


def send_feed_problems(members: list[Member], server) -> None:
    feed = FeedFactory(url=server.set("/gone.xml", b"", status=410), title="Moved blog")
    for member in members:
        SubscriptionFactory(feed=feed, member=member)
    feed_fetch(feed_id=feed.pk)


# kind -> (how to make the service send it, the outbox kind it is stored under)
SENDERS: dict[str, tuple[Callable[[list[Member], FeedServer], None], str]] = {
    "digest": (send_digest, "digest"),
    "recommendations": (send_recommendations, "recommendation"),
    "workshop_reminders": (send_workshop_reminders, "workshop_reminder"),
    "workshop_feedback": (send_workshop_feedback, "workshop_feedback_request"),
    "introductions": (send_introductions, "introductions"),
    "feed_problems": (send_feed_problems, "feed_problems"),
}


def test_every_optional_kind_has_a_sender_here():
    assert sorted(SENDERS) == sorted(OPTIONAL_EMAIL_KINDS)


@pytest.mark.parametrize("kind", sorted(SENDERS))
def test_optional_email_carries_one_link_in_header_and_body_and_one_click_turns_off_that_kind(kind, feed_server):
    member = MemberFactory(digest=Member.Digest.DAILY)
    send, outbox_kind = SENDERS[kind]

    send([member], feed_server)

    email = OutboundEmail.objects.get(user=member.user, kind=outbox_kind)
    header = email.headers["List-Unsubscribe"]
    assert header.startswith(f"<{settings.SITE_URL}/unsubscribe/") and header.endswith(">")
    link = header[1:-1]
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in email.body_text
    assert f"{settings.SITE_URL}{reverse('members:preferences')}" in email.body_text
    claim = unsubscribe_token_read(link.rstrip("/").rsplit("/", 1)[1])
    assert (claim.member_id, claim.kind) == (member.pk, kind)
    # The headers go out with the email.
    assert email_send(email_id=email.pk) is True
    assert mail.outbox[-1].extra_headers["List-Unsubscribe"] == header

    response = Client(enforce_csrf_checks=True).post(
        link.removeprefix(settings.SITE_URL),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    member.refresh_from_db()
    assert response.status_code == 200
    assert member.email_opt_outs == [kind]
    assert {k: email_wanted(member, k) for k in OPTIONAL_EMAIL_KINDS} == {k: k != kind for k in OPTIONAL_EMAIL_KINDS}


@pytest.mark.parametrize("kind", sorted(SENDERS))
def test_optional_email_goes_only_to_members_who_want_it(kind, feed_server):
    wants = MemberFactory(digest=Member.Digest.DAILY)
    opted_out = MemberFactory(digest=Member.Digest.DAILY, email_opt_outs=[kind])
    send, outbox_kind = SENDERS[kind]

    send([wants, opted_out], feed_server)

    sent_to = OutboundEmail.objects.filter(kind=outbox_kind, user__in=[wants.user, opted_out.user])
    assert list(sent_to.values_list("to", flat=True)) == [wants.user.email]


def _assert_no_optional_links(email: OutboundEmail) -> None:
    assert "List-Unsubscribe" not in email.headers
    assert "List-Unsubscribe-Post" not in email.headers
    assert "/unsubscribe/" not in email.body_text + email.body_html
    assert reverse("members:preferences") not in email.body_text + email.body_html


def test_sign_up_verification_and_password_reset_carry_no_unsubscribe_or_preferences_link():
    client = Client()
    password = "a long new passphrase 42"
    client.post(reverse("account_signup"), {"email": "fresh@example.com", "password1": password, "password2": password})
    existing = MemberFactory()
    Client().post(reverse("account_reset_password"), {"email": existing.user.email})

    verification = OutboundEmail.objects.get(to="fresh@example.com")
    reset = OutboundEmail.objects.get(to=existing.user.email)
    assert (verification.kind, reset.kind) == ("email_confirmation_signup", "password_reset_key")
    _assert_no_optional_links(verification)
    _assert_no_optional_links(reset)


def test_mail_a_member_cannot_turn_off_carries_no_unsubscribe_or_preferences_link():
    member = MemberFactory()
    workshop = WorkshopFactory()
    invitation = invitation_send(email="invitee@example.com", display_name="Ivy", team=None, actor=member.user)

    workshop_register(workshop_id=workshop.pk, member=member, actor=member.user)

    confirmation = OutboundEmail.objects.get(user=member.user, kind="workshop_confirmation")
    invited = OutboundEmail.objects.get(idempotency_key=f"invitation:{invitation.pk}")
    _assert_no_optional_links(confirmation)
    _assert_no_optional_links(invited)
