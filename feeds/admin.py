from django.contrib import admin
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import RevokeOnlyAdmin, ViewOnlyAdmin
from members.admin import token_hint

from .models import (
    Entry,
    EntryLink,
    Feed,
    FeedToken,
    FetchLog,
    Pick,
    Recommendation,
    Report,
    SavedEntry,
    StarterPack,
    StarterPackItem,
    Subscription,
)


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
            ("notice", _("Fetched with a notice (e.g. entries left out)")),
            ("instant", _("Instant updates on (WebSub)")),
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
            case "notice":
                return queryset.exclude(fetch_notice="")
            case "instant":
                return queryset.filter(websub__state="active", websub__lease_expires_at__gt=timezone.now())
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
        "fetch_notice",
        "next_fetch_at",
        "instant_updates",
    ]
    list_filter = [FeedHealthFilter, "status", "platform", "is_demo"]
    list_select_related = ["websub"]
    search_fields = ["url", "title"]
    raw_id_fields = ["moved_to"]

    @admin.display(description=_("instant updates"))
    def instant_updates(self, feed: Feed) -> str:
        """The feed's WebSub subscription (feeds.websub), if it has one."""
        subscription = getattr(feed, "websub", None)
        if subscription is None:
            return "—"
        if subscription.is_on():
            when = timezone.localtime(subscription.lease_expires_at)
            return _("on, lease until %(when)s") % {"when": f"{when:%Y-%m-%d %H:%M}"}
        return subscription.get_state_display()


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


# --- Curation and moderation -------------------------------------------------
# What members do for themselves (saves, recommendations, feed tokens) and what
# moderation decides (reports) is shown here but changed only on the site, by
# the workflows in feeds/curation.py and feeds/moderation.py (which check roles,
# send the emails and write the audit log).


@admin.register(Pick)
class PickAdmin(admin.ModelAdmin):
    list_display = ["entry", "picked_by", "note", "created_at"]
    search_fields = ["entry__title", "note"]
    raw_id_fields = ["entry", "picked_by"]
    list_select_related = ["entry", "picked_by"]


@admin.register(SavedEntry)
class SavedEntryAdmin(ViewOnlyAdmin):
    """Private to the member: who saved what, for support questions only."""

    list_display = ["member", "entry", "saved_at"]
    search_fields = ["member__display_name", "member__user__email"]
    list_select_related = ["member", "entry"]
    show_full_result_count = False


class DismissedFilter(admin.SimpleListFilter):
    title = _("dismissed")
    parameter_name = "dismissed"

    def lookups(self, request, model_admin):
        return [("no", _("Not yet")), ("yes", _("Dismissed"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "no":
                return queryset.filter(dismissed_at__isnull=True)
            case "yes":
                return queryset.filter(dismissed_at__isnull=False)
        return queryset


@admin.register(Recommendation)
class RecommendationAdmin(ViewOnlyAdmin):
    """The note is between two colleagues: it is on the detail page, not in
    the list or the search."""

    list_display = ["created_at", "sender", "recipient", "entry", "dismissed_at"]
    list_filter = [DismissedFilter]
    search_fields = ["sender__display_name", "recipient__display_name"]
    list_select_related = ["sender", "recipient", "entry"]
    show_full_result_count = False


class StarterPackItemInline(admin.TabularInline):
    model = StarterPackItem
    extra = 0
    raw_id_fields = ["feed"]
    ordering = ["position", "id"]


@admin.register(StarterPack)
class StarterPackAdmin(admin.ModelAdmin):
    list_display = ["title", "topic", "source_count", "created_by", "updated_at"]
    list_filter = ["topic"]
    search_fields = ["title", "topic", "description"]
    raw_id_fields = ["created_by"]
    list_select_related = ["created_by"]
    inlines = [StarterPackItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(source_count=Count("items"))

    @admin.display(description=_("sources"), ordering="source_count")
    def source_count(self, pack: StarterPack) -> int:
        return pack.source_count


@admin.register(FeedToken)
class FeedTokenAdmin(RevokeOnlyAdmin):
    """The token is a password for the member's feed URLs: only its first
    characters are shown. Deleting it revokes those URLs (the member's next
    visit makes a new one)."""

    list_display = ["member", "token_start", "created_at"]
    search_fields = ["member__display_name", "member__user__email"]
    fields = ["member", "token_start", "created_at"]
    readonly_fields = fields
    list_select_related = ["member"]

    @admin.display(description=_("token"))
    def token_start(self, feed_token: FeedToken) -> str:
        return token_hint(feed_token.token)


class ReportStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("resolved", _("Resolved"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "open":
                return queryset.filter(resolved_at__isnull=True)
            case "resolved":
                return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Report)
class ReportAdmin(ViewOnlyAdmin):
    """Facilitators resolve reports on the site's moderation page (hiding the
    content or dismissing the report, audited); here they are only browsed."""

    list_display = ["created_at", "reason", "__str__", "reporter", "resolution", "resolved_by", "resolved_at"]
    list_filter = [ReportStateFilter, "reason", "resolution"]
    search_fields = ["entry__title", "feed__title", "feed__url", "reporter__display_name"]
    list_select_related = ["entry", "feed", "reporter", "resolved_by"]
