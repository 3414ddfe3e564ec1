"""What a delivery says, built when it is sent from the rows it names.

Building at send time, not when the delivery is written, is what keeps
moderation and consent in force: an entry hidden or unshared between the
pick and the send, a pick removed, a workshop cancelled, all make the
delivery *withheld* (nothing is sent). Only what the organization may see
goes in:

- a pick: an entry of ``Entry.objects.shared()`` (feeds.curation), its
  title, source, the pick's note and who picked it (as on the picks page);
- the weekly digest: those picks of the week and the rising topics of the
  network page (aggregates of shared sources; none when an admin switched
  network figures off);
- workshops: published ones only, their dates, place and free seats, never
  who registered;
- introductions: counts of the month only when at least MIN_GROUP people
  were introduced, and each figure under MIN_GROUP is said as "fewer than 5".

A ``Message`` (plnorg/chat/payloads.py) is platform-neutral; payloads.py
renders it for each kind. Every link is absolute (``SITE_URL``) and leads back to plnorg.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from feeds.curation import picks_visible
from feeds.fetch import FetchError, check_url
from feeds.network import network_figures
from plnorg.introductions.models import Introduction
from workshops.models import Workshop
from workshops.services.registration import seats_taken

from ..models import Delivery
from ..payloads import Item, Message

MIN_GROUP = 5  # counts about people: groups of 5 or more only
TITLE_MAX = 250
NOTE_MAX = 500
DIGEST_PICKS_MAX = 10
DIGEST_TOPICS_MAX = 5


@dataclass(frozen=True)
class Withheld:
    """Why a delivery is not sent (for the channel's page)."""

    reason: str


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def one_line(text: str, limit: int) -> str:
    """Whitespace folded to single spaces, cut at ``limit`` with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _web_link(url: str) -> str:
    """``url`` if it is an http(s) address, else "" (feeds carry odd links)."""
    try:
        return check_url(url) if url else ""
    except FetchError:
        return ""


def _when(workshop: Workshop) -> str:
    first = workshop.first_session
    local = timezone.localtime(first.starts_at, first.tzinfo)
    when = f"{formats.date_format(local, 'D j M Y, H:i')} ({first.time_zone})"
    more = len(workshop.session_list) - 1
    if more:
        when += " " + ngettext("and %(n)d more session", "and %(n)d more sessions", more) % {"n": more}
    return when


def _where(workshop: Workshop) -> str:
    first = workshop.first_session
    if first.is_online:
        return _("Online (the link is on the workshop's page for registered people)")
    return first.room or _("In person")


def _pick_message(delivery: Delivery) -> Message | Withheld:
    pick = picks_visible().filter(pk=delivery.object_id).first()
    if pick is None:
        return Withheld(_("The pick was removed, or its entry is no longer shared."))
    entry = pick.entry
    title = one_line(entry.title or entry.link or _("Untitled"), TITLE_MAX)
    facts = [(_("Source"), one_line(entry.feed.display_title, TITLE_MAX))]
    if pick.picked_by is not None:
        facts.append((_("Picked by"), pick.picked_by.name))
    return Message(
        event=delivery.event,
        title=_("New pick: %(title)s") % {"title": title},
        url=absolute(reverse("feeds:entry", kwargs={"entry_id": entry.pk})),
        text=one_line(pick.note, NOTE_MAX),
        facts=facts,
        original_url=_web_link(entry.link),
    )


def digest_period(*, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last full week, Monday 00:00 to Monday 00:00 in the site's time zone."""
    local = timezone.localtime(now or timezone.now())
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday - timedelta(days=7), monday


def _digest_message(delivery: Delivery) -> Message | Withheld:
    start = datetime.fromisoformat(delivery.params["start"])
    end = datetime.fromisoformat(delivery.params["end"])
    picks = list(picks_visible().filter(created_at__gte=start, created_at__lt=end)[:DIGEST_PICKS_MAX])
    figures = network_figures()
    rising = figures.rising[:DIGEST_TOPICS_MAX] if figures is not None else []
    if not picks and not rising:
        return Withheld(_("Nothing to tell this week: no picks and no rising topics."))
    items = [
        Item(
            title=one_line(pick.entry.title or pick.entry.link or _("Untitled"), TITLE_MAX),
            url=absolute(reverse("feeds:entry", kwargs={"entry_id": pick.entry_id})),
            text=one_line(pick.note, NOTE_MAX),
        )
        for pick in picks
    ]
    facts = []
    if rising:
        topics = ", ".join(
            ngettext("%(topic)s (%(n)d post)", "%(topic)s (%(n)d posts)", topic.this_week)
            % {"topic": topic.topic, "n": topic.this_week}
            for topic in rising
        )
        facts.append((_("Rising topics"), topics))
    week = formats.date_format(timezone.localtime(start), "j M")
    text = ngettext(
        "%(n)d pick of the week starting %(week)s.", "%(n)d picks of the week starting %(week)s.", len(picks)
    ) % {"n": len(picks), "week": week}
    return Message(
        event=delivery.event,
        title=_("This week at %(organization)s") % {"organization": settings.ORGANIZATION_NAME},
        url=absolute(reverse("feeds:picks")),
        text=text,
        facts=facts,
        items=items,
    )


def _published_workshop(delivery: Delivery) -> Workshop | None:
    workshop = Workshop.objects.prefetch_related("sessions").filter(pk=delivery.object_id).first()
    if workshop is None or workshop.status != Workshop.Status.PUBLISHED or not workshop.session_list:
        return None
    if workshop.has_started():
        return None
    return workshop


def _workshop_message(delivery: Delivery) -> Message | Withheld:
    workshop = _published_workshop(delivery)
    if workshop is None:
        return Withheld(_("The workshop is no longer open (cancelled, started or back to draft)."))
    free = max(workshop.capacity - seats_taken(workshop=workshop), 0)
    seats = _("%(free)d of %(capacity)d seats free") % {"free": free, "capacity": workshop.capacity}
    url = absolute(reverse("workshops:detail", kwargs={"pk": workshop.pk}))
    title = one_line(workshop.title, TITLE_MAX)
    if delivery.event == Delivery.Event.WORKSHOP_LAST_SEATS:
        if free == 0:
            return Withheld(_("The last seats are already taken."))
        return Message(
            event=delivery.event,
            title=_("Last seats: %(title)s") % {"title": title},
            url=url,
            text=ngettext("Only %(n)d seat left.", "Only %(n)d seats left.", free) % {"n": free},
            facts=[(_("When"), _when(workshop)), (_("Seats"), seats)],
        )
    facts = [(_("When"), _when(workshop)), (_("Where"), _where(workshop)), (_("Seats"), seats)]
    if workshop.audience:
        facts.append((_("For"), one_line(workshop.audience, TITLE_MAX)))
    if workshop.registration_deadline:
        facts.append(
            (_("Register by"), formats.date_format(timezone.localtime(workshop.registration_deadline), "D j M Y, H:i"))
        )
    return Message(
        event=delivery.event,
        title=_("New workshop: %(title)s") % {"title": title},
        url=url,
        text=_("Registration is open."),
        facts=facts,
    )


def month_period(*, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last full calendar month in the site's time zone."""
    local = timezone.localtime(now or timezone.now())
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end


def introduction_figures(*, start: datetime, end: datetime) -> dict[str, int]:
    """The month's introductions: sent, accepted by both, met, and how many
    different people they introduced."""
    introductions = Introduction.objects.filter(created_at__gte=start, created_at__lt=end)
    pairs = list(introductions.values_list("member_a_id", "member_b_id", "accepted_at", "met_at"))
    people = {member for a, b, _accepted, _met in pairs for member in (a, b)}
    return {
        "sent": len(pairs),
        "accepted": sum(1 for *_pair, accepted, _met in pairs if accepted is not None),
        "met": sum(1 for *_pair, _accepted, met in pairs if met is not None),
        "people": len(people),
    }


def _count(n: int) -> str:
    return str(n) if n >= MIN_GROUP else _("fewer than %(n)d") % {"n": MIN_GROUP}


def _introductions_message(delivery: Delivery) -> Message | Withheld:
    start = datetime.fromisoformat(delivery.params["start"])
    end = datetime.fromisoformat(delivery.params["end"])
    figures = introduction_figures(start=start, end=end)
    if figures["people"] < MIN_GROUP:
        return Withheld(
            _("Fewer than %(n)d people were introduced that month: plnorg shares counts of %(n)d or more only.")
            % {"n": MIN_GROUP}
        )
    month = formats.date_format(timezone.localtime(start), "F Y")
    return Message(
        event=delivery.event,
        title=_("Introductions in %(month)s") % {"month": month},
        url=absolute(reverse("people_you_might_meet")),
        text=_("Colleagues introduced %(people)s people to each other.") % {"people": _count(figures["people"])},
        facts=[
            (_("Introductions"), _count(figures["sent"])),
            (_("Accepted by both"), _count(figures["accepted"])),
            (_("Met"), _count(figures["met"])),
        ],
    )


def _test_message(delivery: Delivery) -> Message:
    channel = delivery.channel
    receives = channel.receives
    if receives:
        text = _("This channel is set up. plnorg will post here: %(what)s.") % {"what": "; ".join(receives)}
    else:
        text = _("This channel is set up, but it receives nothing yet: choose what it receives on its page.")
    return Message(
        event=delivery.event,
        title=_("Test message from %(site)s") % {"site": settings.SITE_NAME},
        url=absolute(reverse("chat:channel_detail", kwargs={"pk": channel.pk})),
        text=text,
    )


_BUILDERS = {
    Delivery.Event.PICK: _pick_message,
    Delivery.Event.DIGEST: _digest_message,
    Delivery.Event.WORKSHOP_NEW: _workshop_message,
    Delivery.Event.WORKSHOP_LAST_SEATS: _workshop_message,
    Delivery.Event.INTRODUCTIONS: _introductions_message,
    Delivery.Event.TEST: _test_message,
}


def message_build(*, delivery: Delivery) -> Message | Withheld:
    """The message of ``delivery`` as of now, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        return _BUILDERS[delivery.event](delivery)
