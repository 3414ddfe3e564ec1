from django import template

from members.models import OrganizationSettings

register = template.Library()


@register.simple_tag(takes_context=True)
def introduction_suggestions_enabled(context) -> bool:
    """Whether the organization has introduction suggestions on (read once per request)."""
    request = context.get("request")
    cached = getattr(request, "_introduction_suggestions_enabled", None)
    if cached is None:
        cached = OrganizationSettings.get().introduction_suggestions_enabled
        if request is not None:
            request._introduction_suggestions_enabled = cached
    return cached


@register.simple_tag(takes_context=True)
def network_figures_enabled(context) -> bool:
    """Whether the organization has network figures on (read once per request):
    off, the links to the network page are not shown (the page says it is off)."""
    request = context.get("request")
    cached = getattr(request, "_network_figures_enabled", None)
    if cached is None:
        cached = OrganizationSettings.get().network_figures_enabled
        if request is not None:
            request._network_figures_enabled = cached
    return cached
