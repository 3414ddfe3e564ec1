"""The network view: what the organization's PLN has in common (feeds.network)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..atom import shared_sources_opml
from ..forms.curation import DiscoverFollowForm
from ..models import Feed
from ..network import NETWORK_CACHE_SECONDS, discover_follow, discover_for, network_figures

TOPIC_PREVIEW = 3


def network(request: HttpRequest) -> HttpResponse:
    figures = network_figures()
    context: dict = {"enabled": figures is not None, "figures": figures}
    if figures is not None:
        topic = (request.GET.get("topic") or "").strip().lower()
        topics = figures.topics
        if topic not in figures.people_by_topic:
            topic = ""
        context.update(
            {
                "topic": topic,
                "topics": topics,
                "topic_people": figures.people_by_topic.get(topic, []) if topic else [],
                "topic_previews": [(t, figures.people_by_topic[t][:TOPIC_PREVIEW]) for t in topics],
                # Quiet mode hides nudges: the "follow this" suggestions are not even computed.
                "discoveries": [] if request.member.quiet_mode else discover_for(member=request.member),
                "follow_form": DiscoverFollowForm(),
                "fragment_seconds": NETWORK_CACHE_SECONDS,
            }
        )
    return render(request, "feeds/network.html", context)


@require_POST
def network_follow(request: HttpRequest, feed_id: int) -> HttpResponse:
    form = DiscoverFollowForm(request.POST)
    share = form.is_valid() and form.cleaned_data["share"]
    try:
        result = discover_follow(member=request.member, feed_id=feed_id, share=share)
    except Feed.DoesNotExist:
        raise Http404 from None
    name = result.subscription.feed.display_title
    if share:
        messages.success(request, _("You follow %(name)s and share it with colleagues.") % {"name": name})
    else:
        messages.success(request, _("You follow %(name)s, kept private.") % {"name": name})
    return redirect("feeds:network")


def network_opml(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(shared_sources_opml(), content_type="text/x-opml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plnorg-shared-sources.opml"'
    return response
