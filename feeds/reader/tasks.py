"""The reader's periodic task (scheduled in plnorg/celery.py)."""

from celery import shared_task


@shared_task(name="reader.compact_read_state")
def compact_read_state() -> int:
    """Nightly: fold read exceptions into each member's marker (see
    services.read_state.read_state_compact). Returns how many members."""
    from members.models import Member

    from .models import ReadMark
    from .services.read_state import read_state_compact

    member_ids = ReadMark.objects.filter(is_read=True).values_list("member_id", flat=True).distinct()
    count = 0
    for member in Member.objects.filter(pk__in=member_ids).iterator():
        read_state_compact(member=member)
        count += 1
    return count
