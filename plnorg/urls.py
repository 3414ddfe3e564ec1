from django.contrib import admin
from django.urls import include, path

from . import metrics, views, views_dashboard
from . import permissions as perm

perm.register(
    {
        "landing": perm.Access(roles=perm.PUBLIC, text="personal learning network", redirects=frozenset({perm.MEMBER})),
        "home": perm.Access(roles=perm.MEMBERS, text="Your PLN at a glance"),
        "admin_login": perm.Access(roles=perm.PUBLIC, text="Sign in", redirects=perm.PUBLIC),
        "dashboard": perm.Access(roles=perm.LEADERS, text="Is our PLN working?"),
        "dashboard_export": perm.Access(roles=perm.LEADERS, text="section,figure", content_type="text/csv"),
        "transparency": perm.Access(roles=perm.MEMBERS, text="What plnorg records about you"),
        "metrics": perm.Access(
            roles=perm.PUBLIC, text="a valid token is required", status=403, content_type="text/plain"
        ),
        "healthz": perm.Access(roles=perm.PUBLIC, text='"database"', content_type="application/json"),
    }
)

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("me/transparency/", views.transparency, name="transparency"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard/export.csv", views_dashboard.dashboard_export, name="dashboard_export"),
    path("accounts/", include("members.allauth_urls")),
    path("", include("members.urls")),
    path("", include("feeds.urls")),
    path("", include("workshops.urls")),
    # Admins sign in through allauth like everyone (so MFA applies), never
    # through the admin's own password form.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler403 = "plnorg.views.error_403"
handler404 = "plnorg.views.error_404"
handler500 = "plnorg.views.error_500"
