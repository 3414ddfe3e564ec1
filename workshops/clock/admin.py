"""Admin for the clock: the policy is edited here (audited); time entries and
their history are read-only here (changes go through the services so they
are versioned and recorded)."""

from django.contrib import admin
from django.db import transaction

from core.admin import ViewOnlyAdmin
from members.audit import POLICY_CHANGED, WEEK_LOCK_CHANGED, audit_record

from .models import ClockPolicy, ClockTimer, ClockWeekLock, TimeEntry, TimeEntryHistory
from .services import clock_members_lock


@admin.register(ClockPolicy)
class ClockPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "weekly_allowance_minutes", "over_allowance", "approval_required", "hourly_cost")

    def save_model(self, request, obj, form, change):
        before = ClockPolicy.objects.get(pk=obj.pk).as_dict() if change and obj.pk else None
        super().save_model(request, obj, form, change)
        audit_record(
            action=POLICY_CHANGED, actor=request.user, obj=obj, before=before, after=obj.as_dict(), request=request
        )

    def delete_model(self, request, obj):
        before = obj.as_dict()
        audit_record(action=POLICY_CHANGED, actor=request.user, obj=obj, before=before, after=None, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected" in the list: one record per policy, as for one.
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(TimeEntry)
class TimeEntryAdmin(ViewOnlyAdmin):
    list_display = ("date", "member", "member_label", "team_name", "minutes", "activity", "status")
    list_filter = ("status", "activity", "source")
    list_select_related = ("member__user",)


@admin.register(TimeEntryHistory)
class TimeEntryHistoryAdmin(ViewOnlyAdmin):
    list_display = ("at", "entry", "action", "actor_email")


@admin.register(ClockTimer)
class ClockTimerAdmin(ViewOnlyAdmin):
    """Running timers; members start and stop them on the clock page."""

    list_display = ("member", "started_at", "activity")
    list_select_related = ("member",)


@admin.register(ClockWeekLock)
class ClockWeekLockAdmin(admin.ModelAdmin):
    """Locking here takes the member's clock lock first, like an approval, so
    a lock never lands while the member is adding time to that week."""

    list_display = ("member", "week_start", "locked_by", "locked_at")
    readonly_fields = ("locked_by", "locked_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.locked_by = request.user
        with transaction.atomic():
            previous = ClockWeekLock.objects.filter(pk=obj.pk).values_list("member_id", flat=True) if change else []
            clock_members_lock(member_ids=[obj.member_id, *previous])
            super().save_model(request, obj, form, change)
            audit_record(
                action=WEEK_LOCK_CHANGED,
                actor=request.user,
                obj=obj,
                before=None,
                after={"locked": True, "week_start": obj.week_start.isoformat()},
                request=request,
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            clock_members_lock(member_ids=[obj.member_id])
            self._delete_audited(request, obj)

    def _delete_audited(self, request, obj):
        audit_record(
            action=WEEK_LOCK_CHANGED,
            actor=request.user,
            obj=obj,
            before={"locked": True, "week_start": obj.week_start.isoformat()},
            after={"locked": False},
            request=request,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected" in the list: one record per unlocked week, as for one.
        with transaction.atomic():
            clock_members_lock(member_ids=queryset.values_list("member_id", flat=True))
            for obj in queryset:
                self._delete_audited(request, obj)
