"""The timer in the header: start/stop from any page (a plain form, no JS)."""

from django import template

from ..models import Activity
from ..services import timer_running

register = template.Library()

# A page that shows the timer itself (the timesheet) passes it under this
# name, so the header does not read it a second time.
RUNNING_TIMER = "running_timer"


@register.inclusion_tag("workshops/clock/_timer.html", takes_context=True)
def clock_timer(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    member = getattr(user, "member", None)
    timer = None
    if member is not None:
        timer = context[RUNNING_TIMER] if RUNNING_TIMER in context else timer_running(member)
    return {
        "show": member is not None,
        "timer": timer,
        "next": request.get_full_path(),
        "activities": Activity.choices,
        "csrf_token": context.get("csrf_token"),
    }
