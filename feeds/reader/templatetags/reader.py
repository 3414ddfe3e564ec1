"""{% reader_home %}: the home page's unread count (nothing in quiet mode)."""

from django import template
from django.conf import settings

register = template.Library()

# Above this the home page says "more than" instead of counting every entry.
HOME_UNREAD_LIMIT = 1000


@register.inclusion_tag("reader/home_unread.html", takes_context=True)
def reader_home(context) -> dict:
    """How many entries of the whole stream the member has not read, up to
    HOME_UNREAD_LIMIT ("more than 1,000" past it). Quiet mode hides counts,
    so then nothing is counted or shown."""
    from feeds.stream import StreamFilters, filtered_entries

    from ..services.read_state import read_state_get, unread_count

    request = context.get("request")
    member = getattr(request, "member", None)
    if member is None or member.quiet_mode:
        return {"show": False}
    state = read_state_get(member=member)
    count = unread_count(filtered_entries(StreamFilters()), state=state, limit=HOME_UNREAD_LIMIT)
    return {
        "show": True,
        "count": min(count, HOME_UNREAD_LIMIT),
        "more": count > HOME_UNREAD_LIMIT,
        "unread_days": settings.READER_UNREAD_DAYS,
    }
