"""/Groups as teams: bad input with nothing saved, uniqueness, one team per
member, PUT, a deleted group taken up again, and a list whose queries do not
grow with its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import AuditEvent, Member, Team
from plnorg.provisioning.models import ScimGroup
from tests.factories import MemberFactory, TeamFactory

from .conftest import GROUP, PATCH_OP, error

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return Team.objects.count(), ScimGroup.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"schemas": [GROUP]}, 400, error(400, "displayName is required.", "invalidValue")),
        ({"displayName": "x" * 121}, 400, error(400, "displayName is longer than 120 characters.", "invalidValue")),
        ({"displayName": "Ok", "members": [{"value": "abc"}]}, 400, error(400, "No user with id 'abc'.", "invalidValue")),
        ({"displayName": "Ok", "members": [{"value": "999999"}]}, 400, error(400, "No user with id 999999.", "invalidValue")),
        ({"displayName": "Ok", "members": "everyone"}, 400, error(400, "members must be a list of objects with a value.", "invalidValue")),
        ({"displayName": "team 1 of the tests"}, 409, error(409, "A team named 'team 1 of the tests' exists.", "uniqueness")),
    ],
)  # fmt: skip
def test_a_bad_group_is_refused_and_nothing_is_saved(okta, body, status, expected):
    TeamFactory(name="Team 1 of the tests")
    before = _counts()

    answer = okta.post("Groups", body)

    assert (answer.status, answer.body) == (status, expected)
    assert _counts() == before


def test_a_patch_that_fails_half_way_changes_nothing(okta):
    TeamFactory(name="Taken")
    team = Team.objects.get(pk=okta.post("Groups", {"displayName": "Mine"}).body["id"])
    ana = MemberFactory(team=None)
    before = _counts()

    answer = okta.patch(
        f"Groups/{team.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(ana.user_id)}]},
                {"op": "replace", "path": "displayName", "value": "taken"},
            ],
        },
    )

    assert (answer.status, answer.body) == (409, error(409, "A team named 'taken' exists.", "uniqueness"))
    assert Member.objects.get(pk=ana.pk).team is None
    assert Team.objects.get(pk=team.pk).name == "Mine"
    assert _counts() == before


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ({"op": "remove", "path": "displayName"}, error(400, "displayName cannot be removed: a team needs a name.", "mutability")),
        ({"op": "add", "path": 'members[value eq "1"]', "value": []}, error(400, "Members are added or replaced by value, and removed by value or by a filter.", "invalidPath")),
        ({"op": "remove", "path": "members[value xx 1]"}, error(400, "The filter in 'members[value xx 1]' is not valid: Unknown filter operator 'xx' after 'value'.", "invalidPath")),
        ({"op": "replace", "path": "displayName", "value": ""}, error(400, "displayName cannot be empty.", "invalidValue")),
    ],
)  # fmt: skip
def test_bad_group_patches_are_refused(okta, operation, expected):
    team_id = okta.post("Groups", {"displayName": "Patched"}).body["id"]

    answer = okta.patch(f"Groups/{team_id}", {"schemas": [PATCH_OP], "Operations": [operation]})

    assert (answer.status, answer.body) == (400, expected)


def test_a_member_is_in_one_team_so_adding_moves_and_a_stale_remove_does_nothing(okta):
    first = okta.post("Groups", {"displayName": "First"}).body["id"]
    second = okta.post("Groups", {"displayName": "Second"}).body["id"]
    ana = MemberFactory(team=None)
    add = {"op": "add", "path": "members", "value": [{"value": str(ana.user_id)}]}

    okta.patch(f"Groups/{first}", {"Operations": [add]})
    okta.patch(f"Groups/{second}", {"Operations": [add]})
    okta.patch(f"Groups/{first}", {"Operations": [{"op": "remove", "path": f'members[value eq "{ana.user_id}"]'}]})

    assert Member.objects.get(pk=ana.pk).team_id == int(second)
    assert [m["value"] for m in okta.get(f"Groups/{second}").body["members"]] == [str(ana.user_id)]
    assert okta.get(f"Groups/{first}").body["members"] == []


def test_put_replaces_the_members_and_keeps_the_manager(okta):
    manager = MemberFactory(team=None)
    team = TeamFactory(name="Platform", manager=manager.user)
    stays, goes, comes = MemberFactory(team=team), MemberFactory(team=team), MemberFactory(team=None)

    answer = okta.put(
        f"Groups/{team.pk}",
        {"schemas": [GROUP], "displayName": "Platform", "members": [{"value": str(stays.user_id)}, {"value": str(comes.user_id)}]},
    )  # fmt: skip

    assert answer.status == 200
    assert [m["value"] for m in answer.body["members"]] == sorted([str(stays.user_id), str(comes.user_id)], key=int)
    assert {m.pk: m.team_id for m in Member.objects.filter(pk__in=[stays.pk, goes.pk, comes.pk])} == {
        stays.pk: team.pk,
        goes.pk: None,
        comes.pk: team.pk,
    }
    assert Team.objects.get(pk=team.pk).manager_id == manager.user_id


def test_a_deleted_group_is_taken_up_again_by_a_post_with_its_name(okta):
    team = TeamFactory(name="Service design")
    member = MemberFactory(team=team)
    okta.delete(f"Groups/{team.pk}")

    again = okta.post("Groups", {"displayName": "service design", "externalId": "g-2"})

    assert again.status == 201
    assert (again.body["id"], again.body["displayName"], again.body["externalId"]) == (
        str(team.pk),
        "service design",
        "g-2",
    )
    assert [m["value"] for m in again.body["members"]] == [str(member.user_id)]


def test_a_deleted_user_is_not_listed_as_a_member(okta):
    team = TeamFactory(name="Night ops")
    kept, deleted = MemberFactory(team=team), MemberFactory(team=team)

    okta.delete(f"Users/{deleted.user_id}")

    assert [m["value"] for m in okta.get(f"Groups/{team.pk}").body["members"]] == [str(kept.user_id)]
    assert Member.objects.get(pk=deleted.pk).team_id == team.pk


def test_groups_are_filtered_by_external_id_exactly_and_display_name_in_any_case(okta):
    team_id = okta.post("Groups", {"displayName": "Data Science", "externalId": "AbC"}).body["id"]

    def ids(query: str) -> list[str]:
        return [r["id"] for r in okta.get(f"Groups?filter={query}").body["Resources"]]

    assert ids('externalId eq "AbC"') == [team_id]
    assert ids('externalId eq "abc"') == []
    assert ids('displayName eq "data science"') == [team_id]
    assert ids('displayName co "science" and not (externalId pr)') == []


def test_the_group_list_costs_the_same_queries_for_one_team_or_many(okta):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = okta.get('Groups?filter=displayName sw "q-"')
        return len(captured), answer.body["totalResults"]

    team = TeamFactory(name="q-0")
    MemberFactory(team=team)
    one, total = queries()
    for n in range(1, 5):
        MemberFactory.create_batch(3, team=TeamFactory(name=f"q-{n}"))

    assert queries() == (one, 5)
    assert total == 1
