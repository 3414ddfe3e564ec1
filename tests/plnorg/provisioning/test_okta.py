"""The requests Okta sends, as its SCIM 2.0 reference documents them
(developer.okta.com/docs/reference/scim/scim-20/): look a user up by
userName (startIndex=1&count=100), create, fetch, update by PUT, deactivate
and reactivate by PATCH without a path; push a group, rename it, add and
remove a member with `members[value eq "…"]`, delete it."""

import pytest

from members import audit
from members.models import AuditEvent, Member, Team, User
from tests.factories import MemberFactory, TeamFactory

from .conftest import BASE, GROUP, LIST, PATCH_OP, USER, stamp, versionless

pytestmark = pytest.mark.django_db

OKTA_USER = {
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}
FIND = "Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100"


def okta_user_json(user: User, **changes) -> dict:
    user = User.objects.select_related("scim").get(pk=user.pk)
    return {
        "schemas": [USER],
        "id": str(user.pk),
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User", "formatted": "Test User"},
        "displayName": "Test User",
        "emails": [{"value": "test.user@okta.local", "type": "work", "primary": True}],
        "active": True,
        "groups": [],
        "meta": {
            "resourceType": "User",
            "created": stamp(user.date_joined),
            "lastModified": stamp(user.scim.updated_at),
            "location": f"{BASE}/Users/{user.pk}",
        },
    } | changes


