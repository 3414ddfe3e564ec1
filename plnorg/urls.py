"""The root URLconf: every app's URLs, the admin, /healthz and /metrics.

Each app declares its pages' permission-map entries in its own urls module;
the few pages declared here are the project's own.
"""

from django.contrib import admin
from django.urls import include, path

from core import permissions as perm
from members.views import admin_login

from . import health, metrics

perm.register(
    {
        "admin_login": perm.Access(roles=perm.PUBLIC, text="Sign in", redirects=perm.PUBLIC),
        "metrics": perm.Access(
            roles=perm.PUBLIC, text="a valid token is required", status=403, content_type="text/plain"
        ),
        "healthz": perm.Access(roles=perm.PUBLIC, text='"database"', content_type="application/json"),
        # An alias for one release (plnorg/aliases.py): answers a redirect.
        "admin_moved": perm.Access(
            roles=perm.ADMINS,
            text="moved",
            status=302,
            redirects=perm.ADMINS,
            sample=lambda user: {"old": "plnorg/dashboardsnapshot", "rest": ""},
        ),
    }
)

urlpatterns = [
    path("", include("plnorg.privacy.urls")),
    path("", include("plnorg.home.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("plnorg.dashboard.urls")),
    path("", include("plnorg.introductions.urls")),
    path("scim/v2/", include("plnorg.provisioning.urls")),
    path("", include("plnorg.chat.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("members.urls")),
    path("", include("feeds.urls")),
    path("", include("feeds.reader.urls")),
    path("", include("feeds.websub.urls")),
    path("", include("workshops.urls")),
    # Admins sign in through allauth like everyone (so MFA applies), never
    # through the admin's own password form.
    path("admin/login/", admin_login, name="admin_login"),
    path("", include("plnorg.aliases")),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.error_400"
handler403 = "core.views.error_403"
handler404 = "core.views.error_404"
handler500 = "core.views.error_500"
