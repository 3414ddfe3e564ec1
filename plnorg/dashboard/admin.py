from django.contrib import admin

from core.admin import ViewOnlyAdmin

from .models import DashboardSnapshot


@admin.register(DashboardSnapshot)
class DashboardSnapshotAdmin(ViewOnlyAdmin):
    """Written by the periodic task: shown for diagnosis, never edited or
    deleted here (the task rewrites it on its next run)."""

    list_display = ["period", "computed_at", "duration_ms"]
