"""The WebSub callback (namespace "websub"), with its permission-map entry."""

from django.urls import path

from core import permissions as perm

from . import views

app_name = "websub"


def _a_callback(user) -> dict:
    """A callback address: a subscription's when there is one (the demo has
    none: its feeds are never fetched), else a token nobody holds. Either way
    a GET without the hub's parameters answers 400 and names what is missing."""
    from .models import WebSubSubscription

    token = WebSubSubscription.objects.values_list("callback_token", flat=True).first()
    return {"token": token or "no-such-subscription"}


perm.register(
    {
        "websub:callback": perm.Access(
            roles=perm.PUBLIC,
            text="hub.mode must be subscribe, unsubscribe or denied",
            sample=_a_callback,
            methods=("GET", "POST"),
            content_type="text/plain",
            status=400,
            object_rule=(
                "hubs only: the unguessable token in the URL; a challenge is echoed only for a subscription "
                "plnorg asked for with that topic, and a push is stored only with a valid X-Hub-Signature"
            ),
        ),
    }
)

urlpatterns = [
    path("websub/callback/<slug:token>/", views.callback, name="callback"),
]
