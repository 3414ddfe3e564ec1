"""The feeds app's part of a member's data export and account deletion
(registered with core.lifecycle from FeedsConfig.ready).

Offboarding needs nothing here: Subscription querysets already leave out
members whose user is inactive, so a leaver's subscriptions stop counting."""

from __future__ import annotations

from typing import Any

from core.lifecycle import DataPart, register_data, register_exempt


def _export(*, member, **kwargs) -> dict[str, Any]:
    from .models import Subscription

    return {
        "subscriptions": [
            {
                "kind": s.kind,
                "feed_url": s.feed.url,
                "title": s.feed.display_title,
                "platform": s.feed.platform,
                "shared_with_colleagues": s.is_shared,
                "topics": list(s.topics or []),
                "profile_url": s.profile_url,
                "handle": s.handle,
                "added_at": s.added_at.isoformat(),
            }
            for s in Subscription.objects.filter(member=member).select_related("feed").order_by("added_at", "pk")
        ]
    }


def _delete(*, member, **kwargs) -> None:
    """Subscriptions go; feeds other members use stay (see feeds.services)."""
    from .services import subscriptions_remove_all

    subscriptions_remove_all(member=member)


def _export_reports(*, member, **kwargs) -> dict[str, Any]:
    from .models import Report

    reports = Report.objects.filter(reporter=member).select_related("entry", "feed").order_by("created_at", "pk")
    return {
        "reports_made": [
            {
                "about": r.entry.title if r.entry_id else r.feed.display_title,
                "reason": r.reason,
                "note": r.note,
                "created_at": r.created_at.isoformat(),
                "resolution": r.resolution,
            }
            for r in reports
        ]
    }


def _delete_reports(*, member, **kwargs) -> None:
    """A member's reports (their own words) go; reports they resolved as a
    facilitator stay, with the link to them cleared (SET_NULL)."""
    from .models import Report

    Report.objects.filter(reporter=member).delete()


def register() -> None:
    register_data(DataPart(name="feeds", models=("feeds.Subscription",), export=_export, delete=_delete))
    register_data(DataPart(name="moderation", models=("feeds.Report",), export=_export_reports, delete=_delete_reports))
    register_exempt(
        {
            "feeds.Feed": "Feed.hidden_by records which facilitator hid a source (SET_NULL on deletion; the audit log keeps the action).",
            "feeds.Entry": "Entry.hidden_by records which facilitator hid an entry (SET_NULL on deletion; the audit log keeps the action).",
        }
    )
