"""Demo introductions for `seed_demo`: opted-in members, computed suggestions
and connectors, and introductions in every state. Idempotent; runs after the
feeds (and workshops) seeding and computes from whatever was shared."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from members.models import Member, User

from .models import Introduction
from .services.suggestions import introductions_compute

# About a dozen people across teams (never the newcomer, nor the consent
# canary's owner) who chose to be suggested for introductions.
OPTED_IN = ["employee", "dana", "eli", "tomas", "wen", "dora", "hana", "amir", "lucia", "nils", "xavier", "people"]
# Interests on profiles (only set where empty), so topics overlap across teams.
INTERESTS = {
    "xavier": "education, customers",
    "nils": "education",
    "hana": "accessibility",
    "employee": "accessibility, python",
}

DAY = timedelta(days=1)

# (member, member, sender, note, days ago sent, how it went)
INTRODUCTIONS: list[tuple[str, str, str, str, int, str]] = [
    ("eli", "dora", "ceo", "You both follow UX Field Notes; Eli builds what Dora designs.", 2, "sent"),
    ("dana", "tomas", "ceo", "Data pipelines meet data science: worth a coffee.", 5, "accepted_by_one"),
    ("amir", "lucia", "ceo", "Both of you read about education technology.", 12, "accepted"),
    ("employee", "hana", "manager", "Ana cares about accessibility as much as you do.", 20, "declined"),
    ("xavier", "people", "ceo", "Two people who read The Learning Leader.", 45, "met"),
]


def seed_introductions(members: dict[str, Member]) -> dict:
    now = timezone.now()
    with transaction.atomic():
        for local in OPTED_IN:
            if local in members:
                Member.objects.filter(pk=members[local].pk).update(introductions_opt_in=True)
        for local, interests in INTERESTS.items():
            if local in members:
                Member.objects.filter(pk=members[local].pk, interests="").update(interests=interests)
        for first, second, sender, note, days_ago, outcome in INTRODUCTIONS:
            if first in members and second in members:
                _introduction(members, first, second, sender, note, now - days_ago * DAY, outcome)
    return introductions_compute(now=now)


def _introduction(members, first: str, second: str, sender: str, note: str, sent_at, outcome: str) -> None:
    a, b = sorted((members[first], members[second]), key=lambda m: m.pk)
    if Introduction.objects.filter(member_a=a, member_b=b).exists():
        return
    accepted, declined = Introduction.Answer.ACCEPTED, Introduction.Answer.DECLINED
    fields: dict = {}
    answered = sent_at + DAY
    if outcome == "accepted_by_one":
        fields = {"a_answer": accepted, "a_answered_at": answered}
    elif outcome == "declined":
        fields = {"a_answer": accepted, "a_answered_at": answered, "b_answer": declined, "b_answered_at": answered}
    elif outcome in ("accepted", "met"):
        fields = {
            "a_answer": accepted,
            "a_answered_at": answered,
            "b_answer": accepted,
            "b_answered_at": answered,
            "accepted_at": answered,
        }
    if outcome == "met":
        follow_up = answered + 14 * DAY
        fields |= {
            "follow_up_sent_at": follow_up,
            "a_met": Introduction.Met.YES,
            "b_met": Introduction.Met.YES,
            "met_at": follow_up + DAY,
        }
    sender_user = members[sender].user if sender in members else User.objects.filter(is_staff=True).first()
    Introduction.objects.create(
        member_a=a,
        member_b=b,
        sender=sender_user,
        from_suggestion=sender == "ceo",
        note=note,
        crosses_teams=a.team_id != b.team_id,
        created_at=sent_at,
        **fields,
    )
