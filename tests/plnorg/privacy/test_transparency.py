import pytest
from django.urls import reverse

from members.models import OrganizationSettings
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_transparency_page_lists_records_and_retention(client_as, settings):
    settings.ENTRY_RETENTION_DAYS = 365
    settings.OUTBOX_RETENTION_DAYS = 45
    page = text_of(client_as("employee").get(reverse("transparency")))
    assert "Accounts and sources you did not share you, admins (to run the service)" in page
    assert (
        "Entries fetched from shared feeds (public posts) everyone in the organization 1 year(s), except entries picked"
        in page
    )
    assert "Emails plnorg sent you admins (to run the service) 45 days after sending" in page


def test_transparency_page_follows_the_analytics_switches(client_as):
    client = client_as("employee")
    before = text_of(client.get(reverse("transparency")))
    assert "Connectors: on" in before
    org = OrganizationSettings.get()
    org.connectors_enabled = False
    org.save()
    after = text_of(client.get(reverse("transparency")))
    assert "Connectors: off" in after
    assert "Introduction suggestions: on" in after


def test_transparency_page_shows_the_members_own_opt_in_and_pause(client_as, persona_user):
    member = persona_user("employee").member
    member.introductions_opt_in = True
    member.sharing_paused = True
    member.save()
    page = text_of(client_as("employee").get(reverse("transparency")))
    assert "you have opted in" in page
    assert "Your sharing is paused" in page
