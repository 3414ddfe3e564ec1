"""Curation: picks, saves, recommendations, starter packs and feed tokens.

Rules shared by every function here:

- Members act only on entries the organization can see
  (``Entry.objects.shared()``); anything else is "not found" for them.
- A pick is one per entry, made by a facilitator, with a short note. Picks
  show first: at the top of the stream, on the home page, in digests.
- Saves are private to the member. Recommendations are seen only by the
  sender and the recipient; the recipient can dismiss one. Each
  recommendation also emails the recipient once (the optional
  "recommendations" email, which they can switch off).
- Following a starter pack subscribes the member to each of its sources as a
  *private* source (sharing is always the member's own decision); sources
  already followed are left as they are. Dropping a part removes only that
  subscription, through ``feeds.services.subscription_remove``.
- A feed token is the secret in a member's feed-reader URLs; resetting it
  invalidates the old URLs at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.announcements import PICK_MADE, announce
from members.models import Member
from members.notifications import RECOMMENDATIONS, optional_email_enqueue

from .models import Entry, Feed, FeedToken, Pick, Recommendation, SavedEntry, StarterPack, StarterPackItem, Subscription

PICK_NOTE_MAX = 500


class CurationRefused(ValueError):
    """An action that cannot be done; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def visible_entries() -> QuerySet[Entry]:
    return Entry.objects.shared()


def visible_entry(entry_id: int) -> Entry:
    """The entry if the organization can see it, else ``Entry.DoesNotExist``."""
    return visible_entries().select_related("feed").get(pk=entry_id)


# --- Picks --------------------------------------------------------------------


def picks_visible() -> QuerySet[Pick]:
    """Picks of entries the organization can see, newest pick first."""
    return (
        Pick.objects.filter(entry__in=visible_entries())
        .select_related("entry__feed", "picked_by__user")
        .order_by("-created_at", "-id")
    )


PICKS_BY_ID = 2000


def entries_picked(entries: QuerySet[Entry]) -> QuerySet[Entry]:
    """The "Picks only" filter: narrow any entry queryset to picked entries.

    Picks are few, so their entries are fetched by id (like a rare search
    word) rather than found by walking a newest-first index; past
    PICKS_BY_ID picks the semi-join takes over."""
    ids = list(Pick.objects.order_by().values_list("entry_id", flat=True)[:PICKS_BY_ID])
    if len(ids) < PICKS_BY_ID:
        return entries.filter(pk__in=ids)
    return entries.filter(Exists(Pick.objects.filter(entry=OuterRef("pk"))))


def picks_for_stream(*, limit: int = 5) -> list[Pick]:
    """The picks shown above the stream and on the home page (newest first).
    A tiny query first: planning the full one costs a few ms on every stream
    page, and many organizations have no picks yet."""
    if not Pick.objects.exists():
        return []
    return list(picks_visible()[:limit])


def pick_create(*, member: Member, entry: Entry, note: str = "") -> Pick:
    """Pin ``entry`` with a note (a repeated pick updates the note). A new
    pick is announced (core.announcements: chat channels hear of it) in the
    same transaction."""
    if not (member.user.is_facilitator or member.user.is_staff):
        raise CurationRefused(_("Only facilitators pick entries."))
    note = " ".join((note or "").split())[:PICK_NOTE_MAX]
    with transaction.atomic():
        pick, created = Pick.objects.get_or_create(entry=entry, defaults={"picked_by": member, "note": note})
        if created:
            announce(PICK_MADE, object_id=pick.pk)
        elif pick.note != note:
            pick.note = note
            pick.save(update_fields=["note"])
    return pick


def pick_remove(*, member: Member, entry: Entry) -> bool:
    if not (member.user.is_facilitator or member.user.is_staff):
        raise CurationRefused(_("Only facilitators pick entries."))
    deleted, _count = Pick.objects.filter(entry=entry).delete()
    return bool(deleted)


# --- Saves --------------------------------------------------------------------


def entry_save(*, member: Member, entry: Entry) -> SavedEntry:
    """Keep ``entry`` for later. Idempotent."""
    try:
        with transaction.atomic():
            saved, _created = SavedEntry.objects.get_or_create(member=member, entry=entry)
    except IntegrityError:  # a double click racing itself
        saved = SavedEntry.objects.get(member=member, entry=entry)
    return saved


def entry_unsave(*, member: Member, entry: Entry) -> bool:
    deleted, _count = SavedEntry.objects.filter(member=member, entry=entry).delete()
    return bool(deleted)


