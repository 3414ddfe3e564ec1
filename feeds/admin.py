from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Entry, EntryLink, Feed, FetchLog, Subscription


class FeedHealthFilter(admin.SimpleListFilter):
    """The feed-health list: which feeds need attention."""

    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("failing", _("Failing (recent errors)")),
            ("paused", _("Paused after repeated errors")),
            ("retired", _("Retired (gone or moved)")),
            ("never", _("Never fetched")),
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "failing":
                return queryset.filter(status=Feed.Status.ACTIVE, error_count__gt=0)
            case "paused":
                return queryset.filter(status=Feed.Status.PAUSED)
            case "retired":
                return queryset.filter(status=Feed.Status.RETIRED)
            case "never":
                return queryset.filter(last_fetched_at__isnull=True, is_demo=False)
        return queryset


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = [
        "display_title",
        "platform",
        "status",
        "is_demo",
        "last_success_at",
        "error_count",
        "last_error",
        "next_fetch_at",
    ]
    list_filter = [FeedHealthFilter, "status", "platform", "is_demo"]
    search_fields = ["url", "title"]
    raw_id_fields = ["moved_to"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["member", "feed", "kind", "is_shared", "added_at"]
    list_filter = ["kind", "is_shared"]
    search_fields = ["member__display_name", "feed__url", "feed__title"]
    raw_id_fields = ["member", "feed"]


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["title", "feed", "published_at", "hidden_at"]
    search_fields = ["title", "link"]
    raw_id_fields = ["feed"]
    list_select_related = ["feed"]
    show_full_result_count = False


@admin.register(EntryLink)
class EntryLinkAdmin(admin.ModelAdmin):
    list_display = ["url", "domain", "entry"]
    raw_id_fields = ["entry"]
    show_full_result_count = False


@admin.register(FetchLog)
class FetchLogAdmin(admin.ModelAdmin):
    list_display = ["started_at", "feed", "outcome", "http_status", "duration_ms", "new_entries", "updated_entries"]
    list_filter = ["outcome"]
    raw_id_fields = ["feed"]
    show_full_result_count = False
