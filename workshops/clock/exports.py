"""Time exports for payroll: one row per entry, streamed, never built in memory.

CSV rows are produced from a server-side cursor (`iterator(chunk_size=...)`)
and written to the response as they come. XLSX goes through openpyxl's
write-only workbook into a temporary file that is then streamed back.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator

from django.db.models import CharField, Count, F, Q, Sum
from django.db.models.functions import Coalesce

from core.spreadsheets import csv_writer, spreadsheet_row
from members.models import Team, User

from .models import TimeEntry
from .services import members_approvable_by

COLUMNS = ["email", "team", "date", "minutes", "activity", "status", "approver"]
SUMMARY_COLUMNS = ["email", "team", "month", "entries", "minutes", "approved", "submitted", "draft", "rejected"]
CHUNK = 2000


def teams_visible_to(user: User):
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(members__in=members_approvable_by(user)).distinct()


def export_queryset(*, user: User, start: dt.date, end: dt.date, team_id: int | None = None, status: str | None = None):
    """Entries `user` may export (admins: all; managers: the people whose
    time they approve) between two dates inclusive."""
    qs = TimeEntry.objects.live().filter(date__gte=start, date__lte=end)
    if not user.is_staff:
        qs = qs.filter(member__in=members_approvable_by(user))
    if team_id:
        qs = qs.filter(team_id=team_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def _rows(qs) -> Iterator[tuple]:
    values = qs.annotate(
        who=Coalesce(F("member__user__email"), F("member_label"), output_field=CharField()),
    ).order_by("date", "pk")
    yield from values.values_list(
        "who", "team_name", "date", "minutes", "activity", "status", "approver_email"
    ).iterator(chunk_size=CHUNK)


class _Echo:
    def write(self, value):
        return value


def csv_stream(qs) -> Iterator[str]:
    writer = csv_writer(_Echo())
    yield writer.writerow(COLUMNS)
    for who, team, day, minutes, activity, status, approver in _rows(qs):
        yield writer.writerow([who, team, day.isoformat(), minutes, activity, status, approver])


def xlsx_file(qs):
    """A temporary file holding the workbook (closed and removed by the caller)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Time")
    sheet.append(COLUMNS)
    for who, team, day, minutes, activity, status, approver in _rows(qs):
        sheet.append(spreadsheet_row([who, team, day, minutes, activity, status, approver]))
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


def monthly_summary(qs) -> Iterator[tuple]:
    """Per member and month: entries and minutes by status."""
    from django.db.models.functions import TruncMonth

    def by(status):
        return Sum("minutes", filter=Q(status=status), default=0)

    rows = (
        qs.annotate(
            who=Coalesce(F("member__user__email"), F("member_label"), output_field=CharField()),
            month=TruncMonth("date"),
        )
        .values("who", "team_name", "month")
        .annotate(
            entries=Count("pk"),
            total=Sum("minutes"),
            approved=by(TimeEntry.Status.APPROVED),
            submitted=by(TimeEntry.Status.SUBMITTED),
            draft=by(TimeEntry.Status.DRAFT),
            rejected=by(TimeEntry.Status.REJECTED),
        )
        .order_by("month", "who")
    )
    for r in rows.iterator(chunk_size=CHUNK):
        yield (
            r["who"],
            r["team_name"],
            r["month"].strftime("%Y-%m"),
            r["entries"],
            r["total"],
            r["approved"],
            r["submitted"],
            r["draft"],
            r["rejected"],
        )


def summary_csv_stream(qs) -> Iterator[str]:
    writer = csv_writer(_Echo())
    yield writer.writerow(SUMMARY_COLUMNS)
    for row in monthly_summary(qs):
        yield writer.writerow(row)


__all__ = ["COLUMNS", "SUMMARY_COLUMNS", "csv_stream", "export_queryset", "monthly_summary", "xlsx_file"]
