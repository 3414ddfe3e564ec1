"""Groups from the identity provider, as plnorg's teams: create (POST),
replace (PUT), change (PATCH), delete (DELETE).

A member has one team, so adding someone to a group moves them out of the
team they were in (assign each person to one team group in the provider).
Removing someone from a group takes them out of that team only if they are
still in it. A team's manager, parent and clock policy are plnorg's own and
are not touched. DELETE does not destroy the team (its clock policy and
history stay): it stops being a SCIM resource, and a later POST with the
same displayName takes it up again; an admin deletes teams in the admin.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from members.audit import audit_record
from members.models import Member, Team
from members.services import member_ensure

from ..models import ScimGroup, ScimToken, scim_users
from ..patch import group_state_patch, patch_operations
from ..protocol import ScimError
from ..resources import GroupState, group_state_from_body, group_state_of, scim_members_prefetch

GROUP_CREATED = "provisioning.group_created"
GROUP_CHANGED = "provisioning.group_changed"
GROUP_DELETED = "provisioning.group_deleted"


@contextmanager
def _uniqueness_guard():
    try:
        yield
    except IntegrityError as exc:
        raise ScimError(409, "A team with this displayName exists.", scim_type="uniqueness") from exc


def _locked(team_id: int) -> Team:
    return (
        Team.objects.select_related("scim")
        .prefetch_related(scim_members_prefetch())
        .select_for_update(of=("self",))
        .get(pk=team_id)
    )


def _members_save(*, team: Team, before: set[int], after: set[int]) -> dict[str, Any]:
    """Move the added users into `team`, take the removed ones out of it;
    returns what changed, by email, for the audit log."""
    added, removed = after - before, before - after
    changes: dict[str, Any] = {}
    if added:
        users = {u.pk: u for u in scim_users().filter(pk__in=added)}
        missing = sorted(added - set(users))
        if missing:
            raise ScimError(400, f"No user with id {missing[0]}.", scim_type="invalidValue")
        for user in users.values():
            member_ensure(user=user)
        moving = Member.objects.filter(user_id__in=added, team__isnull=False).exclude(team=team)
        moved = dict(moving.values_list("user__email", "team__name"))
        Member.objects.filter(user_id__in=added).update(team=team)
        changes["members_added"] = sorted(u.email for u in users.values())
        if moved:
            changes["moved_from"] = dict(sorted(moved.items()))
    if removed:
        leaving = Member.objects.filter(user_id__in=removed, team=team)
        changes["members_removed"] = sorted(leaving.values_list("user__email", flat=True))
        leaving.update(team=None)
    return changes


def _save(*, team: Team, state: GroupState, token: ScimToken, request, restored: bool = False) -> None:
    """Write `state` to a locked team (nothing when nothing changed)."""
    before = group_state_of(team)
    old = {"displayName": before.display_name, "externalId": before.external_id}
    new = {"displayName": state.display_name, "externalId": state.external_id}
    changed = [k for k in new if old[k] != new[k]]
    if not changed and before.user_ids == state.user_ids and not restored:
        return
    if state.display_name != team.name:
        if Team.objects.filter(name__iexact=state.display_name).exclude(pk=team.pk).exists():
            raise ScimError(409, f"A team named {state.display_name!r} exists.", scim_type="uniqueness")
        team.name = state.display_name
        team.save(update_fields=["name"])
    link = getattr(team, "scim", None) or ScimGroup(team=team)
    link.external_id, link.provisioned_by, link.deleted_at = state.external_id, token, None
    link.save()
    changes = _members_save(team=team, before=before.user_ids, after=state.user_ids)
    audit_record(
        action=GROUP_CHANGED,
        actor_label=token.audit_label,
        obj=team,
        before={k: old[k] for k in changed} | ({"deleted": True} if restored else {}),
        after={k: new[k] for k in changed} | changes | ({"deleted": False} if restored else {}),
        request=request,
    )


def scim_group_create(*, body: Any, token: ScimToken, request=None) -> Team:
    """POST /Groups. The displayName of a team the provider deleted takes
    that team up again (its members stay unless the body lists members)."""
    with _uniqueness_guard(), transaction.atomic():
        state = group_state_from_body(body, current=None)
        deleted = (
            Team.objects.filter(name__iexact=state.display_name, scim__deleted_at__isnull=False)
            .values_list("pk", flat=True)
            .first()
        )
        if deleted is not None:
            team = _locked(deleted)
            state = group_state_from_body(body, current=group_state_of(team))
            _save(team=team, state=state, token=token, request=request, restored=True)
            return _locked(team.pk)
        if Team.objects.filter(name__iexact=state.display_name).exists():
            raise ScimError(409, f"A team named {state.display_name!r} exists.", scim_type="uniqueness")
        team = Team.objects.create(name=state.display_name)
        ScimGroup.objects.create(team=team, external_id=state.external_id, provisioned_by=token)
        changes = _members_save(team=team, before=set(), after=state.user_ids)
        audit_record(
            action=GROUP_CREATED,
            actor_label=token.audit_label,
            obj=team,
            after={"displayName": state.display_name, "externalId": state.external_id} | changes,
            request=request,
        )
        return _locked(team.pk)


def scim_group_replace(*, team: Team, body: Any, token: ScimToken, request=None) -> Team:
    """PUT /Groups/{id}: members listed replace the members."""
    with _uniqueness_guard(), transaction.atomic():
        team = _locked(team.pk)
        _save(team=team, state=group_state_from_body(body, current=group_state_of(team)), token=token, request=request)
        return _locked(team.pk)


def scim_group_patch(*, team: Team, body: Any, token: ScimToken, request=None) -> Team:
    """PATCH /Groups/{id}: every operation applies, or none does."""
    with _uniqueness_guard(), transaction.atomic():
        team = _locked(team.pk)
        state = group_state_patch(group_state_of(team), patch_operations(body))
        _save(team=team, state=state, token=token, request=request)
        return _locked(team.pk)


def scim_group_delete(*, team: Team, token: ScimToken, request=None) -> None:
    """DELETE /Groups/{id}: the team stays as it is and stops being a SCIM resource."""
    with transaction.atomic():
        team = _locked(team.pk)
        link = getattr(team, "scim", None) or ScimGroup(team=team)
        link.deleted_at, link.provisioned_by = timezone.now(), token
        link.save()
        audit_record(action=GROUP_DELETED, actor_label=token.audit_label, obj=team, request=request)
