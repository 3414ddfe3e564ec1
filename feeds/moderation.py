"""Moderation: members report, facilitators hide and restore.

- Any member reports an entry or a whole source (a feed) the organization can
  see, with a reason (off-topic, spam, inappropriate) and a note. Reporting
  the same thing again while the report is open updates it (no duplicates).
- Facilitators (and admins) see open reports, hide an entry or a whole feed
  with a reason (kept, with who hid it and when), dismiss a report, and
  restore what was hidden. Hiding resolves the open reports on that content.
- Hidden content disappears from every organization view, search and feed:
  ``Entry.objects.shared()`` and ``Subscription.objects.shared()`` leave it
  out. Members keep seeing their own subscriptions in My PLN.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import CONTENT_HIDDEN, CONTENT_RESTORED, audit_record
from members.models import Member

from .models import Entry, Feed, Report

NOTE_MAX = 1000
HIDE_REASON_MAX = 500


class ModerationRefused(ValueError):
    """An action that cannot be done; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def can_moderate(member: Member | None) -> bool:
    return bool(member) and (member.user.is_staff or member.user.is_facilitator)


def _require_moderator(member: Member) -> None:
    if not can_moderate(member):
        raise ModerationRefused(_("Only facilitators hide and restore content."))


def _clean(text: str, limit: int) -> str:
    return (text or "").strip()[:limit]


def report_create(
    *, member: Member, reason: str, note: str = "", entry: Entry | None = None, feed: Feed | None = None
) -> Report:
    """Report ``entry`` or ``feed`` (exactly one). A second report by the same
    member on the same thing while it is open updates the first."""
    if (entry is None) == (feed is None):
        raise ValueError("report_create needs exactly one of entry and feed")
    if reason not in Report.Reason.values:
        raise ModerationRefused(_("Choose a reason."))
    note = _clean(note, NOTE_MAX)
    with transaction.atomic():
        open_report = (
            Report.objects.select_for_update()
            .filter(reporter=member, entry=entry, feed=feed, resolved_at__isnull=True)
            .first()
        )
        if open_report is not None:
            open_report.reason, open_report.note = reason, note
            open_report.save(update_fields=["reason", "note"])
            return open_report
        return Report.objects.create(reporter=member, entry=entry, feed=feed, reason=reason, note=note)


def reports_open() -> QuerySet[Report]:
    """Open reports, newest first, with what they point at."""
    return (
        Report.objects.filter(resolved_at__isnull=True)
        .select_related("entry__feed", "feed", "reporter__user")
        .order_by("-created_at", "-id")
    )


def _resolve(reports: QuerySet[Report], *, member: Member, resolution: str) -> int:
    return reports.filter(resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=member, resolution=resolution
    )


def entry_hide(*, member: Member, entry: Entry, reason: str) -> Entry:
    """Hide one entry from the organization, keeping the reason and who."""
    _require_moderator(member)
    reason = _clean(reason, HIDE_REASON_MAX)
    if not reason:
        raise ModerationRefused(_("Say why it is hidden: the reason is kept for other facilitators."))
    with transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(hidden_at=timezone.now(), hidden_reason=reason, hidden_by=member)
        _resolve(Report.objects.filter(entry=entry), member=member, resolution=Report.Resolution.HIDDEN)
        audit_record(action=CONTENT_HIDDEN, actor=member.user, obj=entry, after={"reason": reason})
    entry.refresh_from_db(fields=["hidden_at", "hidden_reason", "hidden_by"])
    return entry


def entry_restore(*, member: Member, entry: Entry) -> Entry:
    _require_moderator(member)
    with transaction.atomic():
        before = Entry.objects.filter(pk=entry.pk).values_list("hidden_reason", flat=True).first()
        Entry.objects.filter(pk=entry.pk).update(hidden_at=None, hidden_reason="", hidden_by=None)
        audit_record(action=CONTENT_RESTORED, actor=member.user, obj=entry, before={"reason": before})
    entry.refresh_from_db(fields=["hidden_at", "hidden_reason", "hidden_by"])
    return entry


def feed_hide(*, member: Member, feed: Feed, reason: str) -> Feed:
    """Hide a whole source (every entry, past and future) from the organization."""
    _require_moderator(member)
    reason = _clean(reason, HIDE_REASON_MAX)
    if not reason:
        raise ModerationRefused(_("Say why it is hidden: the reason is kept for other facilitators."))
    with transaction.atomic():
        Feed.objects.filter(pk=feed.pk).update(hidden_at=timezone.now(), hidden_reason=reason, hidden_by=member)
        _resolve(Report.objects.filter(feed=feed), member=member, resolution=Report.Resolution.HIDDEN)
        _resolve(Report.objects.filter(entry__feed=feed), member=member, resolution=Report.Resolution.HIDDEN)
        audit_record(action=CONTENT_HIDDEN, actor=member.user, obj=feed, after={"reason": reason})
    feed.refresh_from_db(fields=["hidden_at", "hidden_reason", "hidden_by"])
    return feed


def feed_restore(*, member: Member, feed: Feed) -> Feed:
    _require_moderator(member)
    with transaction.atomic():
        before = Feed.objects.filter(pk=feed.pk).values_list("hidden_reason", flat=True).first()
        Feed.objects.filter(pk=feed.pk).update(hidden_at=None, hidden_reason="", hidden_by=None)
        audit_record(action=CONTENT_RESTORED, actor=member.user, obj=feed, before={"reason": before})
    feed.refresh_from_db(fields=["hidden_at", "hidden_reason", "hidden_by"])
    return feed


def report_dismiss(*, member: Member, report: Report) -> bool:
    """Close a report without hiding anything."""
    _require_moderator(member)
    return bool(_resolve(Report.objects.filter(pk=report.pk), member=member, resolution=Report.Resolution.DISMISSED))


def hidden_entries() -> QuerySet[Entry]:
    return (
        Entry.objects.filter(hidden_at__isnull=False)
        .select_related("feed", "hidden_by__user")
        .defer("content", "search_vector")
        .order_by("-hidden_at", "-id")
    )


def hidden_feeds() -> QuerySet[Feed]:
    return Feed.objects.filter(hidden_at__isnull=False).select_related("hidden_by__user").order_by("-hidden_at", "-id")
