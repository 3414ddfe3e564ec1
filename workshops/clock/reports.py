"""Aggregate figures on paid PLN time for the leaders' dashboard.

Only time that counts is included: APPROVED entries, or SUBMITTED ones where
the applicable policy needs no approval, of activities the policy counts.
(Under such a policy submitting approves at once, see `week_submit`; entries
still SUBMITTED there were sent before approval was switched off.)
Cost is minutes / 60 x the policy's loaded hourly cost; the allowance budget
is active members x weekly allowance x weeks in the period. No per-person
figure leaves this module, and teams of fewer than `MIN_GROUP` people are
folded into one "Other teams" row, together with people without a team.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from members.models import Member, Team, TeamTree

from .models import ClockPolicy, TimeEntry
from .services import policy_for

MIN_GROUP = 5
OTHER_TEAMS = "Other teams"
CENTS = Decimal("0.01")


class _Policies:
    """Policy per team id (None: no team), resolved once per call."""

    def __init__(self):
        self.by_team = {p.team_id: p for p in ClockPolicy.objects.all()}
        self.teams = {t.pk: t for t in Team.objects.all()}
        self.tree = TeamTree.load()
        self.cache: dict[int | None, ClockPolicy] = {}

    def for_team(self, team_id: int | None) -> ClockPolicy:
        if team_id not in self.cache:
            probe = Member(team_id=team_id) if team_id in self.teams else None
            self.cache[team_id] = policy_for(probe, policies=self.by_team, tree=self.tree)
        return self.cache[team_id]

    def counts(self, team_id, status, activity) -> bool:
        policy = self.for_team(team_id)
        if not policy.counts(activity):
            return False
        if status == TimeEntry.Status.APPROVED:
            return True
        return status == TimeEntry.Status.SUBMITTED and not policy.approval_required


def _grouped(start: dt.date, end: dt.date, *extra, **annotations):
    return (
        TimeEntry.objects.live()
        .filter(date__gte=start, date__lte=end, status__in=(TimeEntry.Status.APPROVED, TimeEntry.Status.SUBMITTED))
        .annotate(**annotations)
        .values("team_id", "status", "activity", *extra)
        .annotate(minutes_sum=Sum("minutes"))
        .order_by()
    )


def _cost(minutes: int, policy: ClockPolicy) -> Decimal:
    return (Decimal(minutes) / 60 * policy.hourly_cost).quantize(CENTS, rounding=ROUND_HALF_UP)


def _weeks(start: dt.date, end: dt.date) -> Decimal:
    return Decimal((end - start).days + 1) / 7


def _active_members_by_team() -> dict[int | None, int]:
    return {
        row["team_id"]: row["n"] for row in Member.objects.active().values("team_id").annotate(n=Count("pk")).order_by()
    }


def hours_by_team_month(*, start: dt.date, end: dt.date) -> list[dict]:
    """Per team and month: minutes, hours, cost and the allowance budget."""
    policies = _Policies()
    people = _active_members_by_team()
    cells: dict[tuple, dict] = {}
    for row in _grouped(start, end, "month", month=TruncMonth("date")):
        team_id = row["team_id"]
        if not policies.counts(team_id, row["status"], row["activity"]):
            continue
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        # People without a team are never a team of their own, however many
        # they are: like the small teams, they make up "Other teams".
        small = team_id is None or people.get(team_id, 0) < MIN_GROUP
        key = (OTHER_TEAMS if small else team_id, month)
        cell = cells.setdefault(key, {"minutes": 0, "cost": Decimal("0.00"), "team_ids": set()})
        cell["minutes"] += row["minutes_sum"]
        cell["cost"] += _cost(row["minutes_sum"], policies.for_team(team_id))
        cell["team_ids"].add(team_id)
    result = []
    for (team_key, month), cell in sorted(cells.items(), key=lambda kv: (kv[0][1], str(kv[0][0]))):
        month_end = min(end, (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1))
        month_start = max(start, month)
        weeks = _weeks(month_start, month_end)
        budget = sum(
            people.get(tid, 0) * policies.for_team(tid).weekly_allowance_minutes * weeks for tid in cell["team_ids"]
        )
        name = str(team_key) if team_key == OTHER_TEAMS else policies.teams[team_key].name
        result.append(
            {
                "team": name,
                "month": month,
                "minutes": cell["minutes"],
                "hours": round(cell["minutes"] / 60, 2),
                "cost": cell["cost"],
                "allowance_minutes": int(budget),
            }
        )
    return result


def hours_by_activity(*, start: dt.date, end: dt.date) -> list[dict]:
    policies = _Policies()
    totals: dict[str, int] = defaultdict(int)
    for row in _grouped(start, end):
        if policies.counts(row["team_id"], row["status"], row["activity"]):
            totals[row["activity"]] += row["minutes_sum"]
    return [
        {"activity": activity, "minutes": minutes, "hours": round(minutes / 60, 2)}
        for activity, minutes in sorted(totals.items())
    ]


def hours_per_week(*, weeks: int, now: dt.datetime | None = None) -> list[dict]:
    """Counted minutes per (Monday-based) week for the last `weeks` weeks, oldest first."""
    today = (now or timezone.now()).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    first = this_monday - dt.timedelta(weeks=weeks - 1)
    policies = _Policies()
    totals = {first + dt.timedelta(weeks=i): 0 for i in range(weeks)}
    for row in _grouped(first, this_monday + dt.timedelta(days=6), "week", week=TruncWeek("date")):
        if policies.counts(row["team_id"], row["status"], row["activity"]):
            week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
            totals[week] = totals.get(week, 0) + row["minutes_sum"]
    return [{"week_start": w, "minutes": m, "hours": round(m / 60, 2)} for w, m in sorted(totals.items())]


def paid_hours_and_cost(*, start: dt.date, end: dt.date) -> dict:
    """The whole organization: counted minutes, their cost, the allowance budget."""
    policies = _Policies()
    minutes, cost = 0, Decimal("0.00")
    for row in _grouped(start, end):
        if policies.counts(row["team_id"], row["status"], row["activity"]):
            minutes += row["minutes_sum"]
            cost += _cost(row["minutes_sum"], policies.for_team(row["team_id"]))
    weeks = _weeks(start, end)
    budget = sum(
        n * policies.for_team(team_id).weekly_allowance_minutes * weeks
        for team_id, n in _active_members_by_team().items()
    )
    return {"minutes": minutes, "hours": round(minutes / 60, 2), "cost": cost, "allowance_minutes": int(budget)}
