"""Users from the identity provider: create (POST), replace (PUT), change
(PATCH), delete (DELETE).

`active: false` offboards the member through plnorg.privacy's
`member_offboard`, exactly as an admin's offboarding does (sign-in refused,
sessions ended, secret feed and calendar addresses dead, upcoming
registrations cancelled, teams they manage left without a manager; their data
kept). `active: true` reactivates through members' `member_reactivate`, as
the admin's "active" box does. DELETE does not destroy anything: the member
is offboarded and stops being a SCIM resource (404 from then on, left out of
lists); a later POST with the same userName or email brings the same account
back. Deleting an account and its data stays the member's own decision
(/me/data/).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from members.audit import audit_record
from members.models import User
from members.services import member_create, member_ensure, member_reactivate
from plnorg.privacy.services import member_offboard

from ..models import ScimToken, ScimUser, scim_users, with_user_name
from ..patch import patch_operations, user_state_patch
from ..protocol import ScimError
from ..resources import UserState, user_state_from_body, user_state_of

USER_CREATED = "provisioning.user_created"
USER_CHANGED = "provisioning.user_changed"
USER_DELETED = "provisioning.user_deleted"

# How the audit log names each field of a UserState.
_AUDITED = {
    "user_name": "userName",
    "email": "email",
    "external_id": "externalId",
    "given_name": "name.givenName",
    "family_name": "name.familyName",
    "display_name": "displayName",
    "title": "title",
    "active": "active",
}


def _audit_values(state: UserState) -> dict[str, Any]:
    return {_AUDITED[k]: v for k, v in asdict(state).items()}


def _locked(user_id: int) -> User:
    return scim_users().select_for_update(of=("self",)).get(pk=user_id)


def _refuse_conflicts(state: UserState, *, user_id: int | None) -> None:
    """409 when another account (a SCIM resource or not) has this userName or
    this email address: both identify one person."""
    others = User.objects.exclude(pk=user_id) if user_id else User.objects.all()
    if with_user_name(others).filter(scim_user_name__iexact=state.user_name).exists():
        raise ScimError(409, f"Another user has the userName {state.user_name!r}.", scim_type="uniqueness")
    addresses = EmailAddress.objects.filter(email__iexact=state.email)
    if others.filter(email__iexact=state.email).exists() or addresses.exclude(user_id=user_id).exists():
        raise ScimError(409, f"The email address {state.email} belongs to another user.", scim_type="uniqueness")


def _email_change(user: User, email: str) -> None:
    """The sign-in address follows the provider (it is the authority for the
    organization's addresses, so the new one counts as verified)."""
    User.objects.filter(pk=user.pk).update(email=email)
    user.email = email
    EmailAddress.objects.filter(user=user, email__iexact=email).delete()
    if not EmailAddress.objects.filter(user=user, primary=True).update(email=email, verified=True):
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)


def _save(*, user: User, state: UserState, token: ScimToken, request, restored: bool = False) -> None:
    """Write `state` to a locked user (nothing when nothing changed), then
    deactivate or reactivate."""
    _refuse_conflicts(state, user_id=user.pk)
    before = user_state_of(user)
    old, new = _audit_values(before), _audit_values(state)
    changed = [k for k in new if old[k] != new[k]]
    if not changed and not restored:
        return
    member = member_ensure(user=user)
    if state.email != user.email:
        _email_change(user, state.email)
    if (member.display_name, member.job_title) != (state.display_name, state.title):
        member.display_name, member.job_title = state.display_name, state.title
        member.save(update_fields=["display_name", "job_title"])
    link = getattr(user, "scim", None) or ScimUser(user=user)
    link.user_name, link.external_id = state.user_name, state.external_id
    link.given_name, link.family_name = state.given_name, state.family_name
    link.provisioned_by, link.deleted_at = token, None
    link.save()
    audit_record(
        action=USER_CHANGED,
        actor_label=token.audit_label,
        obj=user,
        before={k: old[k] for k in changed} | ({"deleted": True} if restored else {}),
        after={k: new[k] for k in changed} | ({"deleted": False} if restored else {}),
        request=request,
    )
    if before.active and not state.active:
        member_offboard(member=member, actor=None)
    elif state.active and not before.active:
        member_reactivate(member=member, actor=None, request=request)


@contextmanager
def _uniqueness_guard():
    """Two requests racing for one userName or email: the database's unique
    constraints decide, and the loser gets the same 409 as a plain conflict."""
    try:
        yield
    except IntegrityError as exc:
        raise ScimError(409, "A user with this userName or email exists.", scim_type="uniqueness") from exc


def scim_user_create(*, body: Any, token: ScimToken, request=None) -> User:
    """POST /Users. A userName or email of a user the provider deleted brings
    that account back (RFC 7644 §3.6: a deleted resource is no conflict)."""
    with _uniqueness_guard(), transaction.atomic():
        state = user_state_from_body(body, current=None)
        deleted = (
            ScimUser.objects.filter(deleted_at__isnull=False)
            .filter(Q(user_name__iexact=state.user_name) | Q(user__email__iexact=state.email))
            .values_list("user_id", flat=True)
            .first()
        )
        if deleted is not None:
            user = User.objects.select_related("scim", "member").select_for_update(of=("self",)).get(pk=deleted)
            base = replace(user_state_of(user), active=True)
            _save(
                user=user, state=user_state_from_body(body, current=base), token=token, request=request, restored=True
            )
            return _locked(user.pk)
        _refuse_conflicts(state, user_id=None)
        member = member_create(email=state.email, display_name=state.display_name, job_title=state.title)
        ScimUser.objects.create(
            user=member.user,
            user_name=state.user_name,
            external_id=state.external_id,
            given_name=state.given_name,
            family_name=state.family_name,
            provisioned_by=token,
        )
        audit_record(
            action=USER_CREATED,
            actor_label=token.audit_label,
            obj=member.user,
            after=_audit_values(replace(state, display_name=member.display_name)),
            request=request,
        )
        if not state.active:
            member_offboard(member=member, actor=None)
        return _locked(member.user_id)


def scim_user_replace(*, user: User, body: Any, token: ScimToken, request=None) -> User:
    """PUT /Users/{id}."""
    with _uniqueness_guard(), transaction.atomic():
        user = _locked(user.pk)
        _save(user=user, state=user_state_from_body(body, current=user_state_of(user)), token=token, request=request)
        return _locked(user.pk)


def scim_user_patch(*, user: User, body: Any, token: ScimToken, request=None) -> User:
    """PATCH /Users/{id}: every operation applies, or none does."""
    with _uniqueness_guard(), transaction.atomic():
        user = _locked(user.pk)
        state = user_state_patch(user_state_of(user), patch_operations(body))
        _save(user=user, state=state, token=token, request=request)
        return _locked(user.pk)


def scim_user_delete(*, user: User, token: ScimToken, request=None) -> None:
    """DELETE /Users/{id}: offboard (if still active) and stop being a SCIM
    resource; the account and its data stay."""
    with transaction.atomic():
        user = _locked(user.pk)
        link = getattr(user, "scim", None) or ScimUser(user=user, user_name=user.scim_user_name)
        link.deleted_at, link.provisioned_by = timezone.now(), token
        link.save()
        audit_record(action=USER_DELETED, actor_label=token.audit_label, obj=user, request=request)
        if user.is_active:
            member_offboard(member=member_ensure(user=user), actor=None)
