"""URLs of the reader, each with its permission-map entry.

The site's pages (read toggles, "mark all as read", Reading apps) are for
signed-in members like the stream. The reading APIs (``GREADER_PREFIX``,
``FEVER_PREFIX``) are open to anyone at the door: they authenticate every
request with an app password, never with the session, so they take no CSRF
token, and the page checks expect 401 with the protocol's own body from
every role that has no app password (every crawl persona).
"""

from django.urls import path

from core import permissions as perm

from .views import fever, greader, web

app_name = "reader"

GREADER_PREFIX = "api/greader/"
FEVER_PREFIX = "api/fever/"


def _a_visible_entry(user) -> dict | None:
    from feeds.models import Entry

    pk = Entry.objects.shared().order_by("-published_at", "-id").values_list("pk", flat=True).first()
    return {"entry_id": pk} if pk else None


def _my_app_password(user) -> dict | None:
    from .models import AppPassword

    pk = AppPassword.objects.filter(member__user=user).values_list("pk", flat=True).first() if user else None
    return {"app_password_id": pk} if pk else None


VISIBLE = "only entries the organization can see (shared, not hidden); 404 otherwise; changes my read state only"
perm.register(
    {
        "reader:entry_read": perm.Access(
            roles=perm.MEMBERS, text="Marked as", methods=("POST",), sample=_a_visible_entry, object_rule=VISIBLE
        ),
        "reader:entry_star": perm.Access(
            roles=perm.MEMBERS, text="Saved", methods=("POST",), sample=_a_visible_entry, object_rule=VISIBLE
        ),
        "reader:mark_all_read": perm.Access(
            roles=perm.MEMBERS,
            text="Marked as read",
            methods=("POST",),
            object_rule="only entries of the stream view I looked at, up to the newest one then; my read state only",
        ),
        "reader:reading_apps": perm.Access(
            roles=perm.MEMBERS, text="Reading apps", methods=("GET", "POST"), object_rule="only my app passwords"
        ),
        "reader:app_password_revoke": perm.Access(
            roles=perm.MEMBERS,
            text="Revoked",
            methods=("POST",),
            sample=_my_app_password,
            object_rule="only my app passwords; 404 otherwise",
        ),
    }
)

# --- The reading APIs: app passwords, not sessions ---------------------------------


def _reading_list(user) -> dict:
    return {"stream_id": "user/-/state/com.google/reading-list"}


GREADER_RULE = "an app password's Auth token (ClientLogin); the member's own read state and stream only"
_GREADER = {"status": 401, "text": "Unauthorized", "content_type": "text/plain"}
GREADER_GET = {
    "greader_token": ("reader/api/0/token", greader.token),
    "greader_user_info": ("reader/api/0/user-info", greader.user_info),
    "greader_subscription_list": ("reader/api/0/subscription/list", greader.subscription_list),
    "greader_tag_list": ("reader/api/0/tag/list", greader.tag_list),
    "greader_unread_count": ("reader/api/0/unread-count", greader.unread_count),
    "greader_stream_contents_query": ("reader/api/0/stream/contents", greader.stream_contents),
    "greader_stream_items_ids": ("reader/api/0/stream/items/ids", greader.stream_items_ids),
    "greader_stream_items_contents": ("reader/api/0/stream/items/contents", greader.stream_items_contents),
}
GREADER_POST = {
    "greader_subscription_quickadd": ("reader/api/0/subscription/quickadd", greader.subscription_quickadd),
    "greader_subscription_edit": ("reader/api/0/subscription/edit", greader.subscription_edit),
    "greader_edit_tag": ("reader/api/0/edit-tag", greader.edit_tag),
    "greader_mark_all_as_read": ("reader/api/0/mark-all-as-read", greader.mark_all_as_read),
}
API_EXEMPT = "reading apps authenticate every request with an app password, never with the session cookie"
perm.register(
    {
        "reader:greader_root": perm.Access(
            roles=perm.PUBLIC, text="OK", content_type="text/plain", csrf_exempt=API_EXEMPT
        ),
        "reader:greader_client_login": perm.Access(
            roles=perm.PUBLIC,
            text="Error=BadAuthentication",
            methods=("POST",),
            object_rule="an email and one of its app passwords; rate limited like the sign-in form",
            csrf_exempt=API_EXEMPT,
        ),
        "reader:greader_stream_contents": perm.Access(
            roles=perm.PUBLIC, sample=_reading_list, object_rule=GREADER_RULE, csrf_exempt=API_EXEMPT, **_GREADER
        ),
        **{
            f"reader:{name}": perm.Access(
                roles=perm.PUBLIC, object_rule=GREADER_RULE, csrf_exempt=API_EXEMPT, **_GREADER
            )
            for name in GREADER_GET
        },
        **{
            f"reader:{name}": perm.Access(
                roles=perm.PUBLIC, methods=("POST",), object_rule=GREADER_RULE, csrf_exempt=API_EXEMPT, **_GREADER
            )
            for name in GREADER_POST
        },
        "reader:fever": perm.Access(
            roles=perm.PUBLIC,
            text='"auth":0',
            status=401,
            content_type="application/json",
            methods=("GET", "POST"),
            object_rule="api_key = md5(email:app password); the member's own read state and stream only",
            csrf_exempt=API_EXEMPT,
        ),
    }
)

urlpatterns = [
    path(GREADER_PREFIX, greader.root, name="greader_root"),
    path(GREADER_PREFIX + "accounts/ClientLogin", greader.client_login, name="greader_client_login"),
    path(
        GREADER_PREFIX + "reader/api/0/stream/contents/<path:stream_id>",
        greader.stream_contents,
        name="greader_stream_contents",
    ),
    *(path(GREADER_PREFIX + route, view, name=name) for name, (route, view) in {**GREADER_GET, **GREADER_POST}.items()),
    path(FEVER_PREFIX, fever.fever, name="fever"),
    path("entries/<int:entry_id>/read/", web.entry_read, name="entry_read"),
    path("entries/<int:entry_id>/star/", web.entry_star, name="entry_star"),
    path("stream/mark-all-read/", web.mark_all_read, name="mark_all_read"),
    path("me/reading-apps/", web.reading_apps, name="reading_apps"),
    path(
        "me/reading-apps/<int:app_password_id>/revoke/",
        web.app_password_revoke_view,
        name="app_password_revoke",
    ),
]
