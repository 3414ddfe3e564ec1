"""Workflows that change people: roles, profiles, deactivation."""

from django.contrib.auth.models import Group
from django.db import transaction

from .models import ROLE_GROUPS, Member, Team, User


def role_groups_ensure() -> dict[str, Group]:
    """Make sure the Facilitators and Leaders groups exist (also done by a data
    migration; this covers tests that flush tables)."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}


def role_grant(*, user: User, group_name: str) -> None:
    groups = role_groups_ensure()
    user.groups.add(groups[group_name])
    user.__dict__.pop("_group_names", None)


def role_revoke(*, user: User, group_name: str) -> None:
    user.groups.remove(*Group.objects.filter(name=group_name))
    user.__dict__.pop("_group_names", None)


def member_ensure(*, user: User, display_name: str = "") -> Member:
    """The member profile of a user, created on first use."""
    member, created = Member.objects.get_or_create(
        user=user, defaults={"display_name": display_name or user.email.split("@")[0].replace(".", " ").title()}
    )
    return member


def member_create(
    *,
    email: str,
    password: str | None = None,
    display_name: str = "",
    team: Team | None = None,
    job_title: str = "",
    is_staff: bool = False,
) -> Member:
    """Create a user with a verified email address and their member profile."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, is_staff=is_staff, is_superuser=is_staff)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        member = member_ensure(user=user, display_name=display_name)
        member.team = team
        member.job_title = job_title
        member.save(update_fields=["team", "job_title"])
    return member


def user_roles(user) -> set[str]:
    """The role names of a user, as the permission map spells them."""
    if not getattr(user, "is_authenticated", False):
        return {"anonymous"}
    roles = {"member"}
    if user.is_staff:
        roles.add("admin")
    if user.is_leader:
        roles.add("leader")
    if user.is_facilitator:
        roles.add("facilitator")
    if user.is_manager:
        roles.add("manager")
    return roles