def saved_for(member: Member) -> QuerySet[SavedEntry]:
    """What ``member`` saved (only entries still visible), newest save first."""
    return (
        SavedEntry.objects.filter(member=member, entry__in=visible_entries())
        .select_related("entry__feed")
        .annotate(picked=Exists(Pick.objects.filter(entry=OuterRef("entry"))))
        .order_by("-saved_at", "-id")
    )


# --- Recommendations ------------------------------------------------------------


def recommendation_recipients(*, member: Member) -> QuerySet[Member]:
    """Colleagues one can recommend to: active members other than oneself."""
    return Member.objects.active().exclude(pk=member.pk).select_related("user", "team").order_by("display_name", "pk")


def recommendation_send(*, sender: Member, recipient: Member, entry: Entry, note: str = "") -> Recommendation:
    """Recommend ``entry`` to ``recipient``. Recommending the same entry to the
    same colleague again updates the note and brings it back if dismissed."""
    if recipient.pk == sender.pk:
        raise CurationRefused(_("Recommend it to a colleague, not to yourself."))
    if not recipient.user.is_active:
        raise CurationRefused(_("This colleague is no longer here."))
    note = " ".join((note or "").split())[:PICK_NOTE_MAX]
    with transaction.atomic():
        recommendation, created = Recommendation.objects.get_or_create(
            sender=sender, recipient=recipient, entry=entry, defaults={"note": note}
        )
        if not created:
            recommendation.note = note
            recommendation.dismissed_at = None
            recommendation.created_at = timezone.now()
            recommendation.save(update_fields=["note", "dismissed_at", "created_at"])
        _recommendation_email(recommendation)
    return recommendation


def _recommendation_email(recommendation: Recommendation) -> None:
    """Tell the recipient by email, if they want recommendation emails.

    One email per recommendation (the outbox key is the recommendation's id):
    recommending the same entry to the same colleague again updates the note
    on their home page but does not email them a second time."""
    recipient, sender, entry = recommendation.recipient, recommendation.sender, recommendation.entry
    title = " ".join((entry.title or entry.link).split())  # a subject line holds no line breaks
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(sender)s recommends: %(title)s") % {"sender": sender.name, "title": title}
        lines = [
            _("Hello %(name)s,") % {"name": recipient.name},
            "",
            _("%(sender)s recommends this post to you:") % {"sender": sender.name},
            "",
            title,
            settings.SITE_URL + reverse("feeds:entry", kwargs={"entry_id": entry.pk}),
        ]
        if recommendation.note:
            lines += ["", _("Their note: %(note)s") % {"note": recommendation.note}]
        lines += ["", _("It is also on your home page until you dismiss it.")]
        optional_email_enqueue(
            member=recipient,
            kind=RECOMMENDATIONS,
            outbox_kind="recommendation",
            subject=subject,
            body_text="\n".join(lines),
            idempotency_key=f"recommendation:{recommendation.pk}",
        )


def recommendation_dismiss(*, member: Member, recommendation_id: int) -> Recommendation:
    """The recipient dismisses a recommendation. ``DoesNotExist`` for anyone else."""
    recommendation = Recommendation.objects.get(pk=recommendation_id, recipient=member)
    if recommendation.dismissed_at is None:
        recommendation.dismissed_at = timezone.now()
        recommendation.save(update_fields=["dismissed_at"])
    return recommendation


def recommendations_for(member: Member) -> QuerySet[Recommendation]:
    """Undismissed recommendations to ``member`` of visible entries, newest first."""
    return (
        Recommendation.objects.filter(recipient=member, dismissed_at__isnull=True, entry__in=visible_entries())
        .select_related("entry__feed", "sender__user")
        .order_by("-created_at", "-id")
    )


# --- Starter packs ------------------------------------------------------------


def starter_pack_feeds() -> QuerySet[Feed]:
    """Feeds a facilitator may put in a pack: those someone shares."""
    shared = Subscription.objects.shared().filter(feed=OuterRef("pk"))
    return Feed.objects.filter(Exists(shared)).order_by("title", "url")


def starter_packs_with_items() -> QuerySet[StarterPack]:
    return StarterPack.objects.annotate(item_count=Count("items")).prefetch_related(
        Prefetch("items", queryset=StarterPackItem.objects.select_related("feed").order_by("position", "id"))
    )


