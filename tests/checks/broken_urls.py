"""A URLconf for the tests of the checks: the whole site plus deliberately broken pages.

Used with `settings.ROOT_URLCONF = "tests.checks.broken_urls"` in
test_checks_catch_breakage.py, and by the accessibility server
(tests/checks/live_server.py), which also serves the 500 page from here.
Importing this module registers nothing: the tests add `BROKEN_PAGES` to the
permission map only while they run (the server process registers them for
its own lifetime), so the real map stays exactly the site's.
"""

from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from core import permissions as perm
from feeds.demo import CONSENT_CANARY

PREFIX = "__checks__/"


def _page(request, body: str, status: int = 200) -> HttpResponse:
    """A page built like every other: base.html, landmarks, navigation."""
    template = engines["django"].from_string(
        "{% extends 'base.html' %}{% block title %}Check page{% endblock %}{% block content %}<h1>Check page</h1>"
        + body
        + "{% endblock %}"
    )
    return HttpResponse(template.render({}, request), status=status)


def sound(request):
    return _page(request, "<p>All is well.</p><ul data-list data-empty-state='Nothing yet'><li>One item</li></ul>")


def unmapped(request):
    return _page(request, "<p>Nobody declared who may see this page.</p>")


def server_error(request):
    raise RuntimeError("a deliberate error for the page checks")


def no_empty_state(request):
    return _page(request, "<h2>Your things</h2><ul data-list data-empty-state='No things yet'></ul>")


def canary(request):
    return _page(request, f"<p>Latest from a private source: {CONSENT_CANARY} episode 1</p>")


def unprotected_form(request):
    return _page(
        request,
        f"<form method='post' action='/{PREFIX}unprotected-post/'><label for='x'>Name</label>"
        "<input id='x' name='name' value='a'><button type='submit'>Send</button></form>",
    )


@csrf_exempt
def unprotected_post(request):
    return HttpResponse("accepted without a CSRF token", content_type="text/plain")


@csp_exempt()
def no_headers(request):
    response = _page(request, "<p>This page may be framed by anyone.</p>")
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def inaccessible(request):
    return _page(
        request,
        "<img src='/static/favicon.svg'><form method='get' action=''><input type='text' name='q'>"
        "<button type='submit'>Search</button></form>",
    )


BROKEN_PAGES: dict[str, perm.Access] = {
    "checks_sound": perm.Access(roles=perm.PUBLIC, text="All is well"),
    "checks_500": perm.Access(roles=perm.PUBLIC, text="never shown"),
    "checks_no_empty_state": perm.Access(roles=perm.PUBLIC, text="Your things"),
    "checks_canary": perm.Access(roles=perm.PUBLIC, text="Latest"),
    "checks_unprotected_form": perm.Access(roles=perm.PUBLIC, text="Name"),
    "checks_unprotected_post": perm.Access(roles=perm.PUBLIC, text="accepted", methods=("POST",)),
    "checks_no_headers": perm.Access(roles=perm.PUBLIC, text="framed"),
    "checks_inaccessible": perm.Access(roles=perm.PUBLIC, text="Check page"),
    # "checks_unmapped" has no entry on purpose.
}

urlpatterns = [
    path(f"{PREFIX}sound/", sound, name="checks_sound"),
    path(f"{PREFIX}unmapped/", unmapped, name="checks_unmapped"),
    path(f"{PREFIX}500/", server_error, name="checks_500"),
    path(f"{PREFIX}no-empty-state/", no_empty_state, name="checks_no_empty_state"),
    path(f"{PREFIX}canary/", canary, name="checks_canary"),
    path(f"{PREFIX}unprotected-form/", unprotected_form, name="checks_unprotected_form"),
    path(f"{PREFIX}unprotected-post/", unprotected_post, name="checks_unprotected_post"),
    path(f"{PREFIX}no-headers/", no_headers, name="checks_no_headers"),
    path(f"{PREFIX}inaccessible/", inaccessible, name="checks_inaccessible"),
    path("", include("plnorg.urls")),
]

handler403 = "core.views.error_403"
handler404 = "core.views.error_404"
handler500 = "core.views.error_500"