def test_okta_looks_up_creates_fetches_updates_and_deactivates_a_user(okta):
    lookup = okta.get(FIND)
    assert (lookup.status, lookup.headers["Content-Type"], lookup.body) == (
        200,
        "application/scim+json",
        {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []},
    )

    created = okta.post("Users", OKTA_USER)

    user = User.objects.get(email="test.user@okta.local")
    assert created.status == 201
    assert created.headers["Content-Type"] == "application/scim+json"
    assert created.headers["Location"] == f"{BASE}/Users/{user.pk}"
    assert versionless(created.body, created.headers["ETag"]) == okta_user_json(user)
    assert "1mz050nq" not in str(created.body)
    assert user.has_usable_password() is False  # Okta's password is never taken
    assert (user.member.display_name, user.member.team, user.is_active) == ("Test User", None, True)

    fetched = okta.get(f"Users/{user.pk}")
    assert (fetched.status, versionless(fetched.body, fetched.headers["ETag"])) == (200, okta_user_json(user))
    again = okta.get(FIND)
    assert again.body["totalResults"] == 1
    assert [versionless(r) for r in again.body["Resources"]] == [okta_user_json(user)]

    updated = okta.put(
        f"Users/{user.pk}",
        {
            **OKTA_USER,
            "id": str(user.pk),
            "name": {"givenName": "Another", "familyName": "User"},
            "displayName": "Another User",
            "meta": {"resourceType": "User", "created": "2019-08-09T12:59:38.591Z"},
        },
    )
    assert updated.status == 200
    assert versionless(updated.body) == okta_user_json(
        user,
        name={"givenName": "Another", "familyName": "User", "formatted": "Another User"},
        displayName="Another User",
    )
    assert Member.objects.get(user=user).display_name == "Another User"

    deactivated = okta.patch(
        f"Users/{user.pk}", {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    )

    assert deactivated.status == 200
    assert deactivated.body["active"] is False
    assert User.objects.get(pk=user.pk).is_active is False
    events = AuditEvent.objects.filter(object_type="members.User", object_id=str(user.pk)).order_by("id")
    assert [(e.action, e.actor_email, e.before, e.after, e.ip) for e in events] == [
        (
            "provisioning.user_created",
            "scim:Okta",
            None,
            {
                "userName": "test.user@okta.local",
                "email": "test.user@okta.local",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "name.givenName": "Test",
                "name.familyName": "User",
                "displayName": "Test User",
                "title": "",
                "active": True,
            },
            "127.0.0.1",
        ),
        (
            "provisioning.user_changed",
            "scim:Okta",
            {"name.givenName": "Test", "displayName": "Test User"},
            {"name.givenName": "Another", "displayName": "Another User"},
            "127.0.0.1",
        ),
        ("provisioning.user_changed", "scim:Okta", {"active": True}, {"active": False}, "127.0.0.1"),
        (audit.USER_DEACTIVATED, "", None, None, None),
    ]


def test_okta_reactivates_a_user_with_active_true(okta):
    user = User.objects.get(pk=okta.post("Users", OKTA_USER).body["id"])
    okta.patch(
        f"Users/{user.pk}", {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    )

    answer = okta.patch(
        f"Users/{user.pk}", {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]}
    )

    assert (answer.status, answer.body["active"]) == (200, True)
    assert User.objects.get(pk=user.pk).is_active is True
    reactivation = AuditEvent.objects.filter(action=audit.USER_REACTIVATED, object_id=str(user.pk)).get()
    assert (reactivation.before, reactivation.after) == ({"is_active": False}, {"is_active": True})


def test_okta_imports_users_page_by_page(okta):
    for n in range(3):
        okta.post("Users", {**OKTA_USER, "userName": f"page{n}@okta.local", "emails": [], "externalId": f"p{n}"})
    ids = [str(pk) for pk in User.objects.filter(email__startswith="page").order_by("pk").values_list("pk", flat=True)]
    query = 'Users?filter=userName sw "page"&startIndex={}&count=2'

    first, second, beyond = (okta.get(query.format(start)) for start in (1, 3, 5))

    assert [
        (p.body["totalResults"], p.body["startIndex"], p.body["itemsPerPage"]) for p in (first, second, beyond)
    ] == [
        (3, 1, 2),
        (3, 3, 1),
        (3, 5, 0),
    ]
    assert [r["id"] for r in first.body["Resources"] + second.body["Resources"]] == ids
    assert [r["userName"] for r in first.body["Resources"]] == ["page0@okta.local", "page1@okta.local"]


def test_okta_pushes_renames_fills_empties_and_deletes_a_group(okta):
    ana = MemberFactory(user__email="ana@okta.local", display_name="Ana", team=None)
    ben = MemberFactory(user__email="ben@okta.local", display_name="Ben", team=TeamFactory(name="Old team"))
    lookup = okta.get("Groups?filter=displayName%20eq%20%22Test%20SCIMv2%22&startIndex=1&count=100")
    assert lookup.body == {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}

    created = okta.post("Groups", {"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []})

    team = Team.objects.select_related("scim").get(name="Test SCIMv2")
    meta = {
        "resourceType": "Group",
        "created": stamp(team.scim.created_at),
        "lastModified": stamp(team.scim.updated_at),
        "location": f"{BASE}/Groups/{team.pk}",
    }
    assert created.status == 201
    assert created.headers["Location"] == f"{BASE}/Groups/{team.pk}"
    assert versionless(created.body, created.headers["ETag"]) == {
        "schemas": [GROUP],
        "id": str(team.pk),
        "displayName": "Test SCIMv2",
        "members": [],
        "meta": meta,
    }

    renamed = okta.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "value": {"id": str(team.pk), "displayName": "Test SCIMv2 renamed"}}],
        },
    )
    added = okta.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {
                    "op": "add",
                    "path": "members",
                    "value": [
                        {"value": str(ana.user_id), "display": "ana@okta.local"},
                        {"value": str(ben.user_id), "display": "ben@okta.local"},
                    ],
                }
            ],
        },
    )
    assert (renamed.status, renamed.body, added.status, added.body) == (204, None, 204, None)
    full = okta.get(f"Groups/{team.pk}")
    team.scim.refresh_from_db()
    assert versionless(full.body, full.headers["ETag"]) == {
        "schemas": [GROUP],
        "id": str(team.pk),
        "displayName": "Test SCIMv2 renamed",
        "members": [
            {"value": str(ana.user_id), "$ref": f"{BASE}/Users/{ana.user_id}", "display": "Ana"},
            {"value": str(ben.user_id), "$ref": f"{BASE}/Users/{ben.user_id}", "display": "Ben"},
        ],
        "meta": meta | {"lastModified": stamp(team.scim.updated_at)},
    }
    assert list(Member.objects.filter(team=team).order_by("user_id").values_list("display_name", flat=True)) == [
        "Ana",
        "Ben",
    ]

    removed = okta.patch(
        f"Groups/{team.pk}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{ana.user_id}"]'}]},
    )
    assert removed.status == 204
    assert [m["value"] for m in okta.get(f"Groups/{team.pk}").body["members"]] == [str(ben.user_id)]
    assert Member.objects.get(pk=ana.pk).team is None

    deleted = okta.delete(f"Groups/{team.pk}")

    assert (deleted.status, deleted.body) == (204, None)
    assert okta.get(f"Groups/{team.pk}").status == 404
    assert Team.objects.filter(pk=team.pk).exists()  # the team itself stays
    assert Member.objects.get(pk=ben.pk).team_id == team.pk
    events = AuditEvent.objects.filter(object_type="members.Team", object_id=str(team.pk)).order_by("id")
    assert [(e.action, e.actor_email, e.before, e.after) for e in events] == [
        ("provisioning.group_created", "scim:Okta", None, {"displayName": "Test SCIMv2", "externalId": ""}),
        (
            "provisioning.group_changed",
            "scim:Okta",
            {"displayName": "Test SCIMv2"},
            {"displayName": "Test SCIMv2 renamed"},
        ),
        (
            "provisioning.group_changed",
            "scim:Okta",
            {},
            {"members_added": ["ana@okta.local", "ben@okta.local"], "moved_from": {"ben@okta.local": "Old team"}},
        ),
        ("provisioning.group_changed", "scim:Okta", {}, {"members_removed": ["ana@okta.local"]}),
        ("provisioning.group_deleted", "scim:Okta", None, None),
    ]
