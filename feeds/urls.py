"""The feeds' pages (namespace "feeds"): My PLN, onboarding and profiles; the
stream, entries and moderation; curation, the network view and feeds out.
Each with its permission-map entry."""

from django.urls import path

from core import permissions as perm

from .views import curation, health, network, out, pln, stream

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

# --- Curation, the network view and feeds out (feeds/views/curation.py, network.py, out.py) ---


def _a_visible_entry(user) -> dict | None:
    from feeds.models import Entry

    pk = Entry.objects.shared().order_by("-published_at", "-id").values_list("pk", flat=True).first()
    return {"entry_id": pk} if pk else None


def _a_pack(user) -> dict | None:
    from feeds.models import StarterPack

    pk = StarterPack.objects.order_by("pk").values_list("pk", flat=True).first()
    return {"pack_id": pk} if pk else None


def _a_pack_item(user) -> dict | None:
    from feeds.models import StarterPackItem

    item = StarterPackItem.objects.order_by("pk").values("pack_id", "feed_id").first()
    return {"pack_id": item["pack_id"], "feed_id": item["feed_id"]} if item else None


def _my_recommendation(user) -> dict | None:
    from feeds.models import Recommendation

    pk = (
        Recommendation.objects.filter(recipient__user=user).values_list("pk", flat=True).first()
        if user is not None
        else None
    )
    return {"recommendation_id": pk} if pk else None


def _a_discovery(user) -> dict | None:
    from feeds.models import Subscription

    pk = Subscription.objects.shared().sources().values_list("feed_id", flat=True).first()
    return {"feed_id": pk} if pk else None


def _a_feed_token(user) -> dict | None:
    """A real token: the user's own, or (anonymous) the demo employee's."""
    from feeds.curation import feed_token_get
    from members.demo import demo_email
    from members.models import Member

    member = getattr(user, "member", None) if user is not None else None
    if member is None:
        member = Member.objects.filter(user__email=demo_email("employee")).first()
    return {"token": feed_token_get(member=member).token} if member else None


ENTRY_RULE = "only entries the organization can see (shared, not hidden)"

