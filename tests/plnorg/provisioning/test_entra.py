"""The requests Microsoft Entra ID sends, as "Tutorial: Develop and plan
provisioning for a SCIM endpoint" (learn.microsoft.com, User and Group
Operations) documents them: capitalised ops, the enterprise extension, a
userName that is not an email address, `emails[type eq "work"].value`,
active as the string "False", groups found with excludedAttributes=members,
members added and removed by value, membership checked with
`id eq … and members eq …`, and DELETE."""

import pytest
from allauth.account.models import EmailAddress

from members.models import AuditEvent, Member, Team, User
from tests.factories import MemberFactory

from .conftest import BASE, ENTERPRISE, GROUP, LIST, PATCH_OP, USER, error, stamp, versionless

pytestmark = pytest.mark.django_db

ENTRA_USER = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": True,
    "emails": [
        {"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}
    ],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [],
}
EMAIL = "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"


def entra_user_json(user: User, **changes) -> dict:
    user = User.objects.select_related("scim").get(pk=user.pk)
    return {
        "schemas": [USER],
        "id": str(user.pk),
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "name": {"givenName": "givenName", "familyName": "familyName", "formatted": "givenName familyName"},
        "displayName": "givenName familyName",
        "emails": [{"value": EMAIL, "type": "work", "primary": True}],
        "active": True,
        "groups": [],
        "meta": {
            "resourceType": "User",
            "created": stamp(user.date_joined),
            "lastModified": stamp(user.scim.updated_at),
            "location": f"{BASE}/Users/{user.pk}",
        },
    } | changes


