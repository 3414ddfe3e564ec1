"""Feed health actions: "fetch now" and, for a paused feed, "try again"."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.redirects import redirect_next
from feeds.ingest import feed_fetch_request
from feeds.models import Feed


@require_POST
def fetch_now(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Fetch a feed I registered now (at most once a minute per feed)."""
    feed = get_object_or_404(Feed.objects.filter(subscriptions__member__user=request.user).distinct(), pk=feed_id)
    name = feed.display_title
    if feed.is_demo:
        messages.info(request, _("%(name)s is a sample feed; plnorg does not fetch it.") % {"name": name})
    elif feed.status not in (Feed.Status.ACTIVE, Feed.Status.PAUSED):
        messages.info(request, _("%(name)s is no longer fetched.") % {"name": name})
    elif feed_fetch_request(feed=feed):
        messages.success(request, _("%(name)s will be fetched in a moment.") % {"name": name})
    else:
        messages.info(
            request,
            _("%(name)s was fetched less than a minute ago. Please wait a minute before trying again.")
            % {"name": name},
        )
    return redirect_next(request, fallback="feeds:my_pln")
