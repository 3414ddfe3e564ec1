"""The organization's analytics switches, for templates: pages hide what a
switched-off analysis would show (read once per request; the menus ask on
every page)."""

from django import template

from members.models import OrganizationSettings

register = template.Library()


def _org_switch(context, name: str) -> bool:
    """One organization switch, read once per request (menus ask on every page)."""
    request = context.get("request")
    switches = getattr(request, "_org_switches", None)
    if switches is None:
        switches = OrganizationSettings.get()
        if request is not None:
            request._org_switches = switches
    return getattr(switches, name)


@register.simple_tag(takes_context=True)
def introduction_suggestions_enabled(context) -> bool:
    """Whether the organization has introduction suggestions on."""
    return _org_switch(context, "introduction_suggestions_enabled")


@register.simple_tag(takes_context=True)
def network_figures_enabled(context) -> bool:
    """Whether the organization has network figures on: off, the links to the
    network page are not shown (the page says it is off)."""
    return _org_switch(context, "network_figures_enabled")
