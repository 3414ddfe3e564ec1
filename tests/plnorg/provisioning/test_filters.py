"""The SCIM filter grammar (RFC 7644 §3.4.2.2): the tree it reads, and the
users a filter selects from the database."""

import pytest

from plnorg.provisioning.filters import (
    Compare,
    FilterError,
    Logical,
    Not,
    ValuePath,
    filter_matches,
    filter_parse,
    filter_q,
)
from plnorg.provisioning.models import ScimUser, scim_users
from plnorg.provisioning.resources import USER_ATTRIBUTES
from tests.factories import MemberFactory, TeamFactory

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def parse(text: str):
    return filter_parse(text, schema=USER)


def test_a_comparison_with_a_urn_and_any_case():
    assert parse(f'{USER}:userName EQ "Ana@Example.org"') == Compare("username", "eq", "Ana@Example.org")


def test_and_binds_tighter_than_or_and_parentheses_group():
    a, b, c = (Compare("title", "eq", v) for v in ("a", "b", "c"))

    assert parse('title eq "a" or title eq "b" and title eq "c"') == Logical("or", a, Logical("and", b, c))
    assert parse('(title eq "a" or title eq "b") and title eq "c"') == Logical("and", Logical("or", a, b), c)


def test_not_presence_literals_and_value_paths():
    assert parse('not (externalId pr) and active eq true and emails[type eq "work" and value ew "@x.org"]') == Logical(
        "and",
        Logical("and", Not(Compare("externalid", "pr")), Compare("active", "eq", True)),
        ValuePath("emails", Logical("and", Compare("type", "eq", "work"), Compare("value", "ew", "@x.org"))),
    )
    assert parse('title eq null or title eq "say \\"hi\\""') == Logical(
        "or", Compare("title", "eq", None), Compare("title", "eq", 'say "hi"')
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "title",
        'title eq "a',
        "not title pr",
        "(title pr",
        'title eq "a")',
        "title eq",
        "ti tle pr",
        "x" * 2001,
    ],
)
def test_malformed_filters_are_refused(text):
    with pytest.raises(FilterError) as refused:
        parse(text)

    assert (refused.value.status, refused.value.scim_type) == (400, "invalidFilter")


def test_deep_nesting_is_refused():
    with pytest.raises(FilterError, match="nested too deeply"):
        parse("(" * 30 + "title pr" + ")" * 30)


def test_value_path_filters_match_one_value_in_python():
    node = filter_parse('value eq "42" or type eq "WORK"', schema="")

    assert [
        filter_matches(node, item) for item in ({"value": "42"}, {"value": "7", "type": "work"}, {"value": "7"})
    ] == [
        True,
        True,
        False,
    ]


@pytest.mark.django_db
def test_filters_select_users_in_the_database():
    team = TeamFactory(name="Filter team")
    ana = MemberFactory(user__email="ana.f@example.org", display_name="Ana Filter", job_title="Engineer", team=team)
    ben = MemberFactory(user__email="ben.f@example.org", display_name="Ben Filter", job_title="", team=None)
    ScimUser.objects.create(user=ben.user, user_name="BEN_F", external_id="Ext-B", given_name="Ben")
    ben.user.is_active = False
    ben.user.save()

    def emails(text: str) -> list[str]:
        rows = scim_users().filter(filter_q(parse(text), USER_ATTRIBUTES), email__endswith=".f@example.org")
        return sorted(rows.values_list("email", flat=True))

    assert emails('userName eq "ben_f"') == ["ben.f@example.org"]
    assert emails('userName eq "ANA.F@example.org"') == ["ana.f@example.org"]  # no link: the email
    assert emails('externalId eq "Ext-B"') == ["ben.f@example.org"]
    assert emails('externalId eq "ext-b"') == []
    assert emails("externalId pr") == ["ben.f@example.org"]
    assert emails("not (externalId pr)") == ["ana.f@example.org"]
    assert emails("active eq false") == ["ben.f@example.org"]
    assert emails('displayName sw "ana" or name.givenName eq "ben"') == ["ana.f@example.org", "ben.f@example.org"]
    assert emails('emails[type eq "work" and value co "ben"]') == ["ben.f@example.org"]
    assert emails('emails.value eq "ana.f@example.org"') == ["ana.f@example.org"]
    assert emails(f'groups.value eq "{team.pk}"') == ["ana.f@example.org"]
    assert emails(f'id eq "{ana.user_id}" or id eq "not-a-number"') == ["ana.f@example.org"]
    assert emails("title eq null") == ["ben.f@example.org"]
    assert emails('title ne "Engineer"') == ["ben.f@example.org"]
