"""Demo read state for `seed_demo`: the demo employee has read a few of the
newest entries of the stream, so the stream and the home page show read and
unread entries side by side. Idempotent (marking read again changes nothing).
No app password: those are secrets a member makes for themselves."""

from __future__ import annotations

from members.models import Member

READ_NEWEST = 6  # of the employee's stream, every other one of the newest twelve


def seed_reader(members: dict[str, Member]) -> None:
    from .services.read_state import entries_mark
    from .services.streams import visible_entries

    employee = members.get("employee")
    if employee is None:
        return
    visible = visible_entries()
    newest = list(visible.order_by("-published_at", "-id").values_list("pk", flat=True)[: 2 * READ_NEWEST])
    entries_mark(member=employee, entries=visible, entry_ids=newest[::2], read=True)
