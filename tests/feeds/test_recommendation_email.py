"""The "Posts a colleague recommends to me" email (feeds.curation.recommendation_send):
one email per recommendation through the outbox, only to recipients who want
it, with the note, the entry and the unsubscribe and preferences links."""

import pytest
from django.conf import settings
from django.urls import reverse

from feeds.curation import recommendation_send
from feeds.models import Recommendation
from members.models import OutboundEmail
from tests.factories import MemberFactory, shared_entry
from tests.pages import client_for, text_of

pytestmark = pytest.mark.django_db


def test_recommending_from_the_entry_page_emails_the_colleague_once_with_note_entry_and_links():
    sender = MemberFactory(display_name="Sofia Sender")
    colleague = MemberFactory(display_name="Cole League")
    entry = shared_entry(title="Incident reviews\nthat teach")

    client_for(sender).post(
        reverse("feeds:recommend", kwargs={"entry_id": entry.pk}),
        {"recipient": colleague.pk, "note": "Before our retro"},
    )

    recommendation = Recommendation.objects.get(recipient=colleague)
    email = OutboundEmail.objects.get(user=colleague.user)
    link = email.headers["List-Unsubscribe"][1:-1]
    assert (email.to, email.kind, email.idempotency_key) == (
        colleague.user.email,
        "recommendation",
        f"recommendation:{recommendation.pk}",
    )
    assert email.subject == "Sofia Sender recommends: Incident reviews that teach"
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith(f"{settings.SITE_URL}/unsubscribe/")
    assert email.body_text == (
        "Hello Cole League,\n"
        "\n"
        "Sofia Sender recommends this post to you:\n"
        "\n"
        "Incident reviews that teach\n"
        f"{settings.SITE_URL}/entries/{entry.pk}/\n"
        "\n"
        "Their note: Before our retro\n"
        "\n"
        "It is also on your home page until you dismiss it.\n"
        "\n"
        "--\n"
        'You receive this email because "Posts a colleague recommends to me" is on in your preferences.\n'
        f"Stop this kind of email with one click: {link}\n"
        f"Choose which emails you get: {settings.SITE_URL}/me/preferences/\n"
    )
    assert "Incident reviews that teach" in text_of(client_for(colleague).get(f"/entries/{entry.pk}/"))

    # Recommending the same entry again updates the note on the home page, but sends no second email.
    recommendation_send(sender=sender, recipient=colleague, entry=entry, note="Also for onboarding")

    assert OutboundEmail.objects.filter(user=colleague.user).count() == 1
    assert "Sofia Sender recommends it: “Also for onboarding”" in text_of(client_for(colleague).get(reverse("home")))


def test_each_recommendation_is_its_own_email():
    sender, colleague = MemberFactory(display_name="Sofia Sender"), MemberFactory()
    first, second = shared_entry(title="First post"), shared_entry(title="Second post")

    recommendation_send(sender=sender, recipient=colleague, entry=first)
    recommendation_send(sender=sender, recipient=colleague, entry=second, note="")

    emails = OutboundEmail.objects.filter(user=colleague.user).order_by("pk")
    assert list(emails.values_list("subject", flat=True)) == [
        "Sofia Sender recommends: First post",
        "Sofia Sender recommends: Second post",
    ]
    assert "Their note:" not in emails.last().body_text


def test_recipient_who_switched_recommendation_emails_off_gets_none_but_still_sees_it_on_home():
    sender = MemberFactory(display_name="Sofia Sender")
    colleague = MemberFactory(email_opt_outs=["recommendations"])
    entry = shared_entry(title="Quiet reading")

    recommendation_send(sender=sender, recipient=colleague, entry=entry, note="No rush")

    assert Recommendation.objects.filter(recipient=colleague, entry=entry).count() == 1
    assert OutboundEmail.objects.filter(user=colleague.user).count() == 0
    assert "Sofia Sender recommends it: “No rush”" in text_of(client_for(colleague).get(reverse("home")))


def test_switching_the_preference_off_on_the_preferences_page_stops_recommendation_emails():
    sender, colleague = MemberFactory(), MemberFactory()
    client = client_for(colleague)
    page = text_of(client.get(reverse("members:preferences")))
    assert "Posts a colleague recommends to me" in page
    wanted = ["digest", "workshop_reminders", "workshop_feedback", "introductions", "feed_problems"]
    client.post(
        reverse("members:preferences"),
        {"digest": "off", "emails": wanted, "time_zone": "UTC"},
    )

    colleague.refresh_from_db()
    assert colleague.email_opt_outs == ["recommendations"]

    recommendation_send(sender=sender, recipient=colleague, entry=shared_entry())

    assert OutboundEmail.objects.filter(user=colleague.user).count() == 0


def test_a_new_member_gets_recommendation_emails_by_default_and_quiet_mode_does_not_silence_them():
    sender, colleague = MemberFactory(), MemberFactory(quiet_mode=True)

    recommendation_send(sender=sender, recipient=colleague, entry=shared_entry())

    assert colleague.email_opt_outs == []
    assert OutboundEmail.objects.filter(user=colleague.user, kind="recommendation").count() == 1
