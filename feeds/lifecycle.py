"""The feeds app's parts of a member's data export and account deletion
(registered with core.lifecycle from FeedsConfig.ready): subscriptions,
reports (moderation) and curation.

Curation: the export holds what the member saved, the recommendations they
sent and received, the picks and starter packs they made, and when their feed
token was made (not the secret itself). Deletion: saves, recommendations
(sent and received) and the feed token go; picks and starter packs are the
organization's curation and stay, with their author cleared.

Offboarding: Subscription querysets already leave out members whose user is
inactive, so a leaver's subscriptions stop counting, and a deactivated
member's feed URLs answer 404 because ``feeds.curation.feed_token_member``
requires an active user. What is left is the stream's cached filter choices
(up to five minutes old), which would still offer the leaver as a member to
filter by: offboarding drops them once its transaction commits (before the
commit, a page could cache the leaver again)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.lifecycle import DataPart, register_data, register_exempt, register_offboarding


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


# --- Curation -------------------------------------------------------------------


def _entry(entry) -> dict[str, str]:
    return {"title": entry.title, "link": entry.link}


def curation_export(*, member, **kwargs) -> dict[str, Any]:
    from .models import FeedToken, Pick, Recommendation, SavedEntry, StarterPack

    token = FeedToken.objects.filter(member=member).first()
    return {
        "saved_entries": [
            {**_entry(s.entry), "saved_at": s.saved_at.isoformat()}
            for s in SavedEntry.objects.filter(member=member).select_related("entry").order_by("saved_at", "pk")
        ],
        "recommendations_sent": [
            {**_entry(r.entry), "to": r.recipient.name, "note": r.note, "created_at": r.created_at.isoformat()}
            for r in Recommendation.objects.filter(sender=member)
            .select_related("entry", "recipient__user")
            .order_by("created_at", "pk")
        ],
        "recommendations_received": [
            {
                **_entry(r.entry),
                "from": r.sender.name,
                "note": r.note,
                "created_at": r.created_at.isoformat(),
                "dismissed_at": r.dismissed_at.isoformat() if r.dismissed_at else None,
            }
            for r in Recommendation.objects.filter(recipient=member)
            .select_related("entry", "sender__user")
            .order_by("created_at", "pk")
        ],
        "picks_made": [
            {**_entry(p.entry), "note": p.note, "created_at": p.created_at.isoformat()}
            for p in Pick.objects.filter(picked_by=member).select_related("entry").order_by("created_at", "pk")
        ],
        "starter_packs_made": list(StarterPack.objects.filter(created_by=member).values_list("title", flat=True)),
        "feed_token_created_at": token.created_at.isoformat() if token else None,
    }


def curation_delete(*, member, **kwargs) -> None:
    from django.db.models import Q

    from .models import FeedToken, Pick, Recommendation, SavedEntry, StarterPack

    SavedEntry.objects.filter(member=member).delete()
    Recommendation.objects.filter(Q(sender=member) | Q(recipient=member)).delete()
    FeedToken.objects.filter(member=member).delete()
    Pick.objects.filter(picked_by=member).update(picked_by=None)
    StarterPack.objects.filter(created_by=member).update(created_by=None)


def _offboard(*, member, **kwargs) -> None:
    from .stream import filter_choices_forget

    transaction.on_commit(filter_choices_forget)


def register() -> None:
    register_offboarding("feeds", _offboard)
    register_data(DataPart(name="feeds", models=("feeds.Subscription",), export=_export, delete=_delete))
    register_data(DataPart(name="moderation", models=("feeds.Report",), export=_export_reports, delete=_delete_reports))
    register_exempt(
        {
            "feeds.Feed": "Feed.hidden_by records which facilitator hid a source (SET_NULL on deletion; the audit log keeps the action).",
            "feeds.Entry": "Entry.hidden_by records which facilitator hid an entry (SET_NULL on deletion; the audit log keeps the action).",
        }
    )
    register_data(
        DataPart(
            name="feeds.curation",
            models=("feeds.Pick", "feeds.SavedEntry", "feeds.Recommendation", "feeds.StarterPack", "feeds.FeedToken"),
            export=curation_export,
            delete=curation_delete,
        )
    )
