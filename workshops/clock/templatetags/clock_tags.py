"""The timer in the header: start/stop from any page (a plain form, no JS)."""

from django import template

from ..models import Activity, ClockTimer

register = template.Library()


@register.inclusion_tag("workshops/clock/_timer.html", takes_context=True)
def clock_timer(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    member = getattr(user, "member", None)
    timer = None
    if member is not None:
        timer = ClockTimer.objects.filter(member_id=member.pk).first()
        if timer is not None:
            from django.utils import timezone

            from ..services import timer_cap_if_overdue, timer_limit_minutes

            if (timezone.now() - timer.started_at).total_seconds() > timer_limit_minutes() * 60:
                timer_cap_if_overdue(member=member)
                timer = None
    return {
        "show": member is not None,
        "timer": timer,
        "next": request.get_full_path(),
        "activities": Activity.choices,
        "csrf_token": context.get("csrf_token"),
    }
