from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from feeds.curation import home_context
from feeds.models import Subscription

from .dates import InputRefused
from .health import health_report
from .redirects import redirect_next, safe_next


def landing(request):
    """Public page: what a PLN is and what plnorg offers."""
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "plnorg/landing.html")


def admin_login(request):
    """The admin's login form is replaced by the site's sign-in (with MFA)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    if request.user.is_authenticated:
        return redirect_next(request, fallback="admin:index") if request.user.is_staff else redirect("home")
    target = safe_next(request) or reverse("admin:index")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")


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


def transparency(request):
    from .transparency import transparency_report

    return render(request, "plnorg/transparency.html", transparency_report(member=request.member))


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def error_400(request, exception=None):
    """A request the person can correct (a date out of range, say) shows what
    to change; other bad requests (Django's own) get the general text."""
    message = exception.message if isinstance(exception, InputRefused) else ""
    return render(request, "400.html", {"message": message}, status=400)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
