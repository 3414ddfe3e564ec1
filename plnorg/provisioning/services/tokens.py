"""SCIM bearer tokens: made by `manage.py scim_token`, checked on every SCIM
request, revoked in the admin."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from members.audit import audit_record
from members.models import User

from ..models import ScimToken

TOKEN_PREFIX = "scim_"  # noqa: S105 - the public prefix of every token, not a secret
HINT_CHARS = len(TOKEN_PREFIX) + 4
# last_used_at is written at most this often per token (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)

# Audit actions (not secrets).
TOKEN_CREATED = "provisioning.token_created"  # noqa: S105
TOKEN_REVOKED = "provisioning.token_revoked"  # noqa: S105


class ScimTokenRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scim_token_create(*, name: str, actor: User | None = None, actor_label: str = "") -> tuple[ScimToken, str]:
    """A new token for the identity provider `name`; returns it and its
    secret, which is not stored and cannot be shown again."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise ScimTokenRefused("Give the identity provider a name of 1 to 100 characters, e.g. Okta.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ScimToken.objects.create(
                name=name, token_hash=token_digest(secret), hint=secret[:HINT_CHARS], created_by=actor
            )
            audit_record(action=TOKEN_CREATED, actor=actor, actor_label=actor_label, obj=token, after={"name": name})
    except IntegrityError:
        raise ScimTokenRefused(
            f"A token named {name!r} is in use. Revoke it in the admin first, or give the new one another name."
        ) from None
    return token, secret


def scim_token_revoke(*, token: ScimToken, actor: User | None, request=None) -> bool:
    """Revoke a token for good (requests with it are refused at once).
    Returns False when it was already revoked."""
    with transaction.atomic():
        now = timezone.now()
        if not ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor):
            return False
        token.revoked_at, token.revoked_by = now, actor
        audit_record(action=TOKEN_REVOKED, actor=actor, obj=token, request=request)
    return True


def scim_token_authenticate(*, secret: str) -> ScimToken | None:
    """The usable token with this secret, or None; notes when it was used."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ScimToken.objects.usable().filter(token_hash=token_digest(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ScimToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    return token
