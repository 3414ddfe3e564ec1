from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Member, OutboundEmail, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    search_fields = ["email", "member__display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "parent"]
    search_fields = ["name"]
    autocomplete_fields = ["manager", "parent"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "team", "job_title", "digest", "sharing_paused"]
    list_filter = ["team", "digest", "sharing_paused", "introductions_opt_in"]
    search_fields = ["display_name", "user__email"]
    autocomplete_fields = ["user", "team"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "kind", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "idempotency_key"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
