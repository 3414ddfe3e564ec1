"""Invitations: email through the outbox, sign-up with the email prefilled, onboarding."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import Invitation, OutboundEmail
from members.services import InvitationRefused, invitation_send
from tests.factories import MemberFactory, TeamFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_invitation_is_emailed_once_with_its_link():
    team = TeamFactory(name="Pilots")

    first = invitation_send(email="New@Example.org", actor=None, team=team, display_name="Nia New")
    again = invitation_send(email="new@example.org", actor=None)

    assert again.pk == first.pk
    email = OutboundEmail.objects.get(kind="invitation", to="new@example.org")
    assert reverse("members:invitation_accept", kwargs={"token": first.token}) in email.body_text


def test_inviting_an_existing_member_is_refused():
    member = MemberFactory(user__email="here@example.org")

    with pytest.raises(InvitationRefused) as refused:
        invitation_send(email=member.user.email, actor=None)

    assert refused.value.message == "here@example.org already has an account."


def test_accepting_leads_to_signup_prefilled_then_onboarding():
    invitation = invitation_send(email="nia@example.org", actor=None, team=TeamFactory(), display_name="Nia")
    client = Client()

    response = client.get(reverse("members:invitation_accept", kwargs={"token": invitation.token}))

    target = urlsplit(response["Location"])
    assert target.path == reverse("account_signup")
    assert parse_qs(target.query) == {"email": ["nia@example.org"], "next": [reverse("feeds:onboarding")]}
    signup = client.get(response["Location"])
    assert 'value="nia@example.org"' in signup.content.decode()
    done = client.post(
        response["Location"],
        {"email": "nia@example.org", "password1": "a long pass phrase 42", "password2": "a long pass phrase 42"},
    )
    assert done["Location"] == reverse("feeds:onboarding")
    invitation.refresh_from_db()
    assert invitation.accepted_by.email == "nia@example.org"
    assert invitation.accepted_by.member.team_id == invitation.team_id


def test_expired_invitation_is_refused_with_a_message():
    invitation = invitation_send(email="late@example.org", actor=None)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))

    response = Client().get(reverse("members:invitation_accept", kwargs={"token": invitation.token}))

    assert response.status_code == 400
    assert "This invitation has expired or was already used." in text_of(response)


def test_admin_invite_page_sends(client_as):
    response = client_as("admin").post(
        reverse("members:invite"), {"email": "pat@example.org", "display_name": "Pat"}, follow=True
    )

    assert "Invitation sent to pat@example.org." in text_of(response)
    assert Invitation.objects.filter(email="pat@example.org").exists()