perm.register(
    {
        "feeds:picks": perm.Access(roles=perm.MEMBERS, text="Picks"),
        "feeds:pick": perm.Access(
            roles=perm.FACILITATORS, text="Picked", methods=("POST",), sample=_a_visible_entry, object_rule=ENTRY_RULE
        ),
        "feeds:unpick": perm.Access(
            roles=perm.FACILITATORS,
            text="No longer picked",
            methods=("POST",),
            sample=_a_visible_entry,
            object_rule=ENTRY_RULE,
        ),
        "feeds:saved": perm.Access(roles=perm.MEMBERS, text="Saved for later", object_rule="only my saves"),
        "feeds:save": perm.Access(
            roles=perm.MEMBERS, text="Saved", methods=("POST",), sample=_a_visible_entry, object_rule=ENTRY_RULE
        ),
        "feeds:unsave": perm.Access(
            roles=perm.MEMBERS,
            text="Removed",
            methods=("POST",),
            sample=_a_visible_entry,
            object_rule=ENTRY_RULE + "; only my saves",
        ),
        "feeds:recommend": perm.Access(
            roles=perm.MEMBERS, text="Recommend to a colleague", sample=_a_visible_entry, object_rule=ENTRY_RULE
        ),
        "feeds:recommendation_dismiss": perm.Access(
            roles=perm.MEMBERS,
            text="dismissed",
            methods=("POST",),
            sample=_my_recommendation,
            object_rule="only recommendations to me",
        ),
        "feeds:starter_packs": perm.Access(roles=perm.MEMBERS, text="Starter packs"),
        "feeds:starter_pack": perm.Access(roles=perm.MEMBERS, text="Follow the whole pack", sample=_a_pack),
        "feeds:starter_pack_new": perm.Access(roles=perm.FACILITATORS, text="New starter pack"),
        "feeds:starter_pack_edit": perm.Access(roles=perm.FACILITATORS, text="Edit starter pack", sample=_a_pack),
        "feeds:starter_pack_delete": perm.Access(
            roles=perm.FACILITATORS, text="deleted", methods=("POST",), sample=_a_pack
        ),
        "feeds:starter_pack_follow": perm.Access(
            roles=perm.MEMBERS, text="Following", methods=("POST",), sample=_a_pack, object_rule="adds to my PLN only"
        ),
        "feeds:starter_pack_drop": perm.Access(
            roles=perm.MEMBERS,
            text="no longer follow",
            methods=("POST",),
            sample=_a_pack_item,
            object_rule="removes from my PLN only",
        ),
        "feeds:network": perm.Access(roles=perm.MEMBERS, text="What we have in common"),
        "feeds:network_follow": perm.Access(
            roles=perm.MEMBERS,
            text="You follow",
            methods=("POST",),
            sample=_a_discovery,
            object_rule="only sources colleagues share; adds to my PLN only",
        ),
        "feeds:network_opml": perm.Access(roles=perm.MEMBERS, text="shared sources", content_type="text/x-opml"),
        "feeds:feeds_out": perm.Access(roles=perm.MEMBERS, text="Feeds out", object_rule="only my own secret URLs"),
        "feeds:feeds_out_reset": perm.Access(roles=perm.MEMBERS, text="New feed addresses", methods=("POST",)),
        "feeds:atom_stream": perm.Access(
            roles=perm.PUBLIC,
            text="the stream of",
            sample=_a_feed_token,
            content_type="application/atom+xml",
            object_rule="a valid secret token of an active member; 404 otherwise",
        ),
        "feeds:atom_picks": perm.Access(
            roles=perm.PUBLIC,
            text="picks for",
            sample=_a_feed_token,
            content_type="application/atom+xml",
            object_rule="a valid secret token of an active member; 404 otherwise",
        ),
    }
)

urlpatterns += [
    path("picks/", curation.picks, name="picks"),
    path("entries/<int:entry_id>/pick/", curation.pick, name="pick"),
    path("entries/<int:entry_id>/unpick/", curation.unpick, name="unpick"),
    path("entries/<int:entry_id>/save/", curation.save, name="save"),
    path("entries/<int:entry_id>/unsave/", curation.unsave, name="unsave"),
    path("entries/<int:entry_id>/recommend/", curation.recommend, name="recommend"),
    path("me/saved/", curation.saved, name="saved"),
    path(
        "me/recommendations/<int:recommendation_id>/dismiss/",
        curation.recommendation_dismiss_view,
        name="recommendation_dismiss",
    ),
    path("starter-packs/", curation.starter_packs, name="starter_packs"),
    path("starter-packs/new/", curation.starter_pack_edit, name="starter_pack_new"),
    path("starter-packs/<int:pack_id>/", curation.starter_pack, name="starter_pack"),
    path("starter-packs/<int:pack_id>/edit/", curation.starter_pack_edit, name="starter_pack_edit"),
    path("starter-packs/<int:pack_id>/delete/", curation.starter_pack_delete_view, name="starter_pack_delete"),
    path("starter-packs/<int:pack_id>/follow/", curation.starter_pack_follow_view, name="starter_pack_follow"),
    path("starter-packs/<int:pack_id>/drop/<int:feed_id>/", curation.starter_pack_drop_view, name="starter_pack_drop"),
    path("network/", network.network, name="network"),
    path("network/follow/<int:feed_id>/", network.network_follow, name="network_follow"),
    path("network/shared-sources.opml", network.network_opml, name="network_opml"),
    path("me/feeds-out/", out.feeds_out, name="feeds_out"),
    path("me/feeds-out/reset/", out.feeds_out_reset, name="feeds_out_reset"),
    path("out/<str:token>/stream.atom", out.atom_stream_view, name="atom_stream"),
    path("out/<str:token>/picks.atom", out.atom_picks_view, name="atom_picks"),
]
