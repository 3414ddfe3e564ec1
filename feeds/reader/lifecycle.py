"""The reader's part of a member's data export, account deletion and
offboarding (registered with core.lifecycle from ReaderConfig.ready).

Export: the read marker, every exception (entry title and link, read or kept
unread) and the app passwords (name and dates, never a hash). Deletion:
all of it. Offboarding revokes every app password (audit-logged), although a
deactivated member's passwords already stop working."""

from __future__ import annotations

from typing import Any

from core.lifecycle import DataPart, register_data, register_offboarding


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def reader_export(*, member, **kwargs) -> dict[str, Any]:
    from .models import AppPassword, ReadMark, ReadMarker

    marker = ReadMarker.objects.filter(member=member).first()
    marks = ReadMark.objects.filter(member=member).select_related("entry").order_by("marked_at", "entry_id")
    return {
        "read_state": {
            "read_through_entry": marker.read_through_id if marker else 0,
            "updated_at": _iso(marker.updated_at) if marker else None,
            "exceptions": [
                {
                    "title": mark.entry.title,
                    "link": mark.entry.link,
                    "state": "read" if mark.is_read else "kept unread",
                    "marked_at": _iso(mark.marked_at),
                }
                for mark in marks
            ],
        },
        "app_passwords": [
            {
                "name": p.name,
                "created_at": _iso(p.created_at),
                "last_used_at": _iso(p.last_used_at),
                "revoked_at": _iso(p.revoked_at),
            }
            for p in AppPassword.objects.filter(member=member).order_by("created_at", "pk")
        ],
    }


def reader_delete(*, member, **kwargs) -> None:
    from .models import AppPassword
    from .services.read_state import read_state_delete

    read_state_delete(member=member)
    AppPassword.objects.filter(member=member).delete()


def reader_offboard(*, member, actor=None, **kwargs) -> None:
    from .services.app_passwords import app_passwords_revoke_all

    app_passwords_revoke_all(member=member, actor=actor, reason="offboarding")


def register() -> None:
    register_data(
        DataPart(
            name="reader",
            models=("reader.ReadMarker", "reader.ReadMark", "reader.AppPassword"),
            export=reader_export,
            delete=reader_delete,
        )
    )
    register_offboarding("reader", reader_offboard)
