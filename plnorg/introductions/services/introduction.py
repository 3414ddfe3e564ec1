"""Introductions: someone introduces two members; each accepts or declines;
two weeks after both accepted, each is asked whether they met.

Every email goes through the outbox with a deterministic key and respects the
member's "introductions" email opt-out (they still see everything on the site).
Suggestions (who might meet whom) are computed in `suggestions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member, User
from members.notifications import INTRODUCTIONS, optional_email_enqueue

from ..models import Introduction

EMAIL_KIND = INTRODUCTIONS
FOLLOW_UP_AFTER = timedelta(days=14)


class IntroductionError(Exception):
    """A refused introduction action; the message is shown to the person."""


def introduction_pair(member_1: Member, member_2: Member) -> tuple[Member, Member]:
    """The pair in stored order (lower id first)."""
    return (member_1, member_2) if member_1.pk < member_2.pk else (member_2, member_1)


def introduction_exists(*, member_1: Member, member_2: Member) -> bool:
    a, b = introduction_pair(member_1, member_2)
    return Introduction.objects.filter(member_a=a, member_b=b).exists()


def introduction_url(introduction: Introduction) -> str:
    return settings.SITE_URL + reverse("introduction_detail", kwargs={"introduction_id": introduction.pk})


def _email(*, member: Member, key: str, subject: str, lines: list[str]) -> None:
    """An optional email (kind "introductions"): only if the member wants it,
    with the one-click unsubscribe and preferences links."""
    optional_email_enqueue(
        member=member,
        kind=EMAIL_KIND,
        subject=subject,
        body_text="\n".join(lines),
        idempotency_key=key,
    )


def introduction_send(
    *,
    sender: User,
    member_1: Member,
    member_2: Member,
    note: str = "",
    reason: str = "",
    from_suggestion: bool = False,
    now: datetime | None = None,
) -> Introduction:
    """Introduce two members to each other and email both (outbox).

    Both must be active, have opted in to introductions, and never have been
    introduced to each other before (whatever the answer was). A member may
    ask to be introduced themself ("I'd like to meet"): their side is then
    accepted already and only the other person is asked."""
    if member_1.pk == member_2.pk:
        raise IntroductionError(_("Choose two different people."))
    for member in (member_1, member_2):
        if not member.user.is_active:
            raise IntroductionError(_("%(name)s is no longer active.") % {"name": member.name})
        if not member.introductions_opt_in:
            raise IntroductionError(_("%(name)s has not chosen to be introduced.") % {"name": member.name})
    a, b = introduction_pair(member_1, member_2)
    with transaction.atomic():
        # Lock the pair's rows so two senders cannot race past the check.
        list(Member.objects.select_for_update().filter(pk__in=[a.pk, b.pk]).order_by("pk"))
        if Introduction.objects.filter(member_a=a, member_b=b).exists():
            raise IntroductionError(_("%(a)s and %(b)s have already been introduced.") % {"a": a.name, "b": b.name})
        introduction = Introduction.objects.create(
            member_a=a,
            member_b=b,
            sender=sender,
            from_suggestion=from_suggestion,
            note=note.strip(),
            reason=reason[:300],
            crosses_teams=a.team_id != b.team_id,
            created_at=now or timezone.now(),
        )
        asking = introduction.side(sender.member) if sender is not None and hasattr(sender, "member") else None
        if asking:
            setattr(introduction, f"{asking}_answer", Introduction.Answer.ACCEPTED)
            setattr(introduction, f"{asking}_answered_at", introduction.created_at)
            introduction.save(update_fields=[f"{asking}_answer", f"{asking}_answered_at"])
        sender_name = sender.display_name if sender is not None else _("plnorg")
        for member, other in ((a, b), (b, a)):
            if asking and member.pk == sender.member.pk:
                continue
            if asking:
                subject = _("%(other)s would like to meet you") % {"other": other.name}
            else:
                subject = _("%(sender)s introduced you to %(other)s") % {"sender": sender_name, "other": other.name}
            lines = [
                subject + ".",
            ]
            if introduction.reason:
                lines.append(_("Why: %(reason)s") % {"reason": introduction.reason})
            if introduction.note:
                lines += ["", introduction.note]
            lines += [
                "",
                _("Accept or decline here (each of you decides; nothing is shared until both accept):"),
                introduction_url(introduction),
            ]
            _email(
                member=member,
                key=f"introduction:{introduction.pk}:sent:{member.pk}",
                subject=subject,
                lines=lines,
            )
    return introduction


def member_introductions_opt_in_set(*, member: Member, opted_in: bool) -> Member:
    """Whether the member may be suggested for (and receive) introductions."""
    Member.objects.filter(pk=member.pk).update(introductions_opt_in=opted_in)
    member.introductions_opt_in = opted_in
    return member


def introduction_answer(
    *, introduction_id: int, member: Member, accept: bool, now: datetime | None = None
) -> Introduction:
    """One side accepts or declines. When the second side accepts, both are
    told and can see each other's contact. An answer is final."""
    now = now or timezone.now()
    with transaction.atomic():
        introduction = (
            Introduction.objects.select_for_update()
            .select_related("member_a__user", "member_b__user")
            .get(pk=introduction_id)
        )
        side = introduction.side(member)
        if side is None:
            raise IntroductionError(_("Only the two people introduced can answer."))
        if getattr(introduction, f"{side}_answer") != Introduction.Answer.PENDING:
            raise IntroductionError(_("You have already answered this introduction."))
        answer = Introduction.Answer.ACCEPTED if accept else Introduction.Answer.DECLINED
        setattr(introduction, f"{side}_answer", answer)
        setattr(introduction, f"{side}_answered_at", now)
        fields = [f"{side}_answer", f"{side}_answered_at"]
        if introduction.both_accepted:
            introduction.accepted_at = now
            fields.append("accepted_at")
        introduction.save(update_fields=fields)
        if introduction.both_accepted:
            a, b = introduction.member_a, introduction.member_b
            for one, other in ((a, b), (b, a)):
                _email(
                    member=one,
                    key=f"introduction:{introduction.pk}:accepted:{one.pk}",
                    subject=_("You and %(other)s are introduced") % {"other": other.name},
                    lines=[
                        _("%(other)s accepted too. Their contact and shared PLN are on the introduction page:")
                        % {"other": other.name},
                        introduction_url(introduction),
                    ],
                )
    return introduction


