"""The introductions app's part of a member's data export and account
deletion (registered with core.lifecycle from IntroductionsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.lifecycle import DataPart, register_data
from members.models import Member

from .models import ConnectorStatus, Introduction, IntroductionSuggestion
from .services.suggestions import member_connector_status, suggestions_for_member


def _export(*, member: Member) -> dict[str, Any]:
    introductions = Introduction.objects.involving(member).select_related("member_a", "member_b", "sender")
    sent = Introduction.objects.filter(sender=member.user).select_related("member_a", "member_b")
    status = member_connector_status(member)
    return {
        "introductions_opt_in": member.introductions_opt_in,
        "introductions": [
            {
                "with": i.other(member).name,
                "sent_by": i.sender.email if i.sender else "",
                "note": i.note,
                "reason": i.reason,
                "created_at": i.created_at.isoformat(),
                "your_answer": i.answer_of(member),
                "did_you_meet": i.met_of(member),
            }
            for i in introductions
        ],
        "introductions_sent": [
            {"between": [i.member_a.name, i.member_b.name], "note": i.note, "created_at": i.created_at.isoformat()}
            for i in sent
        ],
        "suggestions": [
            {"with": (s.member_b if s.member_a_id == member.pk else s.member_a).name, "score": s.score}
            for s in suggestions_for_member(member)
        ],
        "connector": None if status is None else {"is_connector": status.is_connector},
    }


def _delete(*, member: Member) -> None:
    Introduction.objects.involving(member).delete()
    IntroductionSuggestion.objects.filter(Q(member_a=member) | Q(member_b=member)).delete()
    ConnectorStatus.objects.filter(member=member).delete()


def register() -> None:
    register_data(
        DataPart(
            name="introductions",
            models=(
                "introductions.Introduction",
                "introductions.IntroductionSuggestion",
                "introductions.ConnectorStatus",
            ),
            export=_export,
            delete=_delete,
        )
    )
