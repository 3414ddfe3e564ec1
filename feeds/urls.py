from django.urls import path

from core import permissions as perm

from . import urls_curation
from .views import health, pln, stream

app_name = "feeds"


def _a_feed_i_registered(user) -> dict | None:
    from feeds.models import Subscription

    feed_id = Subscription.objects.filter(member__user=user).values_list("feed_id", flat=True).first() if user else None
    return {"feed_id": feed_id} if feed_id else None


perm.register(
    {
        "feeds:fetch_now": perm.Access(
            roles=perm.MEMBERS,
            text="will be fetched in a moment",
            methods=("POST",),
            sample=_a_feed_i_registered,
            object_rule="only feeds I registered",
        ),
    }
)

# --- My PLN, onboarding, profiles, OPML (feeds/views/pln.py) ---


def _my_subscription(user) -> dict | None:
    from feeds.models import Subscription

    pk = Subscription.objects.filter(member__user=user).values_list("pk", flat=True).first() if user else None
    return {"subscription_id": pk} if pk else None


def _a_colleague(user) -> dict | None:
    # The consent canary's owner: his private items must never show here.
    from members.models import Member

    from .demo import CANARY_OWNER

    pk = Member.objects.filter(user__email__startswith=f"{CANARY_OWNER}@").values_list("pk", flat=True).first()
    return {"member_id": pk} if pk else None


perm.register(
    {
        "feeds:my_pln": perm.Access(roles=perm.MEMBERS, text="My PLN"),
        "feeds:subscription_add": perm.Access(roles=perm.MEMBERS, text="Added", methods=("POST",)),
        "feeds:subscription_edit": perm.Access(
            roles=perm.MEMBERS,
            text="Share with colleagues",
            sample=_my_subscription,
            object_rule="only my subscriptions",
        ),
        "feeds:subscription_remove": perm.Access(
            roles=perm.MEMBERS,
            text="Removed",
            methods=("POST",),
            sample=_my_subscription,
            object_rule="only my subscriptions",
        ),
        "feeds:sharing_pause": perm.Access(roles=perm.MEMBERS, text="Sharing", methods=("POST",)),
        "feeds:profile": perm.Access(
            roles=perm.MEMBERS,
            text="What colleagues see",
            sample=_a_colleague,
            object_rule="active members; only their shared accounts and sources",
        ),
        "feeds:onboarding": perm.Access(roles=perm.MEMBERS, text="What is a PLN?"),
        "feeds:opml_import": perm.Access(roles=perm.MEMBERS, text="Import from your feed reader"),
        "feeds:opml_export": perm.Access(roles=perm.MEMBERS, text="sources of", content_type="text/x-opml"),
    }
)

# --- The stream, entry pages, moderation (feeds/views/stream.py) ---


def _a_stream_entry(user) -> dict | None:
    from feeds.models import Entry

    pk = Entry.objects.shared().order_by("-published_at", "-id").values_list("pk", flat=True).first()
    return {"entry_id": pk} if pk else None


def _a_stream_feed(user) -> dict | None:
    from feeds.models import Subscription

    pk = Subscription.objects.shared().order_by("feed_id").values_list("feed_id", flat=True).first()
    return {"feed_id": pk} if pk else None


def _a_report(user) -> dict | None:
    from feeds.models import Report

    pk = Report.objects.order_by("pk").values_list("pk", flat=True).first()
    return {"report_id": pk} if pk else None


VISIBLE_ENTRY = "only entries the organization can see (shared, not hidden); 404 otherwise"
perm.register(
    {
        "feeds:stream": perm.Access(roles=perm.MEMBERS, text="The stream"),
        "feeds:entry": perm.Access(
            roles=perm.MEMBERS, text="Comes to us through", sample=_a_stream_entry, object_rule=VISIBLE_ENTRY
        ),
        "feeds:report_entry": perm.Access(
            roles=perm.MEMBERS, text="Report an entry", sample=_a_stream_entry, object_rule=VISIBLE_ENTRY
        ),
        "feeds:report_feed": perm.Access(
            roles=perm.MEMBERS,
            text="Report a source",
            sample=_a_stream_feed,
            object_rule="only sources the organization can see (shared, not hidden)",
        ),
        "feeds:reports": perm.Access(roles=perm.FACILITATORS, text="Open reports"),
        "feeds:entry_hide": perm.Access(
            roles=perm.FACILITATORS, text="Hidden", methods=("POST",), sample=_a_stream_entry
        ),
        "feeds:entry_restore": perm.Access(
            roles=perm.FACILITATORS, text="Restored", methods=("POST",), sample=_a_stream_entry
        ),
        "feeds:feed_hide": perm.Access(
            roles=perm.FACILITATORS, text="hidden", methods=("POST",), sample=_a_stream_feed
        ),
        "feeds:feed_restore": perm.Access(
            roles=perm.FACILITATORS, text="restored", methods=("POST",), sample=_a_stream_feed
        ),
        "feeds:report_dismiss": perm.Access(
            roles=perm.FACILITATORS, text="dismissed", methods=("POST",), sample=_a_report
        ),
    }
)

urlpatterns: list = [
    path("stream/", stream.stream, name="stream"),
    path("entries/<int:entry_id>/", stream.entry, name="entry"),
    path("entries/<int:entry_id>/report/", stream.report_entry, name="report_entry"),
    path("entries/<int:entry_id>/hide/", stream.entry_hide_view, name="entry_hide"),
    path("entries/<int:entry_id>/restore/", stream.entry_restore_view, name="entry_restore"),
    path("sources/<int:feed_id>/report/", stream.report_feed, name="report_feed"),
    path("sources/<int:feed_id>/hide/", stream.feed_hide_view, name="feed_hide"),
    path("sources/<int:feed_id>/restore/", stream.feed_restore_view, name="feed_restore"),
    path("moderation/reports/", stream.reports, name="reports"),
    path("moderation/reports/<int:report_id>/dismiss/", stream.report_dismiss_view, name="report_dismiss"),
    path("feeds/<int:feed_id>/fetch-now/", health.fetch_now, name="fetch_now"),
    path("me/pln/", pln.my_pln, name="my_pln"),
    path("me/pln/add/", pln.subscription_add, name="subscription_add"),
    path("me/pln/<int:subscription_id>/edit/", pln.subscription_edit, name="subscription_edit"),
    path("me/pln/<int:subscription_id>/remove/", pln.subscription_delete, name="subscription_remove"),
    path("me/pln/sharing/", pln.sharing_pause, name="sharing_pause"),
    path("me/pln/import/", pln.opml_import_view, name="opml_import"),
    path("me/pln/export.opml", pln.opml_export_view, name="opml_export"),
    path("me/start/", pln.onboarding, name="onboarding"),
    path("people/<int:member_id>/", pln.profile, name="profile"),
]

# Curation, the network view and feeds out (feeds/urls_curation.py).
urlpatterns += urls_curation.urlpatterns
