"""Signed, expiring unsubscribe tokens (django.core.signing with its own salt).

A token names a member and one kind of optional email. It needs no session:
anyone holding the link may turn that one kind of email off for that member,
which is what a link in an email is for. Tokens expire after
UNSUBSCRIBE_TOKEN_MAX_AGE (60 days) and break when SECRET_KEY changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

SALT = "members.unsubscribe"
UNSUBSCRIBE_TOKEN_MAX_AGE = timedelta(days=60)


class TokenInvalid(ValueError):
    """The token was altered, expired or names nothing we know; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class UnsubscribeClaim:
    member_id: int
    kind: str


def unsubscribe_token_make(*, member, kind: str) -> str:
    return signing.dumps({"m": member.pk, "k": kind}, salt=SALT, compress=True)


def unsubscribe_token_read(token: str, *, max_age: timedelta = UNSUBSCRIBE_TOKEN_MAX_AGE) -> UnsubscribeClaim:
    from django.utils.translation import gettext as _

    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenInvalid(
            _("This unsubscribe link has expired (links work for 60 days). Change your email preferences instead.")
        ) from exc
    except signing.BadSignature as exc:
        raise TokenInvalid(
            _(
                "This unsubscribe link is not valid: it may have been cut or changed. Change your email preferences instead."
            )
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("m"), int) or not isinstance(data.get("k"), str):
        raise TokenInvalid(_("This unsubscribe link is not valid. Change your email preferences instead."))
    return UnsubscribeClaim(member_id=data["m"], kind=data["k"])
