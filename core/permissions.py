"""The permission map: who may open every named URL.

Every URL name in the project has exactly one entry here (or falls under a
namespace entry such as the Django admin). `PermissionMapMiddleware` enforces
the role part for every request, denying by default: a URL with no entry is
refused. Object rules ("only my entries", "only my team", "only workshops I
facilitate") are enforced by the views' querysets, which answer 404 for
objects outside them; the entry names the rule so reviewers and tests see it.

Each entry also says how to build a sample URL from the demo data (`sample`)
and which text an allowed role must see (`text`). tests/core/test_permissions.py
walks every URL pattern against this map, and the page checks crawl from it.

Roles: anonymous, member (any signed-in, active person), manager (manages a
team), facilitator, leader, admin (is_staff). A signed-in person always has
"member" as well as any others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

ANONYMOUS = "anonymous"
MEMBER = "member"
MANAGER = "manager"
FACILITATOR = "facilitator"
LEADER = "leader"
ADMIN = "admin"

PUBLIC = frozenset({ANONYMOUS, MEMBER})
ANONYMOUS_ONLY = frozenset({ANONYMOUS})
MEMBERS = frozenset({MEMBER})
MANAGERS = frozenset({MANAGER, ADMIN})
FACILITATORS = frozenset({FACILITATOR, ADMIN})
LEADERS = frozenset({LEADER, ADMIN})
ADMINS = frozenset({ADMIN})

Sample = Callable[[Any], dict[str, Any] | None]


def user_roles(user) -> set[str]:
    """The role names of a user, as the permission map spells them (from the
    user model's `is_staff`, `is_leader`, `is_facilitator` and `is_manager`)."""
    if not getattr(user, "is_authenticated", False):
        return {ANONYMOUS}
    roles = {MEMBER}
    if user.is_staff:
        roles.add(ADMIN)
    if user.is_leader:
        roles.add(LEADER)
    if user.is_facilitator:
        roles.add(FACILITATOR)
    if user.is_manager:
        roles.add(MANAGER)
    return roles


def no_args(user: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    """Who may open one URL, how to build a sample of it, what it shows."""

    roles: frozenset[str]
    text: str = ""
    sample: Sample = no_args
    object_rule: str = ""
    # Pages that only accept POST (actions) are not crawled with GET.
    methods: tuple[str, ...] = ("GET",)
    # Some pages answer something other than 200 on purpose to an allowed
    # role (a redirect, a JSON body, an attachment).
    content_type: str = "text/html"
    # The status an allowed role gets (an error page answers 401 on purpose).
    status: int = 200
    # Further statuses an allowed role may get while a precondition does not
    # hold (allauth answers 404 on "recovery codes" before MFA is set up).
    also_ok: frozenset[int] = field(default_factory=frozenset)
    # Allowed roles that the page nevertheless redirects (e.g. "sign in" for
    # someone signed in); the crawler accepts the redirect.
    redirects: frozenset[str] = field(default_factory=frozenset)
    # allauth enforces its own rules on its pages; we only declare them.
    enforced_by_view: bool = False
    # Why the view takes no CSRF token (its credential is not a cookie); a
    # reason puts the name in CSRF_EXEMPT_URL_NAMES.
    csrf_exempt: str = ""

    def allows(self, roles: set[str]) -> bool:
        return bool(self.roles & roles)


PERMISSIONS: dict[str, Access] = {}
# The only views exempt from CSRF protection, each for a stated reason:
# "members:unsubscribe": mail clients POST List-Unsubscribe=One-Click
# (RFC 8058) with no session; the signed token in the URL is the credential.
# "websub:callback": WebSub hubs POST updates with no session; the unguessable
# token in the URL and each push's HMAC signature are the credentials.
# Others are added by register() from their entry's `csrf_exempt` reason.
CSRF_EXEMPT_URL_NAMES: set[str] = {
    "members:unsubscribe",
    "websub:callback",
}
# Namespaces whose views carry their own, stricter checks.
NAMESPACES: dict[str, Access] = {
    "admin": Access(roles=ADMINS, text="Site administration", enforced_by_view=True),
}


def register(entries: dict[str, Access]) -> None:
    """Apps add their entries from their urls module; a name may appear once."""
    for name, access in entries.items():
        if name in PERMISSIONS:
            raise ValueError(f"permission map: {name!r} is declared twice")
        PERMISSIONS[name] = access
        if access.csrf_exempt:
            CSRF_EXEMPT_URL_NAMES.add(name)


def access_for(view_name: str) -> Access | None:
    if view_name in PERMISSIONS:
        return PERMISSIONS[view_name]
    namespace = view_name.split(":", 1)[0] if ":" in view_name else None
    return NAMESPACES.get(namespace) if namespace else None


class PermissionMapMiddleware:
    """Enforce the role part of the permission map on every resolved view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        access = access_for(match.view_name)
        if access is None:
            # Deny by default: a page nobody declared is a page nobody reviewed.
            if settings.DEBUG:
                raise PermissionDenied(f"{match.view_name} has no permission-map entry")
            raise PermissionDenied
        if access.enforced_by_view:
            return None
        roles = user_roles(request.user)
        if access.allows(roles):
            return None
        if ANONYMOUS in roles:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied
