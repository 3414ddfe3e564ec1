from django.urls import path

from plnorg import permissions as perm

from . import urls_curation
from .views import health, pln

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
    from plnorg.demo import CANARY_OWNER

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

urlpatterns: list = [
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
