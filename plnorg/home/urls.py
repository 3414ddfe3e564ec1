from django.urls import path

from core import permissions as perm

from . import views

perm.register(
    {
        "landing": perm.Access(roles=perm.PUBLIC, text="personal learning network", redirects=frozenset({perm.MEMBER})),
        "home": perm.Access(roles=perm.MEMBERS, text="Your PLN at a glance"),
    }
)

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
]
