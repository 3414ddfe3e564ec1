"""Who may call /scim/v2/: a request with a usable bearer token
(`Authorization: Bearer scim_…`), never a session. Wrong tokens are counted
per client address; past the limit that address is refused for the rest of
the window without the token being looked up."""

from __future__ import annotations

from django.core.cache import cache

from members.audit import client_ip

from .models import ScimToken
from .protocol import UNAUTHORIZED_DETAIL, ScimError
from .services.tokens import scim_token_authenticate

FAILED_AUTH_LIMIT = 10
FAILED_AUTH_WINDOW_SECONDS = 300
REALM = 'Bearer realm="plnorg SCIM"'


def _failures_key(request) -> str:
    return f"provisioning:auth-failures:{client_ip(request) or 'unknown'}"


def request_token(request) -> ScimToken:
    """The token that authenticates this request; raises ScimError 401 (no or
    a wrong token) or 429 (too many wrong ones from this address)."""
    key = _failures_key(request)
    if (cache.get(key) or 0) >= FAILED_AUTH_LIMIT:
        raise ScimError(
            429,
            "Too many requests with a wrong token from this address; try again later.",
            headers={"Retry-After": str(FAILED_AUTH_WINDOW_SECONDS)},
        )
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise ScimError(401, UNAUTHORIZED_DETAIL, headers={"WWW-Authenticate": REALM})
    token = scim_token_authenticate(secret=credential)
    if token is None:
        # The window starts with the first failure (add) and is not extended.
        cache.add(key, 0, FAILED_AUTH_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, FAILED_AUTH_WINDOW_SECONDS)
        raise ScimError(
            401,
            "The bearer token is not valid (unknown or revoked).",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return token
