"""{% entry_actions entry %}: save / recommend / pick buttons for one entry,
with the signed-in member's state (saved? picked?)."""

from django import template

from feeds.forms.curation import PickForm
from feeds.models import Pick, SavedEntry

register = template.Library()


@register.inclusion_tag("feeds/curation/_entry_actions.html", takes_context=True)
def entry_actions(context, entry, next_url: str = ""):
    request = context.get("request")
    member = getattr(request, "member", None)
    user = getattr(request, "user", None)
    is_saved = bool(member) and SavedEntry.objects.filter(member=member, entry=entry).exists()
    pick = Pick.objects.filter(entry=entry).first()
    can_pick = bool(user and user.is_authenticated and (user.is_staff or user.is_facilitator))
    return {
        "entry": entry,
        "is_saved": is_saved,
        "pick": pick,
        "can_pick": can_pick,
        "pick_form": PickForm(initial={"note": pick.note if pick else ""}, auto_id=f"pick-{entry.pk}-%s"),
        "next": next_url or (request.get_full_path() if request else ""),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def starter_packs_offer() -> dict:
    """The packs offered on onboarding, biggest first."""
    from feeds.curation import starter_packs_with_items

    packs = list(starter_packs_with_items().filter(item_count__gt=0).order_by("-item_count", "title")[:6])
    return {"packs": packs}
