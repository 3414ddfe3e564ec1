from django.urls import path

from core import permissions as perm

from . import views

perm.register(
    {
        "dashboard": perm.Access(roles=perm.LEADERS, text="Is our PLN working?"),
        "dashboard_export": perm.Access(roles=perm.LEADERS, text="section,figure", content_type="text/csv"),
    }
)

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_export, name="dashboard_export"),
]
