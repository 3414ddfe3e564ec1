"""The introductions funnel leaders see on the dashboard: per month, pairs
suggested, introductions sent, accepted by both and met, and the share
crossing teams (live figures, cheap enough to read on each page view)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from members.models import OrganizationSettings

from ..models import Introduction, IntroductionSuggestion


def _month_starts(months: int, now: datetime) -> list[date]:
    local = timezone.localtime(now)
    year, month = local.year, local.month
    starts = []
    for _i in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def introduction_funnel(*, months: int = 6, now: datetime | None = None) -> list[dict]:
    """Per month (oldest first, in the current time zone): pairs first
    suggested, introductions sent, and of those sent that month how many both
    accepted and how many met, and the share of sent introductions crossing
    teams (None when nothing was sent)."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    starts = _month_starts(months, now)
    since = timezone.make_aware(datetime(starts[0].year, starts[0].month, 1), tz)
    suggested = {
        row["month"].date(): row["n"]
        for row in IntroductionSuggestion.objects.filter(first_suggested_at__gte=since)
        .annotate(month=TruncMonth("first_suggested_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    sent = {
        row["month"].date(): row
        for row in Introduction.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month")
        .annotate(
            sent=Count("pk"),
            accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
            met=Count("pk", filter=Q(met_at__isnull=False)),
            crossing=Count("pk", filter=Q(crosses_teams=True)),
        )
        .order_by()
    }
    rows = []
    for start in starts:
        s = sent.get(start, {})
        count = s.get("sent", 0)
        rows.append(
            {
                "month": start,
                "suggested": suggested.get(start, 0),
                "sent": count,
                "accepted": s.get("accepted", 0),
                "met": s.get("met", 0),
                "crossing": s.get("crossing", 0),
                "crossing_share": round(s["crossing"] / count, 2) if count else None,
            }
        )
    return rows


def introductions_tile_context(*, months: int = 6) -> dict[str, Any]:
    """What templates/plnorg/includes/introductions_tile.html needs."""
    rows = introduction_funnel(months=months)
    sent = sum(r["sent"] for r in rows)
    crossing = sum(r["crossing"] for r in rows)
    return {
        "introduction_funnel": rows,
        "introduction_totals": {
            "suggested": sum(r["suggested"] for r in rows),
            "sent": sent,
            "accepted": sum(r["accepted"] for r in rows),
            "met": sum(r["met"] for r in rows),
            "crossing_share": round(crossing / sent, 2) if sent else None,
        },
        "introduction_suggestions_enabled": OrganizationSettings.get().introduction_suggestions_enabled,
    }
