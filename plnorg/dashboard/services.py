"""The leaders' dashboard: figures computed into snapshots by a periodic task.

Privacy rules live here, in one place:
- breakdowns by team appear only for teams of at least MIN_GROUP active
  members; smaller teams merge into "Other teams" (itself hidden if still
  smaller than MIN_GROUP);
- no figure names an individual or shows one person's hours;
- figures about sources count only shared subscriptions, except plain counts
  (how many people take part at all).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import combinations
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from feeds.models import Entry, Feed, Subscription
from members.models import Invitation, Member, OrganizationSettings, Team

from .models import DashboardSnapshot

MIN_GROUP = 5
PERIODS = {"4w": 28, "quarter": 91, "year": 365}
PERIOD_LABELS = {"4w": "last 4 weeks", "quarter": "last quarter (13 weeks)", "year": "last 12 months"}
WEEKS = 26
# Above this many members, the silo index samples pairs (fixed seed) instead of
# comparing all of them.
SILO_MAX_PAIRS = 200_000

logger = logging.getLogger(__name__)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _trend(current: float | None, previous: float | None) -> dict:
    change = None
    if current is not None and previous is not None:
        change = round(current - previous, 4)
    return {"current": current, "previous": previous, "change": change}


# --- Participation and sharing ---------------------------------------------------


def participation(*, at: datetime) -> dict:
    """Members with at least one account or source ÷ active members (a plain
    count: unshared subscriptions count, nothing about them is shown)."""
    active = Member.objects.active().filter(created_at__lt=at)
    total = active.count()
    with_pln = (
        Subscription.objects.active().filter(added_at__lt=at, member__in=active).values("member").distinct().count()
    )
    return {"members": total, "participating": with_pln, "rate": _ratio(with_pln, total)}


def active_sharers(*, start: datetime, end: datetime) -> int:
    published = Entry.objects.filter(feed=OuterRef("feed"), published_at__gte=start, published_at__lt=end)
    return Subscription.objects.shared().accounts().filter(Exists(published)).values("member").distinct().count()


def entries_in(*, start: datetime, end: datetime) -> int:
    return Entry.objects.shared().filter(published_at__gte=start, published_at__lt=end).count()


def weekly_series(*, now: datetime, weeks: int = WEEKS) -> dict:
    """Participation rate and shared entries per week, oldest first."""
    week_starts = [
        (now - timedelta(days=now.weekday(), weeks=i)).replace(hour=0, minute=0, second=0, microsecond=0)
        for i in range(weeks - 1, -1, -1)
    ]
    firsts = list(
        Subscription.objects.active().values("member").annotate(first=Min("added_at")).values_list("first", flat=True)
    )
    joined = list(Member.objects.active().values_list("created_at", flat=True))
    entry_counts = {
        row["week"].date(): row["n"]
        for row in Entry.objects.shared()
        .filter(published_at__gte=week_starts[0])
        .annotate(week=TruncWeek("published_at"))
        .values("week")
        .annotate(n=Count("id"))
    }
    rows = []
    for start in week_starts:
        end = start + timedelta(days=7)
        members = sum(1 for j in joined if j < end)
        taking_part = sum(1 for f in firsts if f < end)
        rows.append(
            {
                "week": start.date().isoformat(),
                "participation_rate": _ratio(taking_part, members),
                "entries": entry_counts.get(start.date(), 0),
            }
        )
    return {"weeks": rows}


def sources_by_platform() -> list[dict]:
    rows = (
        Feed.objects.filter(Exists(Subscription.objects.shared().filter(feed=OuterRef("pk"))))
        .values("platform")
        .annotate(n=Count("id"))
        .order_by("-n", "platform")
    )
    return [{"platform": r["platform"], "feeds": r["n"]} for r in rows]


# --- Teams side by side (groups of 5+) ----------------------------------------------


def team_groups() -> list[tuple[str, list[int]]]:
    """(label, member ids) per team of MIN_GROUP+ active members, plus
    "Other teams" for the rest if that group is itself large enough."""
    by_team: dict[int | None, list[int]] = defaultdict(list)
    for member_id, team_id in Member.objects.active().values_list("id", "team_id"):
        by_team[team_id].append(member_id)
    names = dict(Team.objects.values_list("id", "name"))
    groups, other = [], []
    for team_id, ids in sorted(by_team.items(), key=lambda item: names.get(item[0], "~")):
        if team_id is not None and len(ids) >= MIN_GROUP:
            groups.append((names[team_id], ids))
        else:
            other.extend(ids)
    if len(other) >= MIN_GROUP:
        groups.append((_("Other teams"), other))
    return groups


def teams_side_by_side(*, start: datetime, end: datetime) -> list[dict]:
    taking_part = set(Subscription.objects.active().values_list("member", flat=True).distinct())
    published = Entry.objects.filter(feed=OuterRef("feed"), published_at__gte=start, published_at__lt=end)
    sharers = set(
        Subscription.objects.shared().accounts().filter(Exists(published)).values_list("member", flat=True).distinct()
    )
    rows = []
    for label, ids in team_groups():
        rows.append(
            {
                "team": label,
                "members": len(ids),
                "participation_rate": _ratio(sum(1 for i in ids if i in taking_part), len(ids)),
                "active_sharers": sum(1 for i in ids if i in sharers),
            }
        )
    return rows


# --- Network health (shared subscriptions only) ----------------------------------------


def _domain(feed_url: str, site_url: str) -> str:
    host = urlsplit(site_url or feed_url).hostname or ""
    return host.removeprefix("www.")


def network_health(*, start: datetime, now: datetime) -> dict:
    shared = Subscription.objects.shared()
    portfolio_now = shared.values("feed").distinct().count()
    portfolio_then = shared.filter(added_at__lt=start).values("feed").distinct().count()
    source_rows = list(shared.sources().values_list("member_id", "feed_id", "feed__url", "feed__site_url"))
    followers = Counter(feed_id for _, feed_id, _, _ in source_rows)
    unique_reach = _ratio(sum(1 for n in followers.values() if n == 1), len(followers))
    domains = Counter(_domain(url, site) for _, _, url, site in source_rows)
    total = sum(domains.values())
    entropy = -sum((n / total) * math.log(n / total) for n in domains.values()) if total else 0.0
    diversity = round(math.exp(entropy), 2) if total else None
    recent = Entry.objects.filter(feed=OuterRef("pk"), published_at__gte=now - timedelta(days=90))
    shared_feeds = Feed.objects.filter(Exists(shared.filter(feed=OuterRef("pk"))))
    feed_count = shared_feeds.count()
    publishing = shared_feeds.filter(Exists(recent)).count()
    failing = shared_feeds.filter(Q(error_count__gt=0) | Q(status=Feed.Status.PAUSED)).count()
    return {
        "portfolio": {"current": portfolio_now, "previous": portfolio_then, "change": portfolio_now - portfolio_then},
        "unique_reach": unique_reach,
        "diversity": diversity,
        "silo_index": silo_index(source_rows=[(m, f) for m, f, _, _ in source_rows]),
        "feed_health": {"publishing_share": _ratio(publishing, feed_count), "failing": failing, "feeds": feed_count},
    }


def silo_index(*, source_rows: list[tuple[int, int]]) -> float | None:
    """Mean Jaccard overlap of members' shared-source sets within teams ÷
    across teams (1 = no silos; above 1 = teams read alike and apart)."""
    sets: dict[int, set[int]] = defaultdict(set)
    for member_id, feed_id in source_rows:
        sets[member_id].add(feed_id)
    team_of = dict(Member.objects.active().filter(id__in=list(sets)).values_list("id", "team_id"))
    members = sorted(m for m in sets if team_of.get(m) is not None)
    pairs = combinations(members, 2)
    n = len(members)
    if n * (n - 1) // 2 > SILO_MAX_PAIRS:
        rng = random.Random(42)
        pairs = (tuple(rng.sample(members, 2)) for _ in range(SILO_MAX_PAIRS))
    within, across = [], []
    for a, b in pairs:
        union = len(sets[a] | sets[b])
        score = len(sets[a] & sets[b]) / union if union else 0.0
        (within if team_of[a] == team_of[b] else across).append(score)
    if not within or not across:
        return None
    mean_across = sum(across) / len(across)
    if mean_across == 0:
        return None
    return round((sum(within) / len(within)) / mean_across, 2)


# --- Setup checklist -----------------------------------------------------------------


def setup_checklist() -> list[dict]:
    from allauth.socialaccount.models import SocialApp
    from django.conf import settings

    org = OrganizationSettings.get()
    teams = Team.objects.annotate(n=Count("members")).filter(n__gt=0)
    items = [
        (_("Teams created"), Team.objects.exists()),
        (_("Every team has a manager"), teams.exists() and not teams.filter(manager__isnull=True).exists()),
        (
            _("Sign-in configured (SSO or sign-up domains)"),
            SocialApp.objects.exists() or bool(settings.SIGNUP_DOMAINS) or bool(org.signup_domain_list),
        ),
        (_("Members invited"), Invitation.objects.exists()),
    ]
    items.extend(_app_checklist_items())
    return [{"label": str(label), "done": bool(done)} for label, done in items]


def _app_checklist_items() -> list[tuple[str, bool]]:
    from workshops.clock.models import ClockPolicy
    from workshops.models import Workshop

    return [
        (_("Time policy set (allowance, cost, approval)"), ClockPolicy.objects.exists()),
        (_("First workshop published"), Workshop.objects.exclude(status=Workshop.Status.DRAFT).exists()),
    ]


# --- Snapshots ------------------------------------------------------------------------


def dashboard_compute(*, period: str, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    days = PERIODS[period]
    start = now - timedelta(days=days)
    prev_start = start - timedelta(days=days)
    org = OrganizationSettings.get()
    current = participation(at=now)
    previous = participation(at=start)
    data = {
        "period": period,
        "start": start.isoformat(),
        "end": now.isoformat(),
        "headline": {
            "participation_rate": _trend(current["rate"], previous["rate"]),
            "members": current["members"],
            "participating": current["participating"],
            "active_sharers": _trend(active_sharers(start=start, end=now), active_sharers(start=prev_start, end=start)),
            "entries": _trend(entries_in(start=start, end=now), entries_in(start=prev_start, end=start)),
        },
        "weekly": weekly_series(now=now),
        "platforms": sources_by_platform(),
        "teams": teams_side_by_side(start=start, end=now),
        "network": network_health(start=start, now=now) if org.network_figures_enabled else None,
    }
    data.update(_app_figures(start=start, end=now, prev_start=prev_start))
    return data


def _app_figures(*, start: datetime, end: datetime, prev_start: datetime) -> dict:
    """Figures from the workshops app (and, below, time on the clock)."""
    current = workshop_figures(start=start, end=end)
    previous = workshop_figures(start=prev_start, end=start)
    extra = [
        {
            "key": "workshop_attendance_rate",
            "label": _("Workshop attendance"),
            "current": current["attendance_rate"],
            "previous": previous["attendance_rate"],
            "change": _trend(current["attendance_rate"], previous["attendance_rate"])["change"],
            "percent": True,
            "note": _("of registered seats in sessions held were attended"),
        },
        {
            "key": "workshop_feedback",
            "label": _("Workshop feedback"),
            "current": current["average_feedback"],
            "previous": previous["average_feedback"],
            "change": _trend(current["average_feedback"], previous["average_feedback"])["change"],
            "percent": False,
            "note": _("average rating out of 5 (shown with 5 or more answers)"),
        },
    ]
    extra[:0] = time_figures(start=start, end=end, prev_start=prev_start)
    return {
        "extra_figures": extra,
        "workshop_effect": workshop_effect(now=end),
        "time": time_breakdowns(start=start, end=end),
    }


def time_figures(*, start: datetime, end: datetime, prev_start: datetime) -> list[dict]:
    """Paid PLN hours and their cost against the allowance budget (approved
    time, or submitted where the policy needs no approval)."""
    from workshops.clock.reports import paid_hours_and_cost

    current = paid_hours_and_cost(start=start.date(), end=end.date())
    previous = paid_hours_and_cost(start=prev_start.date(), end=start.date() - timedelta(days=1))
    budget_share = _ratio(current["minutes"], current["allowance_minutes"])
    return [
        {
            "key": "paid_hours",
            "label": _("Paid PLN hours"),
            "current": current["hours"],
            "previous": previous["hours"],
            "change": _trend(current["hours"], previous["hours"])["change"],
            "percent": False,
            "note": _("%(share)s of the allowance budget of %(budget)s h")
            % {
                "share": "–" if budget_share is None else f"{budget_share * 100:.0f}%",
                "budget": round(current["allowance_minutes"] / 60),
            },
        },
        {
            "key": "paid_cost",
            "label": _("Cost of PLN time"),
            "current": float(current["cost"]),
            "previous": float(previous["cost"]),
            "change": round(float(current["cost"] - previous["cost"]), 2),
            "percent": False,
            "note": _("at the loaded hourly cost set in the clock policy"),
        },
    ]


def time_breakdowns(*, start: datetime, end: datetime) -> dict:
    from workshops.clock.reports import hours_by_activity, hours_by_team_month, hours_per_week

    # Only groups of MIN_GROUP+ active people by name; the reports API merges
    # small teams into "Other teams", which is itself shown only when that
    # merged group is large enough (team_groups decides, as for every breakdown).
    shown = {str(label) for label, _ids in team_groups()}
    by_team: dict[str, float] = defaultdict(float)
    for row in hours_by_team_month(start=start.date(), end=end.date()):
        if str(row["team"]) in shown:
            by_team[str(row["team"])] += row["hours"]
    return {
        "per_week": [
            {"week": row["week_start"].isoformat(), "hours": row["hours"]}
            for row in hours_per_week(weeks=WEEKS, now=end)
        ],
        "by_activity": [
            {"activity": row["activity"], "hours": row["hours"]}
            for row in hours_by_activity(start=start.date(), end=end.date())
        ],
        "by_team": [{"team": team, "hours": round(hours, 2)} for team, hours in sorted(by_team.items())],
    }


def workshop_figures(*, start: datetime, end: datetime) -> dict:
    from django.db.models import Avg

    from workshops.models import Attendance, Feedback

    marks = Attendance.objects.filter(session__starts_at__gte=start, session__starts_at__lt=end)
    counted = marks.exclude(status=Attendance.Status.EXCUSED)
    came = counted.filter(status__in=[Attendance.Status.ATTENDED, Attendance.Status.PARTIAL]).count()
    answers = Feedback.objects.filter(created_at__gte=start, created_at__lt=end)
    n_answers = answers.count()
    average = answers.aggregate(a=Avg("rating"))["a"] if n_answers >= MIN_GROUP else None
    return {
        "attendance_rate": _ratio(came, counted.count()),
        "average_feedback": round(float(average), 2) if average is not None else None,
        "answers": n_answers,
    }


def workshop_effect(*, now: datetime) -> dict | None:
    """Attendees vs members who never attended: who added a shared source or
    account within 30 and 90 days. Attendees are measured from the end of the
    first workshop they attended; the others from the earliest such date.
    Shown only when both groups have at least MIN_GROUP members."""
    from django.db.models import Max

    from workshops.models import Attendance

    attended = (
        Attendance.objects.filter(
            status__in=[Attendance.Status.ATTENDED, Attendance.Status.PARTIAL],
            registration__member__user__is_active=True,
            session__ends_at__lte=now,
        )
        .values("registration__member_id")
        .annotate(first=Min("session__ends_at"), last=Max("session__ends_at"))
    )
    anchors = {row["registration__member_id"]: row["first"] for row in attended}
    others = list(Member.objects.active().exclude(pk__in=list(anchors)).values_list("pk", flat=True))
    if len(anchors) < MIN_GROUP or len(others) < MIN_GROUP:
        return None
    others_anchor = min(anchors.values())
    adds = list(Subscription.objects.shared().values_list("member_id", "added_at"))
    result = {"attendees": len(anchors), "others": len(others), "windows": []}
    other_set = set(others)
    for days in (30, 90):
        window = timedelta(days=days)
        attendee_added = {m for m, at in adds if m in anchors and anchors[m] < at <= anchors[m] + window}
        other_added = {m for m, at in adds if m in other_set and others_anchor < at <= others_anchor + window}
        result["windows"].append(
            {
                "days": days,
                "attendee_share": _ratio(len(attendee_added), len(anchors)),
                "other_share": _ratio(len(other_added), len(others)),
            }
        )
    return result


class DashboardRefreshError(Exception):
    """Figures for one or more periods could not be computed (each failure is
    logged with its traceback; their previous snapshots stay as they were)."""


def dashboard_refresh(*, periods: list[str] | None = None) -> list[DashboardSnapshot]:
    """Compute and store a snapshot per period.

    A period that fails does not hold the others back: it is logged, its last
    good snapshot stays (the page marks it stale once it is older than
    `DashboardSnapshot.STALE_AFTER`) and the refresh raises at the end, so the
    task is recorded as failed."""
    snapshots, failed = [], []
    for period in periods or list(PERIODS):
        started = time.monotonic()
        now = timezone.now()
        try:
            # A savepoint: a failed query leaves the connection usable for the next period.
            with transaction.atomic():
                data = dashboard_compute(period=period, now=now)
        except Exception:
            kept = DashboardSnapshot.objects.filter(period=period).values_list("computed_at", flat=True).first()
            logger.exception(
                "Dashboard figures for period %s could not be computed; leaders keep seeing the snapshot of %s",
                period,
                kept.isoformat() if kept else "(none yet)",
            )
            failed.append(period)
            continue
        snapshot, _ = DashboardSnapshot.objects.update_or_create(
            period=period,
            defaults={"computed_at": now, "data": data, "duration_ms": int((time.monotonic() - started) * 1000)},
        )
        snapshots.append(snapshot)
    if failed:
        raise DashboardRefreshError(f"dashboard figures not computed for: {', '.join(failed)} (see the errors logged)")
    return snapshots


def dashboard_snapshot(*, period: str) -> DashboardSnapshot:
    """The stored snapshot, computed now if none exists yet (first visit)."""
    snapshot = DashboardSnapshot.objects.filter(period=period).first()
    return snapshot or dashboard_refresh(periods=[period])[0]
