"""App passwords: how reading apps sign in, never with the account password.

- A member makes one per app (named), sees it once, and can revoke it; the
  Reading apps page lists each with when it was made and last used. Making
  and revoking are audit-logged; offboarding revokes them all; a
  deactivated member's passwords stop working at once (``usable()``).
- Only hashes are stored: SHA-256 of the password (a 120-bit random secret:
  a slow password hash would add nothing but latency to every sign-in) and
  SHA-256 of its Fever ``api_key``, md5("email:password") as the Fever
  protocol defines it, computed with the member's email at creation (after
  an email change, make a new one for Fever apps).
- Members with two-factor authentication use app passwords like everyone:
  an app password is a separate, revocable secret for one app, so a TOTP
  code is not asked for (reading apps cannot show a prompt).
- The Google Reader API's ``Auth`` token and action token are HMACs (with
  the site's secret key) of the app password's stored hash: stateless,
  useless without the secret key, and dead as soon as the password is
  revoked.
- Failed sign-ins are rate limited like the site's sign-in form, with
  allauth's own limiter (``ACCOUNT_RATE_LIMITS``: "reader_login_failed" per
  address and per email for ClientLogin, "reader_fever_failed" per address
  for Fever): every attempt counts, and a successful one is given back, as
  allauth does for its sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from allauth.core.internal import ratelimit as limiter
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from members.audit import audit_record
from members.models import Member

from ..models import AppPassword

APP_PASSWORD_CREATED = "reader.app_password_created"  # noqa: S105 - an audit action name
APP_PASSWORD_REVOKED = "reader.app_password_revoked"  # noqa: S105 - an audit action name
NAME_MAX = 100
PER_MEMBER_MAX = 20
# A password is 24 letters and digits in groups of four (120 bits): easy to
# type on a phone, impossible to guess.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_GROUPS, _GROUP_LENGTH = 6, 4
LAST_USED_EVERY = timedelta(minutes=5)  # at most one write per password per 5 minutes
_AUTH_SALT = "feeds.reader.greader.auth"
_ACTION_SALT = "feeds.reader.greader.action"
ACTION_TOKEN_LENGTH = 57  # the length Google Reader clients expect


class AppPasswordRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NewAppPassword:
    """The one moment the secret exists in clear: show it, then forget it."""

    app_password: AppPassword
    password: str


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def fever_api_key(*, email: str, password: str) -> str:
    """The Fever protocol's api_key: md5 of "email:password", lower-case hex."""
    return hashlib.md5(f"{email}:{password}".encode(), usedforsecurity=False).hexdigest()


def app_password_create(*, member: Member, name: str, actor=None, request: HttpRequest | None = None) -> NewAppPassword:
    """Make an app password called ``name`` for ``member``; audit-logged."""
    name = " ".join((name or "").split())
    if not name:
        raise AppPasswordRefused(_("Give it a name, for example the app or the device it is for."))
    if len(name) > NAME_MAX:
        raise AppPasswordRefused(_("The name is too long (%(max)d characters at most).") % {"max": NAME_MAX})
    if not member.user.is_active:
        raise AppPasswordRefused(_("This account is deactivated."))
    password = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS))
    with transaction.atomic():
        if AppPassword.objects.filter(member=member, revoked_at__isnull=True).count() >= PER_MEMBER_MAX:
            raise AppPasswordRefused(
                _("You have %(max)d app passwords already: revoke one you no longer use first.")
                % {"max": PER_MEMBER_MAX}
            )
        app_password = AppPassword.objects.create(
            member=member,
            name=name,
            secret_hash=_sha256(password),
            fever_key_hash=_sha256(fever_api_key(email=member.user.email, password=password)),
        )
        audit_record(
            action=APP_PASSWORD_CREATED,
            actor=actor,
            obj=app_password,
            after={"name": name, "member": member.user.email},
            request=request,
        )
    return NewAppPassword(app_password=app_password, password=password)


