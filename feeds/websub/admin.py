"""Instant updates in the admin: read-only, for support questions.

Subscriptions are changed only by their workflow (feeds.websub.services):
an admin pauses or retires the feed instead, and the maintenance
unsubscribes. The ``hub.secret`` is never shown; the callback token only as
a hint.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ViewOnlyAdmin
from members.admin import token_hint

from .models import WebSubSubscription


@admin.register(WebSubSubscription)
class WebSubSubscriptionAdmin(ViewOnlyAdmin):
    list_display = [
        "feed",
        "hub_url",
        "state",
        "lease_expires_at",
        "pushes_received",
        "pushed_entries",
        "pushes_refused",
        "last_push_at",
        "last_error",
    ]
    list_filter = ["state"]
    list_select_related = ["feed"]
    search_fields = ["topic_url", "hub_url", "feed__title"]
    fields = [
        "feed",
        "hub_url",
        "topic_url",
        "callback",
        "state",
        "requested_at",
        "verified_at",
        "lease_seconds",
        "lease_expires_at",
        "last_error",
        "last_error_at",
        "pushes_received",
        "pushed_entries",
        "last_push_at",
        "refused_unsigned",
        "refused_bad_signature",
        "refused_too_large",
        "last_refused_at",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("callback token"))
    def callback(self, subscription: WebSubSubscription) -> str:
        return token_hint(subscription.callback_token)

    @admin.display(description=_("refused pushes"))
    def pushes_refused(self, subscription: WebSubSubscription) -> int:
        return subscription.pushes_refused
