"""The site's error pages (the root URLconf's handler400/403/404/500)."""

from django.shortcuts import render

from .dates import InputRefused


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
