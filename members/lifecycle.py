"""The members app's part of offboarding, data export and account deletion
(registered with core.lifecycle from MembersConfig.ready)."""

from __future__ import annotations

from typing import Any

from core.lifecycle import DataPart, register_data, register_exempt, register_offboarding


def _offboard(*, member, actor=None, replacement=None, **kwargs) -> None:
    from .services import member_deactivate

    member_deactivate(member=member, actor=actor, replacement=replacement)


def _export(*, member, **kwargs) -> dict[str, Any]:
    from .models import Invitation

    user = member.user
    return {
        "account": {
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "is_active": user.is_active,
            "email_addresses": list(user.emailaddress_set.values("email", "verified", "primary")),
        },
        "profile": {
            "display_name": member.display_name,
            "team": member.team.name if member.team_id else None,
            "job_title": member.job_title,
            "bio": member.bio,
            "interests": member.interests,
            "time_zone": member.time_zone,
            "digest": member.digest,
            "email_opt_outs": list(member.email_opt_outs or []),
            "quiet_mode": member.quiet_mode,
            "sharing_paused": member.sharing_paused,
            "introductions_opt_in": member.introductions_opt_in,
            "onboarded_at": member.onboarded_at.isoformat() if member.onboarded_at else None,
            "created_at": member.created_at.isoformat(),
        },
        "teams_managed": list(user.managed_teams.values_list("name", flat=True)),
        "invitations_sent": [
            {"email": i.email, "created_at": i.created_at.isoformat(), "accepted": i.accepted_at is not None}
            for i in Invitation.objects.filter(invited_by=user)
        ],
    }


def _delete(*, member, **kwargs) -> None:
    """Last of all parts: the user goes, and the profile with it (cascade)."""
    from .models import Invitation, Team

    user = member.user
    Team.objects.filter(manager=user).update(manager=None)
    Invitation.objects.filter(email__iexact=user.email).delete()
    user.delete()


def register() -> None:
    register_offboarding("members", _offboard)
    register_data(
        DataPart(
            name="members",
            models=("members.Member", "members.Invitation"),
            export=_export,
            delete=_delete,
        )
    )
    register_exempt(
        {
            "members.OutboundEmail": "Mail log; the user link is SET_NULL on deletion and rows are purged after 90 days.",
            "members.Team": "Team.manager is an organization role; offboarding reassigns it.",
            "members.AuditEvent": "Append-only audit log: actor is SET_NULL on deletion; actor_email is kept for accountability.",
        }
    )
