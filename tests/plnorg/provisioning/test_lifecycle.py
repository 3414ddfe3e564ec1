"""Provisioning's part in a member's data: what the identity provider sent is
in their download and goes with their account."""

import pytest

from members.models import User
from plnorg.privacy.services import member_account_delete, member_data_export
from plnorg.provisioning.models import ScimToken, ScimUser

from .conftest import USER

pytestmark = pytest.mark.django_db


def test_the_data_download_holds_what_the_provider_sent(okta):
    user = User.objects.get(
        pk=okta.post(
            "Users",
            {"schemas": [USER], "userName": "ida@example.org", "externalId": "00u-ida", "name": {"givenName": "Ida"}},
        ).body["id"]
    )
    link = ScimUser.objects.get(user=user)

    data = member_data_export(member=user.member)

    assert data["provisioning"] == {
        "identity_provider": {
            "provisioned_by": "Okta",
            "user_name": "ida@example.org",
            "external_id": "00u-ida",
            "given_name": "Ida",
            "family_name": "",
            "first_provisioned_at": link.created_at.isoformat(),
            "last_changed_at": link.updated_at.isoformat(),
            "deleted_by_the_provider_at": None,
        }
    }


def test_a_member_the_provider_never_wrote_has_nothing_here(persona_user):
    assert member_data_export(member=persona_user("employee").member)["provisioning"] == {"identity_provider": None}


def test_deleting_the_account_deletes_the_link_and_keeps_the_token(okta, okta_token):
    user = User.objects.get(pk=okta.post("Users", {"schemas": [USER], "userName": "del@example.org"}).body["id"])

    member_account_delete(member=user.member)

    assert not User.objects.filter(email="del@example.org").exists()
    assert not ScimUser.objects.filter(user_name="del@example.org").exists()
    assert ScimToken.objects.filter(pk=okta_token[0].pk, revoked_at__isnull=True).exists()
    assert okta.get('Users?filter=userName eq "del@example.org"').body["totalResults"] == 0


def test_the_transparency_page_says_what_the_provider_sends(client_as):
    from django.urls import reverse

    from tests.pages import text_of

    page = text_of(client_as("employee").get(reverse("transparency")))

    assert (
        "If your organization's identity provider manages accounts here (SCIM): its sign-in name and id for you, "
        "your given and family name you, admins (to run the service) until you delete your account"
    ) in page
