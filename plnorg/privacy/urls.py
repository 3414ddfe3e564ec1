from django.urls import path

from core import permissions as perm

from . import views


def _a_leaver(user) -> dict | None:
    from members.models import Member

    pk = Member.objects.active().filter(user__email="ben@example.com").values_list("pk", flat=True).first()
    return {"member_id": pk} if pk else None


perm.register(
    {
        "transparency": perm.Access(roles=perm.MEMBERS, text="What plnorg records about you"),
        "my_data": perm.Access(roles=perm.MEMBERS, text="Download everything plnorg holds about you"),
        "my_data_download": perm.Access(roles=perm.MEMBERS, text='"format_version"', content_type="application/json"),
        "account_delete": perm.Access(roles=perm.MEMBERS, text="deleted", methods=("POST",)),
        "offboarding": perm.Access(roles=perm.ADMINS, text="Offboarding"),
        "offboard": perm.Access(roles=perm.ADMINS, text="Teams they manage", sample=_a_leaver),
    }
)

urlpatterns = [
    path("me/data/", views.my_data, name="my_data"),
    path("me/data/download.json", views.my_data_download, name="my_data_download"),
    path("me/data/delete/", views.account_delete, name="account_delete"),
    path("admin-tools/offboarding/", views.offboarding, name="offboarding"),
    path("admin-tools/offboarding/<int:member_id>/", views.offboard, name="offboard"),
    path("me/transparency/", views.transparency, name="transparency"),
]
