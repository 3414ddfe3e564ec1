"""The public landing page and a signed-in member's home page."""

from django.shortcuts import redirect, render

from feeds.curation import home_context
from feeds.models import Subscription


def landing(request):
    """Public page: what a PLN is and what plnorg offers."""
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "plnorg/landing.html")


def home(request):
    """A signed-in member's PLN at a glance."""
    member = request.member
    subscriptions = list(
        Subscription.objects.filter(member=member).select_related("feed").order_by("kind", "-added_at")[:50]
    )
    context = {
        "accounts": [s for s in subscriptions if s.kind == Subscription.Kind.ACCOUNT],
        "sources": [s for s in subscriptions if s.kind == Subscription.Kind.SOURCE],
    }
    context.update(home_context(member=member))
    return render(request, "plnorg/home.html", context)
