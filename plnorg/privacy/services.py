"""Workflows that span every app: offboarding, a member's data, account deletion.

Each app registers its part in core.lifecycle (from its AppConfig.ready);
these functions run them. Offboarding and the export run the parts in
registration order (INSTALLED_APPS order: members, feeds, workshops, clock,
introductions). Deletion runs them in the reverse order, so the apps that
depend on members clean up first and the members part, which deletes the user
and profile, comes last.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core import lifecycle
from members.audit import ACCOUNT_DELETED, DATA_EXPORTED, audit_record
from members.models import Member, User

EXPORT_FORMAT_VERSION = 1


def member_offboard(*, member: Member, actor: User | None, replacement: Member | None = None) -> None:
    """Deactivate a leaver: every app's offboarding hook, in one transaction."""
    if replacement is not None and replacement.pk == member.pk:
        raise ValueError("A leaver cannot replace themself.")
    with transaction.atomic():
        for _name, hook in lifecycle.OFFBOARDING:
            hook(member=member, actor=actor, replacement=replacement)


def member_data_export(*, member: Member, request=None) -> dict[str, Any]:
    """Everything plnorg holds about a member, one key per app part."""
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
    }
    for part in lifecycle.DATA_PARTS:
        data[part.name] = part.export(member=member)
    audit_record(action=DATA_EXPORTED, actor=member.user, obj=member.user, request=request)
    return data


def member_account_delete(*, member: Member, request=None) -> None:
    """Delete a member's account: each part deletes its data (reverse order),
    the user and profile last. Feeds other members use stay."""
    email = member.user.email
    with transaction.atomic():
        audit_record(
            action=ACCOUNT_DELETED,
            actor=None,
            object_type="members.User",
            object_id=str(member.user_id),
            object_repr=email,
            request=None,
        )
        for part in reversed(lifecycle.DATA_PARTS):
            part.delete(member=member)