def starter_pack_save(
    *,
    member: Member,
    title: str,
    feeds: Iterable[Feed],
    topic: str = "",
    description: str = "",
    pack: StarterPack | None = None,
) -> StarterPack:
    """Create or update a pack; its items become exactly ``feeds``, in order."""
    if not (member.user.is_facilitator or member.user.is_staff):
        raise CurationRefused(_("Only facilitators make starter packs."))
    feeds = list(dict.fromkeys(feeds))
    if not feeds:
        raise CurationRefused(_("Choose at least one source for the pack."))
    with transaction.atomic():
        if pack is None:
            pack = StarterPack(created_by=member)
        pack.title = title.strip()[:200]
        pack.topic = " ".join(topic.split()).lower()[:40]
        pack.description = description.strip()[:2000]
        pack.save()
        keep = {feed.pk for feed in feeds}
        pack.items.exclude(feed_id__in=keep).delete()
        for position, feed in enumerate(feeds):
            StarterPackItem.objects.update_or_create(pack=pack, feed=feed, defaults={"position": position})
    return pack


@dataclass
class PackFollowResult:
    added: list[Subscription]
    already: int


def starter_pack_follow(*, member: Member, pack: StarterPack) -> PackFollowResult:
    """Follow every source of ``pack`` not followed yet, as private sources
    tagged with the pack's topic."""
    from .services import subscription_store

    added: list[Subscription] = []
    already = 0
    topics = [pack.topic] if pack.topic else []
    for item in pack.items.select_related("feed"):
        result = subscription_store(
            member=member,
            feed_url=item.feed.url,
            kind=Subscription.Kind.SOURCE,
            platform=item.feed.platform,
            is_shared=False,
            topics=topics,
        )
        if result.created:
            added.append(result.subscription)
        else:
            already += 1
    return PackFollowResult(added=added, already=already)


def starter_pack_drop(*, member: Member, pack: StarterPack, feed_id: int) -> bool:
    """Stop following one source of a pack. Returns False if not followed."""
    from .services import subscription_remove

    if not pack.items.filter(feed_id=feed_id).exists():
        raise CurationRefused(_("This source is not in the pack."))
    subscription = Subscription.objects.filter(member=member, feed_id=feed_id).first()
    if subscription is None:
        return False
    subscription_remove(subscription=subscription)
    return True


def starter_pack_delete(*, member: Member, pack: StarterPack) -> None:
    if not (member.user.is_facilitator or member.user.is_staff):
        raise CurationRefused(_("Only facilitators make starter packs."))
    pack.delete()


def followed_feed_ids(member: Member) -> set[int]:
    return set(Subscription.objects.filter(member=member).values_list("feed_id", flat=True))


# --- Feed tokens (Atom out) -----------------------------------------------------


def feed_token_get(*, member: Member) -> FeedToken:
    """The member's feed token, created on first use."""
    token = FeedToken.objects.filter(member=member).first()
    if token is not None:
        return token
    try:
        with transaction.atomic():
            return FeedToken.objects.create(member=member, token=secrets.token_urlsafe(24))
    except IntegrityError:
        return FeedToken.objects.get(member=member)


def feed_token_reset(*, member: Member) -> FeedToken:
    """Replace the token: URLs given out before stop working at once."""
    with transaction.atomic():
        token, _created = FeedToken.objects.select_for_update().get_or_create(
            member=member, defaults={"token": secrets.token_urlsafe(24)}
        )
        if not _created:
            token.token = secrets.token_urlsafe(24)
            token.created_at = timezone.now()
            token.save(update_fields=["token", "created_at"])
    return token


def feed_token_member(token: str) -> Member | None:
    """The active member a token belongs to, or None (unknown token, or a
    deactivated member: their URLs answer 404)."""
    if not token or len(token) > 64:
        return None
    found = (
        FeedToken.objects.filter(token=token, member__user__is_active=True)
        .select_related("member__user", "member__team")
        .first()
    )
    return found.member if found else None


# --- Home page ------------------------------------------------------------------

HOME_PICKS = 3
HOME_RECOMMENDATIONS = 10


def home_context(*, member: Member) -> dict:
    """What the home page shows from curation: picks first, then
    recommendations to the member (templates/feeds/curation/home_extra.html)."""
    # As with picks, a tiny query first: most members have no recommendation
    # waiting, and planning the visible-entries one costs a few ms a page.
    waiting = Recommendation.objects.filter(recipient=member, dismissed_at__isnull=True).exists()
    return {
        "home_picks": picks_for_stream(limit=HOME_PICKS),
        "home_recommendations": list(recommendations_for(member)[:HOME_RECOMMENDATIONS]) if waiting else [],
    }
