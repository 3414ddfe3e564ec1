"""Digests: each member who chose daily or weekly gets one email per period.

- Periods are whole UTC days (daily: yesterday) or whole ISO weeks (weekly:
  last Monday 00:00 to this Monday 00:00). The beat task runs every morning;
  a weekly member's digest goes out on the first run after their week closed.
- Content, in this order: picks made in the period; recommendations to the
  member made in the period and not dismissed; then the period's entries of
  their team (what teammates share) and of the topics they follow (the topics
  of their own subscriptions and their profile's interests), ranked by
  picks + saves + recommendations, newest first on ties. An entry appears
  once. A digest with nothing in it is not sent.
- Idempotent: the outbox key is ``digest:<member>:<frequency>:<period>``, so a
  retried task, or the task run twice, never sends the same digest twice.
- Only members who want it (``members.notifications.email_wanted``): nothing
  to those who chose "off" or unsubscribed. Every digest carries the signed
  unsubscribe link and the List-Unsubscribe / List-Unsubscribe-Post headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Member, OutboundEmail
from members.notifications import DIGEST, email_wanted, list_unsubscribe_headers, unsubscribe_url
from members.outbox import email_enqueue

from .models import Entry, Pick, Recommendation, Subscription

log = logging.getLogger(__name__)

DIGEST_ENTRIES = 15
DIGEST_KIND = "digest"


@dataclass(frozen=True)
class Period:
    frequency: str
    start: datetime
    end: datetime
    label: str


@dataclass
class Digest:
    member: Member
    period: Period
    picks: list[Pick] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.picks or self.recommendations or self.entries)


def digest_period(*, frequency: str, now: datetime | None = None) -> Period:
    """The last complete period before ``now`` for a frequency."""
    now = (now or timezone.now()).astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == Member.Digest.DAILY:
        start = midnight - timedelta(days=1)
        return Period(frequency, start, midnight, start.date().isoformat())
    if frequency == Member.Digest.WEEKLY:
        end = midnight - timedelta(days=midnight.weekday())
        start = end - timedelta(days=7)
        year, week, _day = start.isocalendar()
        return Period(frequency, start, end, f"{year}-W{week:02d}")
    raise ValueError(f"No digest period for {frequency!r}")


def digest_key(*, member: Member, period: Period) -> str:
    return f"digest:{member.pk}:{period.frequency}:{period.label}"


def _followed_topics(member: Member) -> set[str]:
    topics: set[str] = set()
    for sub_topics in Subscription.objects.filter(member=member).values_list("topics", flat=True):
        topics.update(str(t).lower() for t in sub_topics or [])
    topics.update(t.strip().lower() for t in (member.interests or "").split(",") if t.strip())
    return topics


def _digest_feed_ids(member: Member) -> set[int]:
    """Feeds whose entries concern the member: shared by a teammate, or shared
    by anyone under a topic the member follows."""
    topics = _followed_topics(member)
    feed_ids: set[int] = set()
    rows = Subscription.objects.shared().values_list("feed_id", "member__team_id", "topics")
    for feed_id, team_id, sub_topics in rows:
        if (member.team_id and team_id == member.team_id) or topics.intersection(
            str(t).lower() for t in sub_topics or []
        ):
            feed_ids.add(feed_id)
    return feed_ids


def digest_build(*, member: Member, period: Period) -> Digest:
    visible = Entry.objects.shared()
    picks = list(
        Pick.objects.filter(created_at__gte=period.start, created_at__lt=period.end, entry__in=visible)
        .select_related("entry__feed", "picked_by__user")
        .order_by("-created_at", "-id")
    )
    recommendations = list(
        Recommendation.objects.filter(
            recipient=member,
            dismissed_at__isnull=True,
            created_at__gte=period.start,
            created_at__lt=period.end,
            entry__in=visible,
        )
        .select_related("entry__feed", "sender__user")
        .order_by("-created_at", "-id")
    )
    shown = {p.entry_id for p in picks} | {r.entry_id for r in recommendations}
    feed_ids = _digest_feed_ids(member)
    entries = list(
        visible.filter(feed_id__in=feed_ids, published_at__gte=period.start, published_at__lt=period.end)
        .exclude(pk__in=shown)
        .annotate(
            pick_count=Count("pick", distinct=True),
            save_count=Count("saves", distinct=True),
            recommendation_count=Count("recommendations", distinct=True),
        )
        .select_related("feed")
        .order_by("-published_at", "-id")[:500]
    )
    for entry in entries:
        entry.score = entry.pick_count + entry.save_count + entry.recommendation_count
    entries.sort(key=lambda e: (-e.score, -e.published_at.timestamp(), -e.pk))
    return Digest(member, period, picks, recommendations, entries[:DIGEST_ENTRIES])


def _subject(digest: Digest) -> str:
    parts = []
    if digest.picks:
        parts.append(ngettext("%(n)d pick", "%(n)d picks", len(digest.picks)) % {"n": len(digest.picks)})
    if digest.recommendations:
        n = len(digest.recommendations)
        parts.append(ngettext("%(n)d recommendation", "%(n)d recommendations", n) % {"n": n})
    if digest.entries:
        parts.append(ngettext("%(n)d new entry", "%(n)d new entries", len(digest.entries)) % {"n": len(digest.entries)})
    if digest.period.frequency == Member.Digest.WEEKLY:
        title = _("Your weekly %(site)s digest") % {"site": settings.SITE_NAME}
    else:
        title = _("Your daily %(site)s digest") % {"site": settings.SITE_NAME}
    return f"{title}: {', '.join(parts)}"


def digest_render(*, digest: Digest, unsubscribe: str | None = None) -> tuple[str, str, str]:
    """(subject, text, html) in the member's time zone; `unsubscribe` is the
    signed link to print (made here when not given)."""
    member = digest.member
    context = {
        "digest": digest,
        "member": member,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "home_url": settings.SITE_URL + reverse("home"),
        "saved_url": settings.SITE_URL + reverse("feeds:saved"),
        "unsubscribe_url": unsubscribe or unsubscribe_url(member, DIGEST),
        "preferences_url": settings.SITE_URL + _preferences_path(),
    }
    with timezone.override(member.tzinfo), translation.override(settings.LANGUAGE_CODE):
        subject = _subject(digest)
        text = render_to_string("email/digest.txt", context)
        html = render_to_string("email/digest.html", context)
    return subject, text, html


def _preferences_path() -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse("members:preferences")
    except NoReverseMatch:
        return reverse("home")


def digest_send(*, member_id: int, now: datetime | None = None) -> OutboundEmail | None:
    """Write this member's digest for the last complete period to the outbox.

    Returns the email (new or already written), or None when the member does
    not want a digest or there is nothing to tell them.
    """
    member = Member.objects.select_related("user", "team").filter(pk=member_id).first()
    if member is None or not email_wanted(member, DIGEST):
        return None
    period = digest_period(frequency=member.digest, now=now)
    key = digest_key(member=member, period=period)
    existing = OutboundEmail.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    digest = digest_build(member=member, period=period)
    if digest.is_empty:
        return None
    unsubscribe = unsubscribe_url(member, DIGEST)  # one token for footer and header
    subject, text, html = digest_render(digest=digest, unsubscribe=unsubscribe)
    with transaction.atomic():
        return email_enqueue(
            to=member.user.email,
            kind=DIGEST_KIND,
            subject=subject,
            body_text=text,
            body_html=html,
            idempotency_key=key,
            user=member.user,
            headers=list_unsubscribe_headers(member, DIGEST, url=unsubscribe),
        )


def digests_send_due(*, now: datetime | None = None) -> int:
    """Every member who chose a digest gets the last complete period's one.
    Returns how many emails are in the outbox for this run (sent before or now)."""
    members = (
        Member.objects.active()
        .exclude(digest=Member.Digest.OFF)
        .exclude(email_opt_outs__contains=[DIGEST])
        .values_list("pk", flat=True)
        .order_by("pk")
        if _supports_json_contains()
        else Member.objects.active().exclude(digest=Member.Digest.OFF).values_list("pk", flat=True).order_by("pk")
    )
    sent = 0
    for pk in list(members):
        try:
            sent += digest_send(member_id=pk, now=now) is not None
        except Exception:  # one member's failure must not cost everyone their digest
            log.exception("digest for member %s failed; the next run retries it", pk)
    return sent


def _supports_json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