def app_password_revoke(
    *, app_password: AppPassword, actor=None, request: HttpRequest | None = None, reason: str = ""
) -> bool:
    """Revoke one app password (audit-logged). False if it already was."""
    with transaction.atomic():
        updated = AppPassword.objects.filter(pk=app_password.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit_record(
                action=APP_PASSWORD_REVOKED,
                actor=actor,
                obj=app_password,
                after={"name": app_password.name, "member": app_password.member.user.email, "reason": reason},
                request=request,
            )
    return bool(updated)


def app_passwords_revoke_all(*, member: Member, actor=None, reason: str = "") -> int:
    count = 0
    for app_password in AppPassword.objects.filter(member=member, revoked_at__isnull=True).select_related(
        "member__user"
    ):
        count += app_password_revoke(app_password=app_password, actor=actor, reason=reason)
    return count


def app_passwords_of(member: Member):
    return AppPassword.objects.filter(member=member).order_by("revoked_at", "-created_at", "-pk")


# --- Signing in ------------------------------------------------------------------


class SignInRefused(Exception):
    """Wrong credentials (``limited`` when too many attempts failed)."""

    def __init__(self, *, limited: bool = False) -> None:
        super().__init__("limited" if limited else "refused")
        self.limited = limited


def _used(app_password: AppPassword) -> AppPassword:
    now = timezone.now()
    if app_password.last_used_at is None or now - app_password.last_used_at >= LAST_USED_EVERY:
        AppPassword.objects.filter(pk=app_password.pk).update(last_used_at=now)
        app_password.last_used_at = now
    return app_password


def _usable():
    return AppPassword.objects.usable().select_related("member__user", "member__team")


def _consume(request: HttpRequest, *, action: str, key: str | None = None):
    """One attempt against allauth's limiter (the rates are in
    ACCOUNT_RATE_LIMITS). allauth's public wrapper gives no way to take a
    successful attempt back, so its limiter is used directly, as allauth's
    own sign-in does; GET requests are limited too."""
    return limiter.consume(request, app="allauth.account", action=action, key=key, limit_get=True)


def app_password_sign_in(*, request: HttpRequest, email: str, password: str) -> AppPassword:
    """ClientLogin: the member's email and one of their app passwords.
    Raises SignInRefused; counts failures like the sign-in form does."""
    email = (email or "").strip().lower()
    usage = _consume(request, action="reader_login_failed", key=email)
    if usage is None:
        raise SignInRefused(limited=True)
    found = _usable().filter(secret_hash=_sha256(password)).first() if password else None
    if found is None or found.member.user.email.lower() != email:
        raise SignInRefused()
    usage.rollback()
    return _used(found)


def fever_sign_in(*, request: HttpRequest, api_key: str) -> AppPassword:
    """Fever: the api_key alone. Raises SignInRefused (rate limited per address)."""
    usage = _consume(request, action="reader_fever_failed")
    if usage is None:
        raise SignInRefused(limited=True)
    key = (api_key or "").strip().lower()
    found = _usable().filter(fever_key_hash=_sha256(key)).first() if len(key) == 32 else None
    if found is None:
        raise SignInRefused()
    usage.rollback()
    return _used(found)


# --- Google Reader tokens ----------------------------------------------------------


def greader_auth_token(app_password: AppPassword) -> str:
    """ClientLogin's Auth token: "<id>/<hmac>"."""
    digest = salted_hmac(_AUTH_SALT, f"{app_password.pk}:{app_password.secret_hash}", algorithm="sha256").hexdigest()
    return f"{app_password.pk}/{digest}"


def greader_token_check(token: str) -> AppPassword | None:
    """The usable app password an Auth token belongs to, else None."""
    pk, _slash, digest = (token or "").strip().partition("/")
    if not pk.isdigit() or len(pk) > 18 or len(digest) != 64:
        return None
    found = _usable().filter(pk=int(pk)).first()
    if found is None or not hmac.compare_digest(greader_auth_token(found), f"{found.pk}/{digest}"):
        return None
    return _used(found)


def greader_action_token(app_password: AppPassword) -> str:
    digest = salted_hmac(_ACTION_SALT, f"{app_password.pk}:{app_password.secret_hash}", algorithm="sha256").hexdigest()
    return digest[:ACTION_TOKEN_LENGTH]


def greader_action_token_ok(app_password: AppPassword, token: str | None) -> bool:
    """The POST token (T). Clients that never fetch one send nothing (FeedMe)
    or "x" (Reeder); the Auth header is the credential either way, and it is
    never sent by a browser on its own, so there is no cross-site request to
    guard against. Any other value must be the one we issued."""
    if token in (None, "", "x"):
        return True
    return hmac.compare_digest(token, greader_action_token(app_password))
