from django.contrib import admin
from django.urls import include, path

from . import metrics, views, views_dashboard, views_introductions, views_lifecycle
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
perm.register(
    {
        "people_you_might_meet": perm.Access(roles=perm.MEMBERS, text="Your introductions"),
        "introductions_opt_in": perm.Access(roles=perm.MEMBERS, text="introductions", methods=("POST",)),
        "introductions_suggestions": perm.Access(roles=perm.LEADERS, text="Introductions you sent"),
        "introduction_new": perm.Access(roles=perm.MEMBERS, text="Introduce two colleagues"),
        "introduction_detail": perm.Access(
            roles=perm.MEMBERS,
            text="Introduction",
            sample=views_introductions.sample_introduction,
            object_rule="only the two people introduced, the sender and admins",
        ),
        "introduction_answer": perm.Access(
            roles=perm.MEMBERS, text="accept", methods=("POST",), object_rule="only the two people introduced"
        ),
        "introduction_met": perm.Access(
            roles=perm.MEMBERS, text="did you meet", methods=("POST",), object_rule="only the two people introduced"
        ),
    }
)


def _a_leaver(user) -> dict | None:
    from members.models import Member

    pk = Member.objects.active().filter(user__email="ben@example.com").values_list("pk", flat=True).first()
    return {"member_id": pk} if pk else None


perm.register(
    {
        "my_data": perm.Access(roles=perm.MEMBERS, text="Download everything plnorg holds about you"),
        "my_data_download": perm.Access(roles=perm.MEMBERS, text='"format_version"', content_type="application/json"),
        "account_delete": perm.Access(roles=perm.MEMBERS, text="deleted", methods=("POST",)),
        "offboarding": perm.Access(roles=perm.ADMINS, text="Offboarding"),
        "offboard": perm.Access(roles=perm.ADMINS, text="Teams they manage", sample=_a_leaver),
    }
)

urlpatterns = [
    path("me/data/", views_lifecycle.my_data, name="my_data"),
    path("me/data/download.json", views_lifecycle.my_data_download, name="my_data_download"),
    path("me/data/delete/", views_lifecycle.account_delete, name="account_delete"),
    path("admin-tools/offboarding/", views_lifecycle.offboarding, name="offboarding"),
    path("admin-tools/offboarding/<int:member_id>/", views_lifecycle.offboard, name="offboard"),
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("me/transparency/", views.transparency, name="transparency"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard/export.csv", views_dashboard.dashboard_export, name="dashboard_export"),
    path("introductions/", views_introductions.people_you_might_meet, name="people_you_might_meet"),
    path("introductions/opt-in", views_introductions.introductions_opt_in, name="introductions_opt_in"),
    path("introductions/new/", views_introductions.introduction_new, name="introduction_new"),
    path("introductions/<int:introduction_id>/", views_introductions.introduction_detail, name="introduction_detail"),
    path(
        "introductions/<int:introduction_id>/answer",
        views_introductions.introduction_answer,
        name="introduction_answer",
    ),
    path("introductions/<int:introduction_id>/met", views_introductions.introduction_met, name="introduction_met"),
    path("leaders/introductions/", views_introductions.introductions_suggestions, name="introductions_suggestions"),
    path("accounts/", include("members.allauth_urls")),
    path("", include("members.urls")),
    path("", include("feeds.urls")),
    path("", include("feeds.reader.urls")),
    path("", include("workshops.urls")),
    # Admins sign in through allauth like everyone (so MFA applies), never
    # through the admin's own password form.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler403 = "plnorg.views.error_403"
handler404 = "plnorg.views.error_404"
handler500 = "plnorg.views.error_500"
