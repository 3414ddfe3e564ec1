from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin import token_hint

from .models import (
    Attendance,
    CalendarFeed,
    Feedback,
    Registration,
    RegistrationEvent,
    Resource,
    Topic,
    Workshop,
    WorkshopMaterial,
    WorkshopSession,
)


class SessionInline(admin.TabularInline):
    model = WorkshopSession
    extra = 0


class MaterialInline(admin.TabularInline):
    model = WorkshopMaterial
    extra = 0
    readonly_fields = ("file", "file_name", "content_type", "size_bytes")


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "capacity", "created_at")
    list_filter = ("status", "topics")
    search_fields = ("title",)
    filter_horizontal = ("facilitators", "topics", "resources")
    inlines = [SessionInline, MaterialInline]
    readonly_fields = ("sequence", "published_at", "cancelled_at")


class EventInline(admin.TabularInline):
    model = RegistrationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("status", "session", "minutes", "waitlist_position", "actor", "note", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Read-only: registrations change through the site's workflows so the
    history, the waitlist and the notices stay right."""

    list_display = ("workshop", "member", "status", "waitlist_position", "overbooked")
    list_filter = ("status",)
    search_fields = ("member__user__email", "workshop__title")
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "topic")
    list_filter = ("kind", "topic")
    search_fields = ("title",)
    readonly_fields = ("file", "file_name", "content_type", "size_bytes")


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    prepopulated_fields = {"slug": ("name",)}


admin.site.register(Feedback)
admin.site.register(Attendance)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """The token is the secret of the member's calendar URL: only its first
    characters are shown. Deleting the row revokes the URL (the member gets
    a new one on the site)."""

    list_display = ("member", "token_start", "created_at")
    search_fields = ("member__display_name", "member__user__email")
    fields = ("member", "token_start", "created_at")
    readonly_fields = fields
    list_select_related = ("member",)

    @admin.display(description=_("token"))
    def token_start(self, calendar_feed: CalendarFeed) -> str:
        return token_hint(calendar_feed.token)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
