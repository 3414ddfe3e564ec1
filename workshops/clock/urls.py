"""Clock URLs (added to workshops/urls.py, so in the namespace "workshops":
`workshops:clock`, `workshops:approvals`, ...), each with its permission-map entry."""

from django.urls import path

from core import permissions as perm

from . import views as v

OWN = "only my entries"
TEAM = "only entries of people whose time I approve (admins: all)"


def _own_entry(user):
    from .models import TimeEntry

    if user is None:
        return None
    pk = TimeEntry.objects.live().filter(member__user=user).order_by("pk").values_list("pk", flat=True).first()
    return {"pk": pk} if pk else None


def _team_entry(user):
    from .models import TimeEntry
    from .services import members_approvable_by

    if user is None:
        return None
    qs = TimeEntry.objects.live()
    qs = qs.exclude(member__user=user) if user.is_staff else qs.filter(member__in=members_approvable_by(user))
    pk = qs.exclude(member__isnull=True).order_by("pk").values_list("pk", flat=True).first()
    return {"pk": pk} if pk else None


def _none(user):
    return None


perm.register(
    {
        "workshops:clock": perm.Access(roles=perm.MEMBERS, text="Timesheet", object_rule=OWN),
        "workshops:clock_entry_new": perm.Access(roles=perm.MEMBERS, text="Saved", methods=("POST",)),
        "workshops:clock_entry": perm.Access(roles=perm.MEMBERS, text="History", sample=_own_entry, object_rule=OWN),
        "workshops:clock_entry_delete": perm.Access(
            roles=perm.MEMBERS, text="deleted", sample=_own_entry, methods=("POST",), object_rule=OWN
        ),
        "workshops:clock_entry_confirm": perm.Access(
            roles=perm.MEMBERS, text="confirmed", sample=_own_entry, methods=("POST",), object_rule=OWN
        ),
        "workshops:clock_submit": perm.Access(roles=perm.MEMBERS, text="submitted", methods=("POST",), object_rule=OWN),
        "workshops:clock_timer_start": perm.Access(roles=perm.MEMBERS, text="started", methods=("POST",)),
        "workshops:clock_timer_stop": perm.Access(roles=perm.MEMBERS, text="stopped", methods=("POST",)),
        "workshops:approvals": perm.Access(roles=perm.MANAGERS, text="Approvals", object_rule=TEAM),
        "workshops:approval_entry": perm.Access(
            roles=perm.MANAGERS, text="History", sample=_team_entry, object_rule=TEAM
        ),
        "workshops:approval_reopen": perm.Access(
            roles=perm.MANAGERS, text="reopened", sample=_team_entry, methods=("POST",), object_rule=TEAM
        ),
        "workshops:clock_export": perm.Access(roles=perm.MANAGERS, text="Export time", object_rule=TEAM),
        # Streamed downloads (the crawler reads whole bodies, so no sample).
        "workshops:clock_export_csv": perm.Access(
            roles=perm.MANAGERS, text="email,team,date", sample=_none, content_type="text/csv", object_rule=TEAM
        ),
        "workshops:clock_export_xlsx": perm.Access(
            roles=perm.MANAGERS,
            text="(spreadsheet download)",
            sample=_none,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            object_rule=TEAM,
        ),
        "workshops:clock_export_summary": perm.Access(
            roles=perm.MANAGERS, text="email,team,month", sample=_none, content_type="text/csv", object_rule=TEAM
        ),
    }
)

urlpatterns = [
    path("clock/", v.clock, name="clock"),
    path("clock/entries/new/", v.entry_new, name="clock_entry_new"),
    path("clock/entries/<int:pk>/", v.entry_detail, name="clock_entry"),
    path("clock/entries/<int:pk>/delete/", v.entry_delete, name="clock_entry_delete"),
    path("clock/entries/<int:pk>/confirm/", v.entry_confirm, name="clock_entry_confirm"),
    path("clock/submit/", v.week_submit, name="clock_submit"),
    path("clock/timer/start/", v.timer_start, name="clock_timer_start"),
    path("clock/timer/stop/", v.timer_stop, name="clock_timer_stop"),
    path("clock/approvals/", v.approvals, name="approvals"),
    path("clock/approvals/entries/<int:pk>/", v.approval_entry, name="approval_entry"),
    path("clock/approvals/entries/<int:pk>/reopen/", v.approval_reopen, name="approval_reopen"),
    path("clock/export/", v.export, name="clock_export"),
    path("clock/export/entries.csv", v.export_csv, name="clock_export_csv"),
    path("clock/export/entries.xlsx", v.export_xlsx, name="clock_export_xlsx"),
    path("clock/export/summary.csv", v.export_summary, name="clock_export_summary"),
]
