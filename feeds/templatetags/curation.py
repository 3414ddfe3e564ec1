"""{% entry_actions entry %}: save / recommend / pick buttons for one entry,
with the signed-in member's state (saved? picked?)."""

from typing import NamedTuple

from django import template
from django.db.models import Value

from core.querymemo import values_rows
from feeds.forms.curation import PickForm
from feeds.models import Pick, SavedEntry

register = template.Library()


@register.inclusion_tag("feeds/curation/_entry_actions.html", takes_context=True)
def entry_actions(context, entry, next_url: str = ""):
    request = context.get("request")
    member = getattr(request, "member", None)
    user = getattr(request, "user", None)
    is_saved, pick = _saved_and_pick(member_id=member.pk if member else 0, entry_id=entry.pk)
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


class _Pick(NamedTuple):
    note: str


def _saved_and_pick(*, member_id: int, entry_id: int) -> tuple[bool, _Pick | None]:
    """Whether the member saved the entry, and its pick's note: one query,
    compiled once (core.querymemo)."""
    saved, pick = False, None
    for kind, note in values_rows("entry-actions", _saved_and_pick_query, member_id=member_id, entry_id=entry_id):
        if kind == "saved":
            saved = True
        else:
            pick = _Pick(note)  # one pick per entry
    return saved, pick


def _saved_and_pick_query(member_id: int, entry_id: int):
    saved = SavedEntry.objects.filter(member_id=member_id, entry_id=entry_id).order_by()
    pick = Pick.objects.filter(entry_id=entry_id).order_by()
    return saved.values_list(Value("saved"), Value("")).union(pick.values_list(Value("pick"), "note"), all=True)


@register.simple_tag
def starter_packs_offer() -> dict:
    """The packs offered on onboarding, biggest first."""
    from feeds.curation import starter_packs_with_items

    packs = list(starter_packs_with_items().filter(item_count__gt=0).order_by("-item_count", "title")[:6])
    return {"packs": packs}
