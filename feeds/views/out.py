"""Out of the site: the "Feeds out" page and the secret-URL Atom feeds."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..atom import FILTER_NAMES, atom_picks, atom_stream
from ..curation import feed_token_get, feed_token_member, feed_token_reset

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def feeds_out(request: HttpRequest) -> HttpResponse:
    token = feed_token_get(member=request.member).token
    filters = {k: v for k, v in request.GET.items() if k in FILTER_NAMES and v}
    stream_url = request.build_absolute_uri(reverse("feeds:atom_stream", kwargs={"token": token}))
    if filters:
        from urllib.parse import urlencode

        stream_url += "?" + urlencode(sorted(filters.items()))
    context = {
        "stream_url": stream_url,
        "picks_url": request.build_absolute_uri(reverse("feeds:atom_picks", kwargs={"token": token})),
        "opml_url": reverse("feeds:network_opml"),
        "filters": filters,
    }
    return render(request, "feeds/curation/feeds_out.html", context)


@require_POST
def feeds_out_reset(request: HttpRequest) -> HttpResponse:
    from django.utils.translation import gettext as _

    feed_token_reset(member=request.member)
    messages.success(request, _("New feed addresses made. The old ones no longer work: update your feed reader."))
    return redirect("feeds:feeds_out")


def _member_or_404(token: str):
    member = feed_token_member(token)
    if member is None:
        raise Http404
    return member


@never_cache
@require_GET
def atom_stream_view(request: HttpRequest, token: str) -> HttpResponse:
    _member_or_404(token)
    body = atom_stream(params=request.GET, self_url=request.build_absolute_uri())
    return HttpResponse(body, content_type=ATOM_CONTENT_TYPE)


@never_cache
@require_GET
def atom_picks_view(request: HttpRequest, token: str) -> HttpResponse:
    _member_or_404(token)
    body = atom_picks(self_url=request.build_absolute_uri())
    return HttpResponse(body, content_type=ATOM_CONTENT_TYPE)
