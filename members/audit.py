"""Recording sensitive actions in the append-only audit log.

Call `audit_record(...)` from the service that performs the action, inside its
transaction, so the record exists exactly when the change does.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models

from .models import AuditEvent

# Actions, so filters and the transparency page speak the same words.
ROLE_GRANTED = "role.granted"
ROLE_REVOKED = "role.revoked"
ADMIN_CHANGED = "role.admin_changed"
TEAM_MANAGER_CHANGED = "team.manager_changed"
USER_DEACTIVATED = "user.deactivated"
USER_REACTIVATED = "user.reactivated"
DATA_EXPORTED = "data.exported"
ACCOUNT_DELETED = "data.account_deleted"
CONTENT_HIDDEN = "moderation.hidden"
CONTENT_RESTORED = "moderation.restored"
TIME_REOPENED = "time.reopened"
TIME_ADMIN_EDITED = "time.admin_edited"
WEEK_LOCK_CHANGED = "time.week_lock_changed"
POLICY_CHANGED = "policy.changed"
SSO_CHANGED = "sso.changed"
SIGNUP_DOMAINS_CHANGED = "settings.signup_domains_changed"
ANALYTICS_SWITCH_CHANGED = "settings.analytics_changed"
MFA_RESET = "mfa.reset"
AUDIT_EXPORTED = "audit.exported"
EMAIL_RESENT = "email.resent"
EMAIL_MARKED_DELIVERED = "email.marked_delivered"


def client_ip(request) -> str | None:
    """The client's address, read the one way plnorg reads it: allauth's, which
    the sign-in rate limits use too. Behind our proxies it believes only the
    X-Forwarded-For hops they appended (TRUSTED_PROXY_COUNT in settings), never
    what a client wrote there itself; without a proxy, the socket peer."""
    if request is None:
        return None
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # allauth found no address at all
        return None


def audit_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    request=None,
    actor_label: str = "",
) -> AuditEvent:
    """Record one action. `actor` is the user who acted (or None: the system);
    `actor_label` names an actor that is not a user, e.g. "scim:Okta" for an
    identity provider's provisioning token, and is kept in `actor_email`."""
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    if actor is None and request is not None and getattr(request.user, "is_authenticated", False):
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or actor_label,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        before=before,
        after=after,
        ip=client_ip(request),
    )
