"""/Users: bad input answered in SCIM's error schema with nothing saved,
uniqueness, members made by hand, PUT, PATCH forms, ETags, attribute
selection, and a list whose queries do not grow with its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import AuditEvent, Member, User
from plnorg.provisioning.models import ScimUser
from tests.factories import MemberFactory, TeamFactory

from .conftest import BASE, PATCH_OP, USER, error, stamp, versionless

pytestmark = pytest.mark.django_db

ANA = {
    "schemas": [USER],
    "userName": "ana@example.org",
    "name": {"givenName": "Ana", "familyName": "Lima"},
    "emails": [{"value": "ana@example.org", "type": "work", "primary": True}],
    "active": True,
}


def _counts() -> tuple[int, int, int, int]:
    return User.objects.count(), Member.objects.count(), ScimUser.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"schemas": [USER], "emails": [{"value": "x@example.org"}]},
            error(400, "userName is required.", "invalidValue"),
        ),
        ({**ANA, "userName": "   "}, error(400, "userName is required.", "invalidValue")),
        ({**ANA, "userName": 42}, error(400, "userName must be a string.", "invalidValue")),
        (
            {"schemas": [USER], "userName": "Ana_Lima"},
            error(
                400,
                "plnorg identifies people by email: send emails, or a userName that is an email address.",
                "invalidValue",
            ),
        ),
        (
            {**ANA, "emails": [{"value": "not an address", "primary": True}]},
            error(400, "'not an address' is not an email address.", "invalidValue"),
        ),
        (
            {**ANA, "emails": "ana@example.org"},
            error(400, "emails must be a list of objects with a value.", "invalidValue"),
        ),
        ({**ANA, "displayName": "x" * 121}, error(400, "displayName is longer than 120 characters.", "invalidValue")),
        ({**ANA, "active": "maybe"}, error(400, "active must be true or false.", "invalidValue")),
        ({**ANA, "name": "Ana Lima"}, error(400, "name must be an object.", "invalidValue")),
        (["not", "an", "object"], error(400, "The request body must be a JSON object.", "invalidSyntax")),
    ],
)
def test_a_bad_user_is_refused_and_nothing_is_saved(okta, body, expected):
    before = _counts()

    answer = okta.post("Users", body)

    assert (answer.status, answer.headers["Content-Type"], answer.body) == (400, "application/scim+json", expected)
    assert _counts() == before


def test_a_body_that_is_not_json_is_refused(okta):
    answer = okta.client.post(
        "/scim/v2/Users", data="{nope", content_type="application/scim+json", HTTP_AUTHORIZATION=f"Bearer {okta.secret}"
    )

    assert answer.status_code == 400
    assert answer.json() == error(400, "The request body is not valid JSON.", "invalidSyntax")


def test_a_second_user_with_the_same_user_name_is_a_uniqueness_conflict(okta):
    okta.post("Users", ANA)
    before = _counts()

    again = okta.post("Users", {**ANA, "userName": "ANA@example.org", "emails": [{"value": "other@example.org"}]})
    same_email = okta.post("Users", {**ANA, "userName": "ana.lima", "emails": [{"value": "Ana@Example.org"}]})

    assert (again.status, again.body) == (
        409,
        error(409, "Another user has the userName 'ANA@example.org'.", "uniqueness"),
    )
    assert (same_email.status, same_email.body) == (
        409,
        error(409, "The email address ana@example.org belongs to another user.", "uniqueness"),
    )
    assert _counts() == before


def test_a_member_made_by_hand_is_found_by_email_and_not_created_twice(okta):
    member = MemberFactory(
        user__email="dana@example.org",
        display_name="Dana Demo",
        job_title="Analyst",
        team=TeamFactory(name="Field studies"),
    )
    user = member.user

    found = okta.get('Users?filter=userName eq "DANA@example.org"')
    conflict = okta.post("Users", {**ANA, "userName": "dana@example.org", "emails": []})

    assert found.body["totalResults"] == 1
    assert versionless(found.body["Resources"][0]) == {
        "schemas": [USER],
        "id": str(user.pk),
        "userName": "dana@example.org",
        "name": {"formatted": "Dana Demo"},
        "displayName": "Dana Demo",
        "emails": [{"value": "dana@example.org", "type": "work", "primary": True}],
        "active": True,
        "groups": [
            {"value": str(member.team_id), "$ref": f"{BASE}/Groups/{member.team_id}", "display": "Field studies"}
        ],
        "title": "Analyst",
        "meta": {
            "resourceType": "User",
            "created": stamp(user.date_joined),
            "lastModified": stamp(user.date_joined),
            "location": f"{BASE}/Users/{user.pk}",
        },
    }
    assert (conflict.status, conflict.body) == (
        409,
        error(409, "Another user has the userName 'dana@example.org'.", "uniqueness"),
    )


def test_linking_a_member_made_by_hand_keeps_their_profile_and_records_the_provider(okta):
    member = MemberFactory(user__email="chen@example.org", display_name="Chen Wu", job_title="Analyst")

    answer = okta.patch(
        f"Users/{member.user_id}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "externalId", "value": "00u-chen"}]},
    )

    assert (answer.status, answer.body["externalId"], answer.body["displayName"], answer.body["title"]) == (
        200,
        "00u-chen",
        "Chen Wu",
        "Analyst",
    )
    link = ScimUser.objects.get(user=member.user)
    assert (link.user_name, link.external_id, link.provisioned_by.name) == ("chen@example.org", "00u-chen", "Okta")


def test_unknown_ids_answer_404(okta):
    answers = [okta.get(f"Users/{i}") for i in ("999999", "abc", "99999999999999999999", "%C2%B2")]

    assert [(a.status, a.body) for a in answers] == [
        (404, error(404, "No user with id '999999'.")),
        (404, error(404, "No user with id 'abc'.")),
        (404, error(404, "No user with id '99999999999999999999'.")),
        (404, error(404, "No user with id '²'.")),
    ]
    assert okta.get('Users?filter=id eq "99999999999999999999"').body["totalResults"] == 0
    assert (
        okta.patch("Users/999999", {"Operations": [{"op": "replace", "path": "active", "value": False}]}).status == 404
    )
    assert okta.delete("Users/999999").status == 404


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ('userName eq "a" and', "The filter ends too early."),
        ('userName xx "a"', "Unknown filter operator 'xx' after 'userName'."),
        ('nickName eq "a"', "Filtering on 'nickname' is not supported."),
        ("userName eq a", "'a' is not a value (a quoted string, true, false, null or a number)."),
        ('(userName eq "a"', "The filter ends too early."),
        ('(userName eq "a"]', "Expected ')' in the filter, found ']'."),
        ('active eq "yes"', "'active' is true or false: compare it with eq or ne and true or false."),
        ('userName eq "a" extra', "Unexpected 'extra' in the filter."),
        ("", None),
    ],
)
def test_an_invalid_filter_is_refused_with_invalid_filter(okta, query, detail):
    answer = okta.get(f"Users?filter={query}")

    if detail is None:  # an empty filter is no filter
        assert answer.status == 200
    else:
        assert (answer.status, answer.body) == (400, error(400, detail, "invalidFilter"))


def test_bad_pagination_is_refused(okta):
    answer = okta.get("Users?startIndex=one")

    assert (answer.status, answer.body) == (400, error(400, "startIndex and count must be integers.", "invalidValue"))


def test_pagination_reads_start_index_below_one_as_one_and_caps_count(okta):
    for n in range(2):
        okta.post("Users", {**ANA, "userName": f"cap{n}@example.org", "emails": []})

    low = okta.get('Users?filter=userName sw "cap"&startIndex=-4&count=1').body
    none = okta.get('Users?filter=userName sw "cap"&count=0').body
    big = okta.get("Users?count=100000").body

    assert (low["startIndex"], low["itemsPerPage"], low["totalResults"]) == (1, 1, 2)
    assert (none["itemsPerPage"], none["totalResults"], none["Resources"]) == (0, 2, [])
    assert (big["itemsPerPage"], big["totalResults"]) == (min(User.objects.count(), 100), User.objects.count())


def test_patch_applies_every_operation_or_none(okta):
    user_id = okta.post("Users", ANA).body["id"]
    before = _counts()

    answer = okta.patch(
        f"Users/{user_id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "replace", "path": "displayName", "value": "Ana L."},
                {"op": "replace", "path": "active", "value": "perhaps"},
            ],
        },
    )

    assert (answer.status, answer.body) == (400, error(400, "active must be true or false.", "invalidValue"))
    assert Member.objects.get(user_id=user_id).display_name == "Ana Lima"
    assert User.objects.get(pk=user_id).is_active is True
    assert _counts() == before


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        (None, error(400, "A PATCH needs a non-empty Operations list.", "invalidSyntax")),
        ([{"op": "merge", "path": "title", "value": "x"}], error(400, "Unknown PATCH op 'merge': use add, remove or replace.", "invalidSyntax")),
        ([{"op": "remove"}], error(400, "A remove operation needs a path.", "noTarget")),
        ([{"op": "remove", "path": "userName"}], error(400, "userName cannot be removed: plnorg needs it.", "mutability")),
        ([{"op": "remove", "path": 'emails[type eq "work"]'}], error(400, "emails cannot be removed: plnorg needs it.", "mutability")),
        ([{"op": "replace", "path": "title[", "value": "x"}], error(400, "'title[' is not an attribute path.", "invalidPath")),
        ([{"op": "replace", "value": "Ana"}], error(400, "An operation without a path needs an object as its value.", "invalidValue")),
        ([{"op": "replace", "path": "userName", "value": ""}], error(400, "userName cannot be empty.", "invalidValue")),
    ],
)  # fmt: skip
def test_bad_patch_operations_are_refused(okta, operations, expected):
    user_id = okta.post("Users", ANA).body["id"]

    answer = okta.patch(f"Users/{user_id}", {"schemas": [PATCH_OP], "Operations": operations})

    assert (answer.status, answer.body) == (400, expected)


def test_patch_understands_both_providers_forms_and_ignores_what_plnorg_does_not_store(okta):
    user_id = okta.post("Users", ANA).body["id"]

    answer = okta.patch(
        f"Users/{user_id}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "title", "value": "Researcher"},
                {"op": "Replace", "value": {"name": {"familyName": "Lima-Souza"}, "displayName": "Ana Lima-Souza"}},
                {"op": "add", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555 0100"},
                {
                    "op": "add",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "value": {},
                },
                {"op": "replace", "path": f"{USER}:externalId", "value": "ext-1"},
                {"op": "replace", "path": 'emails[type eq "home"].value', "value": "ana@home.example"},
                {"op": "remove", "path": "name.givenName"},
            ],
        },
    )

    assert answer.status == 200
    assert {k: answer.body[k] for k in ("title", "name", "displayName", "externalId", "emails")} == {
        "title": "Researcher",
        "name": {"familyName": "Lima-Souza", "formatted": "Lima-Souza"},
        "displayName": "Ana Lima-Souza",
        "externalId": "ext-1",
        "emails": [{"value": "ana@example.org", "type": "work", "primary": True}],
    }


def test_put_replaces_what_it_carries_and_keeps_what_it_leaves_out(okta):
    user_id = okta.post("Users", {**ANA, "title": "Engineer", "externalId": "e-1"}).body["id"]

    answer = okta.put(
        f"Users/{user_id}", {"schemas": [USER], "userName": "ana@example.org", "displayName": "Ana", "title": None}
    )

    assert answer.status == 200
    assert (answer.body["displayName"], "title" in answer.body, answer.body["externalId"], answer.body["active"]) == (
        "Ana",
        False,
        "e-1",
        True,
    )
    assert okta.put(f"Users/{user_id}", {"schemas": [USER]}).body == error(400, "userName is required.", "invalidValue")


def test_a_user_created_inactive_is_offboarded_at_once(okta):
    answer = okta.post("Users", {**ANA, "active": False})

    assert (answer.status, answer.body["active"]) == (201, False)
    assert User.objects.get(email="ana@example.org").is_active is False
    assert AuditEvent.objects.filter(action="user.deactivated", object_repr="ana@example.org").count() == 1


def test_etags_answer_not_modified_and_refuse_a_stale_change(okta):
    created = okta.post("Users", ANA)
    user_id, version = created.body["id"], created.headers["ETag"]

    unchanged = okta.get(f"Users/{user_id}", **{"If-None-Match": version})
    okta.patch(f"Users/{user_id}", {"Operations": [{"op": "replace", "path": "title", "value": "Lead"}]})
    stale = okta.patch(
        f"Users/{user_id}",
        {"Operations": [{"op": "replace", "path": "title", "value": "Intern"}]},
        **{"If-Match": version},
    )
    current = okta.get(f"Users/{user_id}").headers["ETag"]
    fresh = okta.patch(
        f"Users/{user_id}",
        {"Operations": [{"op": "replace", "path": "title", "value": "Head"}]},
        **{"If-Match": current},
    )

    assert (unchanged.status, unchanged.body, unchanged.headers["ETag"]) == (304, None, version)
    assert current != version
    assert (stale.status, stale.body) == (
        412,
        error(412, "The resource changed since it was read (If-Match does not match its version)."),
    )
    assert (fresh.status, fresh.body["title"]) == (200, "Head")
    assert Member.objects.get(user_id=user_id).job_title == "Head"


def test_attributes_and_excluded_attributes_select_what_is_returned(okta):
    user_id = okta.post("Users", {**ANA, "title": "Engineer"}).body["id"]

    only = okta.get(f"Users/{user_id}?attributes=userName,name.givenName").body
    without = okta.get(f"Users/{user_id}?excludedAttributes=groups,meta,emails,name.familyName").body

    assert only == {"schemas": [USER], "id": user_id, "userName": "ana@example.org", "name": {"givenName": "Ana"}}
    assert without == {
        "schemas": [USER],
        "id": user_id,
        "userName": "ana@example.org",
        "name": {"givenName": "Ana", "formatted": "Ana Lima"},
        "displayName": "Ana Lima",
        "active": True,
        "title": "Engineer",
    }


def test_a_method_the_endpoint_does_not_have_is_a_scim_405(okta):
    answer = okta.post("Users/1", ANA)

    assert (answer.status, answer.body) == (
        405,
        error(405, "POST is not allowed here (allowed: GET, PUT, PATCH, DELETE)."),
    )


def test_the_user_list_costs_the_same_queries_for_one_user_or_many(okta):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            okta.get('Users?filter=userName sw "q"')
        return len(captured)

    okta.post("Users", {**ANA, "userName": "q0@example.org", "emails": []})
    one = queries()
    for n in range(1, 6):
        okta.post("Users", {**ANA, "userName": f"q{n}@example.org", "emails": []})

    assert okta.get('Users?filter=userName sw "q"').body["totalResults"] == 6
    assert queries() == one


def test_a_patch_that_changes_nothing_writes_nothing(okta):
    user_id = okta.post("Users", ANA).body["id"]
    modified = ScimUser.objects.get(user_id=user_id).updated_at
    before = _counts()

    answer = okta.patch(f"Users/{user_id}", {"Operations": [{"op": "replace", "value": {"active": True}}]})

    assert answer.status == 200
    assert _counts() == before
    assert ScimUser.objects.get(user_id=user_id).updated_at == modified
