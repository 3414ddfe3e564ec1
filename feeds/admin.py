from django.contrib import admin

from .models import Entry, EntryLink, Feed, FetchLog, Subscription


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ["display_title", "platform", "status", "is_demo", "last_success_at", "error_count", "next_fetch_at"]
    list_filter = ["status", "platform", "is_demo"]
    search_fields = ["url", "title"]


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
