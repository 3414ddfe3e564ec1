"""Where to send someone after an action: the `next` address the page gave
its form or link, when it stays on this site.

Every view that takes a return address from the request reads it here, so
one rule holds for all of them (Django's `url_has_allowed_host_and_scheme`):
a path on this site, or an absolute address on this very host (https when the
request came over https); never another site, however it is spelled
(`//evil.example`, `https://evil.example`, `/\\evil.example`). An address that
fails the rule is dropped, and the view's own fallback is used instead.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest) -> str:
    """The request's `next` (the form's field, else the query string's) if it
    is safe to redirect to, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def redirect_next(request: HttpRequest, *, fallback: str) -> HttpResponseRedirect:
    """Back to the request's safe `next`, else to `fallback` (a path or a URL name)."""
    target = safe_next(request)
    return HttpResponseRedirect(target) if target else redirect(fallback)
