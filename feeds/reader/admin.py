"""Admin: app passwords (browse, and revoke through the service, audit-logged)
and read markers (browse only). Read exceptions are not listed: they are a
member's reading history, and nothing in running the service needs them."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ViewOnlyAdmin

from .models import AppPassword, ReadMarker
from .services.app_passwords import app_password_revoke


@admin.register(AppPassword)
class AppPasswordAdmin(ViewOnlyAdmin):
    list_display = ["name", "member", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "member__user__email", "member__display_name"]
    list_select_related = ["member__user"]
    fields = ["member", "name", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # revoking (audit-logged) is how an admin ends one
        return actions

    @admin.action(description=_("Revoke the selected app passwords"))
    def revoke(self, request, queryset):
        revoked = sum(
            app_password_revoke(app_password=p, actor=request.user, request=request, reason="admin")
            for p in queryset.select_related("member__user")
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d app password.", "Revoked %(count)d app passwords.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(ReadMarker)
class ReadMarkerAdmin(ViewOnlyAdmin):
    list_display = ["member", "read_through_id", "updated_at"]
    search_fields = ["member__user__email", "member__display_name"]
    list_select_related = ["member__user"]
