from django.contrib import admin

from core.admin import ViewOnlyAdmin

from .models import ConnectorStatus, Introduction, IntroductionComputation, IntroductionSuggestion


@admin.register(Introduction)
class IntroductionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at"]
    list_select_related = True
    raw_id_fields = [f.name for f in Introduction._meta.fields if f.is_relation]


class ComputedAdmin(ViewOnlyAdmin):
    """Rows written by the introductions computation: shown for diagnosis,
    never edited, and not deleted here either (suggestions keep the
    introductions funnel's history; the task rewrites the rest on its next
    run)."""


@admin.register(IntroductionComputation)
class IntroductionComputationAdmin(ComputedAdmin):
    list_display = ["kind", "computed_at", "duration_ms"]


@admin.register(IntroductionSuggestion)
class IntroductionSuggestionAdmin(ComputedAdmin):
    list_display = ["member_a", "member_b", "score", "is_stranger", "is_current", "first_suggested_at", "computed_at"]
    list_filter = ["is_current", "is_stranger"]
    search_fields = ["member_a__display_name", "member_b__display_name"]
    list_select_related = ["member_a", "member_b"]
    show_full_result_count = False


@admin.register(ConnectorStatus)
class ConnectorStatusAdmin(ComputedAdmin):
    list_display = ["member", "is_connector", "betweenness", "communities_spanned", "computed_at"]
    list_filter = ["is_connector"]
    search_fields = ["member__display_name"]
    list_select_related = ["member"]
