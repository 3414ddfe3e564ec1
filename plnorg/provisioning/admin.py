"""SCIM tokens (browse, revoke) and the provisioning links (browse only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ViewOnlyAdmin

from .models import ScimGroup, ScimToken, ScimUser
from .services.tokens import scim_token_revoke


@admin.register(ScimToken)
class ScimTokenAdmin(ViewOnlyAdmin):
    """Tokens are made with `python manage.py scim_token NAME` (the secret is
    printed once there); here they are browsed and revoked. The secret is
    never stored, so it cannot be shown."""

    list_display = ["name", "starts_with", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    fields = ["name", "starts_with", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("starts with"))
    def starts_with(self, obj: ScimToken) -> str:
        return f"{obj.hint}…"

    @admin.action(description=_("Revoke the selected tokens (their identity provider can no longer provision)"))
    def revoke(self, request, queryset):
        revoked = sum(scim_token_revoke(token=token, actor=request.user, request=request) for token in queryset)
        messages.success(request, ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", revoked) % {"n": revoked})


@admin.register(ScimUser)
class ScimUserAdmin(ViewOnlyAdmin):
    list_display = ["user_name", "user", "external_id", "provisioned_by", "updated_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter), "provisioned_by"]
    search_fields = ["user_name", "user__email", "external_id"]
    list_select_related = ["user", "provisioned_by"]


@admin.register(ScimGroup)
class ScimGroupAdmin(ViewOnlyAdmin):
    list_display = ["team", "external_id", "provisioned_by", "updated_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["team__name", "external_id"]
    list_select_related = ["team", "provisioned_by"]
