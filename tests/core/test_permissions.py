"""The permission map covers every URL, and every role gets what it declares."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core import permissions as perm
from core.permissions import user_roles
from tests.conftest import PERSONAS
from tests.pages import text_of

# Unnamed legacy aliases that allauth still ships; unnamed, they can never be
# declared, so the middleware refuses them (tested below).
UNNAMED_ALLOWED_PREFIXES = ("accounts/social/",)


def all_patterns(patterns=None, prefix="", namespace=None):
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if namespace and p.namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from all_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            if name is None and namespace:
                name = f"{namespace}:<unnamed>"
            yield prefix + str(p.pattern), name


def test_every_url_has_a_permission_map_entry():
    missing = []
    for route, name in all_patterns():
        if name is None:
            if route.startswith(UNNAMED_ALLOWED_PREFIXES):
                continue
            missing.append(f"{route} (unnamed)")
        elif perm.access_for(name) is None:
            missing.append(f"{route} ({name})")
    assert missing == [], "URLs without a permission-map entry:\n" + "\n".join(missing)


def test_every_entry_names_a_real_url():
    names = {name for _, name in all_patterns() if name and not name.endswith("<unnamed>")}
    assert sorted(set(perm.PERMISSIONS) - names) == []


def test_every_entry_declares_text():
    assert [name for name, a in perm.PERMISSIONS.items() if not a.text] == []


@pytest.mark.django_db
def test_unnamed_allauth_alias_is_refused(client):
    assert client.get("/accounts/social/connections/").status_code in (302, 403)


@pytest.mark.django_db
def test_undeclared_view_is_refused(client, monkeypatch):
    monkeypatch.delitem(perm.PERMISSIONS, "landing")
    response = client.get("/")
    assert response.status_code == 403
    assert "You don't have access to this page" in text_of(response)


def expected_outcome(access: perm.Access, roles: set[str]) -> str:
    if access.allows(roles):
        return "redirect" if access.redirects & roles else "ok"
    return "login" if perm.ANONYMOUS in roles else "forbidden"


def check_entry(name: str, access: perm.Access, persona: str, user, client) -> str | None:
    """Open one entry's sample URL as one persona; return a problem or None."""
    if "GET" not in access.methods:
        return None
    kwargs = access.sample(user)
    if kwargs is None:
        return None
    url = reverse(name, kwargs=kwargs or None)
    response = client.get(url)
    roles = user_roles(user) if user else {perm.ANONYMOUS}
    outcome = expected_outcome(access, roles)
    status = response.status_code
    if outcome == "ok":
        if status != access.status and status not in access.also_ok:
            return f"{persona} {url}: expected {access.status}, got {status} {response.get('Location', '')}"
        body = text_of(response)
        if access.text.lower() not in body.lower():
            return f"{persona} {url}: declared text {access.text!r} missing"
    elif outcome == "redirect":
        if status not in (200, 302) and status not in access.also_ok:
            return f"{persona} {url}: expected a redirect, got {status}"
    elif outcome == "login":
        if status != 302 or "/accounts/login/" not in response["Location"]:
            return f"{persona} {url}: expected a redirect to sign in, got {status}"
    elif status not in (403, 404):
        return f"{persona} {url}: expected 403/404, got {status}"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_role_against_each_entry(persona, client_as, persona_user):
    client = client_as(persona)
    user = persona_user(persona)
    problems = []
    for name, access in sorted(perm.PERMISSIONS.items()):
        problem = check_entry(name, access, persona, user, client)
        if problem:
            problems.append(problem)
    # The admin namespace: only admins get in.
    response = client.get(reverse("admin:index"))
    if persona == "admin":
        if response.status_code != 200 or "Site administration" not in response.content.decode():
            problems.append(f"admin: admin index gave {response.status_code}")
    elif response.status_code != 302:
        problems.append(f"{persona}: admin index gave {response.status_code}, expected a redirect to the admin login")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_roles_are_read_in_one_query_and_read_again_after_a_change(django_assert_num_queries):
    from django.contrib.auth.models import Group

    from members.models import FACILITATORS, LEADERS, User
    from tests.factories import TeamFactory, UserFactory

    plain, leader_manager = UserFactory(), UserFactory()
    leader_manager.groups.add(Group.objects.get_or_create(name=LEADERS)[0])
    TeamFactory(name="Roles one", manager=leader_manager)
    TeamFactory(name="Roles two", manager=leader_manager)

    for user, expected in ((plain, {perm.MEMBER}), (leader_manager, {perm.MEMBER, perm.LEADER, perm.MANAGER})):
        fresh = User.objects.get(pk=user.pk)
        with django_assert_num_queries(1):
            assert user_roles(fresh) == expected
            assert user_roles(fresh) == expected  # cached on the instance

    fresh = User.objects.get(pk=plain.pk)
    assert user_roles(fresh) == {perm.MEMBER}
    fresh.groups.add(Group.objects.get_or_create(name=FACILITATORS)[0])
    TeamFactory(name="Roles three", manager=fresh)
    fresh.__dict__.pop("_group_names")  # what the role services do after a change
    assert user_roles(fresh) == {perm.MEMBER, perm.FACILITATOR, perm.MANAGER}
