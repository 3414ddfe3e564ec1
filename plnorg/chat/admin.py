"""Chat channels in the Django admin: browse and remove; adding and editing
happen on the channel pages (/chat/channels/), where addresses are checked
and secrets encrypted. Secrets never appear here: the sealed fields are not
shown, only whether one is saved."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import RevokeOnlyAdmin, ViewOnlyAdmin

from .models import Channel, Delivery

SECRET_FIELDS = ("webhook_url_sealed", "matrix_access_token_sealed")


@admin.register(Channel)
class ChannelAdmin(RevokeOnlyAdmin):
    list_display = ["name", "kind", "workshop", "is_demo", "paused_at", "last_delivery_at", "consecutive_failures"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name"]
    exclude = SECRET_FIELDS
    readonly_fields = ["secret", "edit_on_the_site", "webhook_host", "last_error", "last_error_at", "created_by"]

    @admin.display(description=_("secret"))
    def secret(self, obj: Channel) -> str:
        return _("saved (never shown)") if obj.has_secret else _("none saved")

    @admin.display(description=_("edit"))
    def edit_on_the_site(self, obj: Channel) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("chat:channel_edit", kwargs={"pk": obj.pk}), _("Edit on the channel page")
        )


@admin.register(Delivery)
class DeliveryAdmin(ViewOnlyAdmin):
    """Written by announcements and the sending task; shown for diagnosis."""

    list_display = ["key", "channel", "event", "status", "attempts", "created_at", "sent_at", "http_status"]
    list_filter = ["status", "event"]
    search_fields = ["key", "channel__name"]
    list_select_related = ["channel"]
