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


# --- Own pace: sharing, preferences, unsubscribe ------------------------------


def member_sharing_set(*, member: Member, paused: bool) -> Member:
    """The one "pause sharing" switch: paused hides everything the member shares."""
    member.sharing_paused = paused
    member.save(update_fields=["sharing_paused"])
    return member


def member_preferences_update(
    *,
    member: Member,
    digest: str,
    email_opt_outs: list[str],
    quiet_mode: bool,
    time_zone: str,
    introductions_opt_in: bool,
) -> Member:
    """Save how often and about what plnorg may speak up."""
    from .notifications import OPTIONAL_EMAIL_KINDS

    member.digest = digest
    member.email_opt_outs = [kind for kind in OPTIONAL_EMAIL_KINDS if kind in set(email_opt_outs)]
    member.quiet_mode = quiet_mode
    member.time_zone = time_zone
    member.introductions_opt_in = introductions_opt_in
    member.full_clean(exclude=["user", "team"])
    member.save(update_fields=["digest", "email_opt_outs", "quiet_mode", "time_zone", "introductions_opt_in"])
    return member


def member_unsubscribe(*, member: Member, kind: str) -> bool:
    """Turn one kind of optional email off (the digest: frequency "off" too).
    Returns False when it was already off. Idempotent."""
    from .notifications import DIGEST, OPTIONAL_EMAIL_KINDS

    if kind not in OPTIONAL_EMAIL_KINDS:
        raise ValueError(f"Unknown optional email kind: {kind!r}")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        opt_outs = list(member.email_opt_outs or [])
        changed = kind not in opt_outs or (kind == DIGEST and member.digest != Member.Digest.OFF)
        if kind not in opt_outs:
            opt_outs.append(kind)
        member.email_opt_outs = opt_outs
        fields = ["email_opt_outs"]
        if kind == DIGEST:
            member.digest = Member.Digest.OFF
            fields.append("digest")
        member.save(update_fields=fields)
    return changed


# --- Offboarding ---------------------------------------------------------------


def member_deactivate(*, member: Member, actor: User | None = None, replacement: Member | None = None) -> None:
    """The members part of offboarding: the person can no longer sign in by
    any route (password or SSO: both check `is_active`; existing sessions
    stop resolving to the user), the secret feed and calendar URLs of later
    apps stop working (they check `is_active`), and every team they manage is
    handed to `replacement` (or to nobody: admins then approve)."""
    from .audit import TEAM_MANAGER_CHANGED, USER_DEACTIVATED, audit_record

    user = member.user
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        for team in Team.objects.select_for_update().filter(manager=user):
            team.manager = replacement.user if replacement is not None else None
            team.save(update_fields=["manager"])
            audit_record(
                action=TEAM_MANAGER_CHANGED,
                actor=actor,
                obj=team,
                before={"manager": user.email},
                after={"manager": replacement.user.email if replacement else None},
            )
        audit_record(action=USER_DEACTIVATED, actor=actor, obj=user)
        # Open sessions need no sweep: the auth backends refuse inactive users
        # when a session is resolved, so the next request is anonymous.
