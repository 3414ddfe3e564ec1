from django.urls import path

from core import permissions as perm

from . import views

app_name = "members"


def _unsubscribe_sample(user) -> dict:
    from .models import Member
    from .tokens import unsubscribe_token_make

    member = Member.objects.filter(user__email="employee@example.com").first() or Member.objects.first()
    return {"token": unsubscribe_token_make(member=member, kind="digest")} if member else None


perm.register(
    {
        "members:preferences": perm.Access(roles=perm.MEMBERS, text="Take part at your own pace"),
        # Anyone holding the signed link (from an email) may turn that one kind
        # of optional email off, signed in or not.
        "members:unsubscribe": perm.Access(roles=perm.PUBLIC, text="Unsubscribe", sample=_unsubscribe_sample),
        "members:invite": perm.Access(roles=perm.ADMINS, text="Invite people"),
        "members:import_csv": perm.Access(roles=perm.ADMINS, text="Import members from CSV"),
        # The token is the credential; a bad one answers 400 with a message.
        "members:invitation_accept": perm.Access(
            roles=perm.PUBLIC,
            text="This invitation link is not valid",
            sample=lambda user: {"token": "expired"},
            status=400,
        ),
    }
)

urlpatterns: list = [
    path("me/preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("admin-tools/invite/", views.invite, name="invite"),
    path("admin-tools/import-members/", views.import_csv, name="import_csv"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
