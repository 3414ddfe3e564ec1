from django.urls import path

from plnorg import permissions as perm

from .views import health

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

urlpatterns: list = [
    path("feeds/<int:feed_id>/fetch-now/", health.fetch_now, name="fetch_now"),
]