def introduction_record_met(
    *, introduction_id: int, member: Member, answer: str, now: datetime | None = None
) -> Introduction:
    """Record one side's answer to "did you meet?" (yes / not yet / no); it
    may be changed later (e.g. "not yet" becomes "yes")."""
    if answer not in (Introduction.Met.YES, Introduction.Met.NOT_YET, Introduction.Met.NO):
        raise IntroductionError(_("Choose yes, not yet or no."))
    now = now or timezone.now()
    with transaction.atomic():
        introduction = Introduction.objects.select_for_update().get(pk=introduction_id)
        side = introduction.side(member)
        if side is None:
            raise IntroductionError(_("Only the two people introduced can answer."))
        if not introduction.both_accepted:
            raise IntroductionError(_("You can say whether you met once both of you accepted."))
        setattr(introduction, f"{side}_met", answer)
        fields = [f"{side}_met"]
        if answer == Introduction.Met.YES and introduction.met_at is None:
            introduction.met_at = now
            fields.append("met_at")
        introduction.save(update_fields=fields)
    return introduction


def introductions_follow_up(*, now: datetime | None = None) -> int:
    """Ask both sides "did you meet?" two weeks after they both accepted.
    Sent once per introduction (a flag plus outbox keys). Returns how many
    introductions were followed up."""
    now = now or timezone.now()
    due = Introduction.objects.filter(
        a_answer=Introduction.Answer.ACCEPTED,
        b_answer=Introduction.Answer.ACCEPTED,
        accepted_at__lte=now - FOLLOW_UP_AFTER,
        follow_up_sent_at__isnull=True,
    ).values_list("pk", flat=True)
    count = 0
    for introduction_id in list(due[:500]):
        with transaction.atomic():
            introduction = (
                Introduction.objects.select_for_update(skip_locked=True)
                .select_related("member_a__user", "member_b__user")
                .filter(pk=introduction_id, follow_up_sent_at__isnull=True)
                .first()
            )
            if introduction is None:
                continue
            introduction.follow_up_sent_at = now
            introduction.save(update_fields=["follow_up_sent_at"])
            a, b = introduction.member_a, introduction.member_b
            for one, other in ((a, b), (b, a)):
                _email(
                    member=one,
                    key=f"introduction:{introduction.pk}:did_you_meet:{one.pk}",
                    subject=_("Did you meet %(other)s?") % {"other": other.name},
                    lines=[
                        _("Two weeks ago you and %(other)s accepted an introduction. Did you meet?")
                        % {"other": other.name},
                        _("Answer yes, not yet or no here:"),
                        introduction_url(introduction),
                    ],
                )
            count += 1
    return count
