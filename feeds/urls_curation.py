"""URLs of curation, the network view and feeds out (included by feeds/urls.py
into the "feeds" namespace), each with its permission-map entry."""

from django.urls import path

from core import permissions as perm

from .views import curation, network, out


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

urlpatterns = [
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