def test_entra_creates_finds_updates_disables_and_deletes_a_user(entra):
    find = 'Users?filter=userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"'
    assert entra.get(find).body == {
        "schemas": [LIST],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }

    created = entra.post("Users", ENTRA_USER)

    user = User.objects.get(email=EMAIL)
    assert created.status == 201
    assert versionless(created.body, created.headers["ETag"]) == entra_user_json(user)
    assert user.scim.user_name == "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        (EMAIL, True, True)
    ]
    found = entra.get(find)
    assert (found.body["totalResults"], [versionless(r) for r in found.body["Resources"]]) == (
        1,
        [entra_user_json(user)],
    )
    assert entra.get('Users?filter=userName eq "non-existent user"').body["totalResults"] == 0

    multi = entra.patch(
        f"Users/{user.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            ],
        },
    )
    assert multi.status == 200
    assert versionless(multi.body) == entra_user_json(
        user,
        name={"givenName": "givenName", "familyName": "updatedFamilyName", "formatted": "givenName updatedFamilyName"},
        emails=[{"value": "updatedemail@microsoft.com", "type": "work", "primary": True}],
    )
    assert User.objects.get(pk=user.pk).email == "updatedemail@microsoft.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("updatedemail@microsoft.com", True, True)
    ]

    single = entra.patch(
        f"Users/{user.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
                {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Sales"},
            ],
        },
    )
    assert (single.status, single.body["userName"]) == (200, "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")

    disabled = entra.patch(
        f"Users/{user.pk}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert (disabled.status, disabled.body["active"]) == (200, False)
    assert User.objects.get(pk=user.pk).is_active is False

    deleted = entra.delete(f"Users/{user.pk}")

    assert (deleted.status, deleted.body) == (204, None)
    gone = entra.get(f"Users/{user.pk}")
    assert (gone.status, gone.headers["Content-Type"], gone.body) == (
        404,
        "application/scim+json",
        error(404, f"No user with id '{user.pk}'."),
    )
    assert (
        entra.get('Users?filter=userName eq "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"').body["totalResults"]
        == 0
    )
    kept = User.objects.get(pk=user.pk)  # deactivated, not destroyed
    assert (kept.is_active, kept.member.display_name) == (False, "givenName familyName")
    actions = list(
        AuditEvent.objects.filter(object_id=str(user.pk), object_type="members.User")
        .order_by("id")
        .values_list("action", "actor_email")
    )
    assert actions == [
        ("provisioning.user_created", "scim:Microsoft Entra ID"),
        ("provisioning.user_changed", "scim:Microsoft Entra ID"),
        ("provisioning.user_changed", "scim:Microsoft Entra ID"),
        ("provisioning.user_changed", "scim:Microsoft Entra ID"),
        ("user.deactivated", ""),
        ("provisioning.user_deleted", "scim:Microsoft Entra ID"),
    ]


def test_entra_deletes_an_active_user_by_deactivating_it(entra):
    user = User.objects.get(pk=entra.post("Users", ENTRA_USER).body["id"])

    assert entra.delete(f"Users/{user.pk}").status == 204

    assert User.objects.get(pk=user.pk).is_active is False
    assert entra.get(f"Users/{user.pk}").status == 404
    assert AuditEvent.objects.filter(action="user.deactivated", object_id=str(user.pk)).count() == 1


def test_a_deleted_user_comes_back_with_a_new_post(entra):
    first = entra.post("Users", ENTRA_USER).body["id"]
    entra.delete(f"Users/{first}")

    again = entra.post("Users", {**ENTRA_USER, "externalId": "rehired"})

    assert again.status == 201
    assert (again.body["id"], again.body["active"], again.body["externalId"]) == (first, True, "rehired")
    assert User.objects.get(pk=first).is_active is True
    assert entra.get(f"Users/{first}").status == 200


def test_entra_creates_finds_renames_fills_checks_empties_and_deletes_a_group(entra):
    member = MemberFactory(user__email="ana@testuser.com", display_name="Ana", team=None)
    other = MemberFactory(user__email="ben@testuser.com", display_name="Ben", team=None)
    find = 'Groups?excludedAttributes=members&filter=displayName eq "displayName"'
    assert entra.get(find).body["totalResults"] == 0

    created = entra.post(
        "Groups",
        {
            "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
    )

    team = Team.objects.select_related("scim").get(name="displayName")
    expected = {
        "schemas": [GROUP],
        "id": str(team.pk),
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "members": [],
        "meta": {
            "resourceType": "Group",
            "created": stamp(team.scim.created_at),
            "lastModified": stamp(team.scim.updated_at),
            "location": f"{BASE}/Groups/{team.pk}",
        },
    }
    assert created.status == 201
    assert versionless(created.body, created.headers["ETag"]) == expected
    without_members = {k: v for k, v in expected.items() if k != "members"}
    fetched = entra.get(f"Groups/{team.pk}?excludedAttributes=members")
    assert versionless(fetched.body) == without_members
    assert [versionless(r) for r in entra.get(find).body["Resources"]] == [without_members]

    renamed = entra.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "displayName",
                    "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
                }
            ],
        },
    )
    added = entra.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": str(member.user_id)}]}],
        },
    )

    assert (renamed.status, added.status) == (204, 204)
    assert Team.objects.get(pk=team.pk).name == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    assert Member.objects.get(pk=member.pk).team_id == team.pk
    check = 'Groups?excludedAttributes=members&filter=id eq "{}" and members eq "{}"'
    assert entra.get(check.format(team.pk, member.user_id)).body["totalResults"] == 1
    assert entra.get(check.format(team.pk, other.user_id)).body["totalResults"] == 0
    user_view = entra.get(f"Users/{member.user_id}").body["groups"]
    assert user_view == [
        {
            "value": str(team.pk),
            "$ref": f"{BASE}/Groups/{team.pk}",
            "display": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
        }
    ]

    removed = entra.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": str(member.user_id)}]}
            ],
        },
    )

    assert removed.status == 204
    assert Member.objects.get(pk=member.pk).team is None
    assert entra.get(f"Groups/{team.pk}").body["members"] == []
    assert entra.delete(f"Groups/{team.pk}").status == 204
    assert entra.get(f"Groups/{team.pk}").status == 404
    assert entra.get(find).body["totalResults"] == 0
