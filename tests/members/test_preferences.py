"""Notification preferences: digest, optional emails, quiet mode, time zone."""

import re

import pytest
from django.urls import reverse

from members.notifications import OPTIONAL_EMAIL_KINDS, email_wanted
from tests.factories import MemberFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_preferences_page_lists_every_optional_kind(client):
    member = MemberFactory()
    client.force_login(member.user)

    page = text_of(client.get(reverse("members:preferences")))

    for label in OPTIONAL_EMAIL_KINDS.values():
        assert str(label) in page


def test_saving_preferences_stores_opt_outs_and_choices(client):
    member = MemberFactory()
    client.force_login(member.user)

    response = client.post(
        reverse("members:preferences"),
        {
            "digest": "weekly",
            "emails": ["digest", "workshop_reminders", "feed_problems"],
            "quiet_mode": "on",
            "time_zone": "Europe/Lisbon",
            "introductions_opt_in": "on",
        },
        follow=True,
    )

    member.refresh_from_db()
    assert member.digest == "weekly"
    assert member.email_opt_outs == ["recommendations", "workshop_feedback", "introductions"]
    assert (member.quiet_mode, member.time_zone, member.introductions_opt_in) == (True, "Europe/Lisbon", True)
    assert "Your preferences are saved." in text_of(response)
    assert email_wanted(member, "digest") is True  # quiet mode never silences a chosen digest
    assert email_wanted(member, "recommendations") is False


def test_unknown_time_zone_is_refused_next_to_the_field(client):
    member = MemberFactory()
    client.force_login(member.user)

    response = client.post(reverse("members:preferences"), {"digest": "off", "time_zone": "Mars/Olympus"})

    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in text_of(response)
    member.refresh_from_db()
    assert member.time_zone == "UTC"


def test_calendar_invitations_are_on_by_default_and_can_be_turned_off(client):
    member = MemberFactory()
    client.force_login(member.user)
    url = reverse("members:preferences")
    choices = {"digest": "off", "emails": list(OPTIONAL_EMAIL_KINDS), "time_zone": "UTC"}

    page = client.get(url)
    off = client.post(url, choices, follow=True)
    member.refresh_from_db()
    turned_off = member.calendar_invitations
    client.post(url, {**choices, "calendar_invitations": "on"})
    member.refresh_from_db()

    assert _checkbox(page, "calendar_invitations") is True
    assert "Calendar invitations for the workshops I register for" in text_of(page)
    assert (turned_off, member.calendar_invitations) == (False, True)
    assert "Your preferences are saved." in text_of(off)
    assert _checkbox(off, "calendar_invitations") is False


def _checkbox(response, name: str) -> bool:
    """Whether the page's checkbox `name` is ticked."""
    (tag,) = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', response.content.decode())
    return " checked" in tag
